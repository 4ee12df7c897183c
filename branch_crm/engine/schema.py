"""The column contract shared by the intake API, CSV import, the sample generator and the engine.

Column names are the doctype fieldnames, and every customer-level frame is keyed on ``customer``
(the core-banking customer number, which is also the ERPNext Customer name and the profile name).
Select options mirror the doctype JSON; ``tests/test_doctypes.py`` fails if the two drift apart.
"""

OCCUPATION_CATEGORIES = (
	"Salaried",
	"Civil Servant",
	"Professional",
	"Business Owner",
	"Self-employed",
	"Retired",
	"Student",
	"Homemaker",
	"Other",
)
LIFE_STAGES = ("Youth", "Young Family", "Mature Family", "Pre-retirement", "Retired")
FAMILY_STAGES = ("Single", "Married", "Young Family", "Mature Family", "Empty Nest", "Retired")
INCOME_BANDS = ("Below 100k", "100k-300k", "300k-600k", "600k-1M", "1M-3M", "Above 3M")
RISK_PREFERENCES = ("C1 Conservative", "C2 Cautious", "C3 Balanced", "C4 Growth", "C5 Aggressive")
CHANNELS = ("Phone", "WeChat", "SMS", "Visit", "Email", "Mobile App")
INTENT_LEVELS = ("Unknown", "Low", "Medium", "High")
ACQUISITION_CHANNELS = ("Natural Walk-in", "Staff Referral", "Customer Referral", "Outbound Marketing")
ID_TYPES = (
	"Resident ID Card",
	"Passport",
	"Hong Kong/Macau Pass",
	"Taiwan Pass",
	"Foreign Permanent Residence Card",
	"Other",
)
PROFILE_STATUSES = ("Active", "Dormant", "Closed")
STAFF_ROLE_TYPES = ("Relationship Manager", "Private Banker", "Branch Manager", "Lobby Manager", "Teller")
PRODUCT_CATEGORIES = (
	"Deposit",
	"Wealth Management",
	"Fund",
	"Insurance",
	"Loan",
	"Card",
	"Payroll",
	"Digital",
)
PRODUCT_SUBCATEGORIES = (
	"General",
	"Demand Deposit",
	"Time Deposit",
	"Pension",
	"Home Insurance",
	"Life Insurance",
	"Health Insurance",
	"Mortgage",
	"Consumer Loan",
	"Business Loan",
	"Debit Card",
	"Credit Card",
	"Payroll Service",
	"Mobile Banking",
)
RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")

# Intake shapes: what core banking sends, per record. The key columns identify a record, so that
# sending the same batch twice changes nothing.
CUSTOMER_COLUMNS = (
	"customer",
	"customer_name",
	"branch",
	"relationship_manager",
	"status",
	"gender",
	"date_of_birth",
	"id_type",
	"id_number",
	"mobile_no",
	"email_id",
	"address",
	"occupation_category",
	"occupation",
	"employer",
	"income_band",
	"declared_annual_income",
	"family_stage",
	"risk_preference",
	"investment_intent",
	"hobbies",
	"channel_preference",
	"do_not_contact",
	"intent_level",
	"acquisition_channel",
	"acquired_on",
	"first_served_by",
	"referred_by_staff",
	"referred_by_customer",
)
CUSTOMER_KEY = ("customer",)

HOLDING_COLUMNS = ("customer", "product", "account_no", "balance", "opened_on", "matures_on")
HOLDING_KEY = ("customer", "product", "account_no")

SNAPSHOT_AMOUNT_COLUMNS = (
	"aum",
	"deposits",
	"investments",
	"loans",
	"contribution",
	"inflow",
	"outflow",
	"salary_credit",
)
SNAPSHOT_COUNT_COLUMNS = ("txn_count", "large_txn_count", "bill_payments", "digital_logins", "complaints")
SNAPSHOT_COLUMNS = ("customer", "month", *SNAPSHOT_AMOUNT_COLUMNS, *SNAPSHOT_COUNT_COLUMNS)
SNAPSHOT_KEY = ("customer", "month")

STAFF_COLUMNS = ("user", "full_name", "branch", "role_type", "max_customers", "max_aum")
PRODUCT_COLUMNS = ("product_code", "product_name", "category", "subcategory", "risk_level")

INTAKE_KINDS = ("customers", "holdings", "snapshots")
