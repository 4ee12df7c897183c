"""Defaults installed on a new site and used by the offline sample: all editable in the desk."""

# Tiers by average AUM (CNY) over the tiering window, lowest first. Ranks leave gaps so a bank can
# insert its own tiers between them.
DEFAULT_TIERS = (
	{
		"tier_name": "Mass",
		"rank": 10,
		"min_avg_aum": 0,
		"min_annual_contribution": 0,
		"serving_role": "Teller",
		"contact_interval_days": 90,
		"complaint_response_hours": 48,
		"color": "#8D99A6",
		"service_strategy": "Serve at the counter and through digital channels; spot potential and refer it up.",
	},
	{
		"tier_name": "Core",
		"rank": 20,
		"min_avg_aum": 200_000,
		"min_annual_contribution": 2_000,
		"serving_role": "Relationship Manager",
		"contact_interval_days": 30,
		"complaint_response_hours": 24,
		"color": "#5E64FF",
		"service_strategy": "Assigned relationship manager; quarterly review of holdings and needs.",
	},
	{
		"tier_name": "VIP",
		"rank": 30,
		"min_avg_aum": 1_000_000,
		"min_annual_contribution": 10_000,
		"serving_role": "Relationship Manager",
		"contact_interval_days": 14,
		"complaint_response_hours": 8,
		"color": "#FFA00A",
		"service_strategy": "Senior relationship manager; monthly contact, priority service, wealth salons.",
	},
	{
		"tier_name": "Private Banking",
		"rank": 40,
		"min_avg_aum": 6_000_000,
		"min_annual_contribution": 60_000,
		"serving_role": "Private Banker",
		"contact_interval_days": 7,
		"complaint_response_hours": 4,
		"color": "#7B1FA2",
		"service_strategy": "Private banker; bespoke planning, family wealth and succession services.",
	},
)

# Segments (Bank Customer Group, seed 001 §2: 4-8 groups by life stage, then occupation). First match
# by priority wins: stages that decide alone first (retirees; students among the young), then the
# occupation whose money works differently (business owners, at any working stage), then the other
# stages. Familiarity is a flag on the profile, not a group: unfamiliar customers land in these same
# groups. The catch-all takes only customers whose life stage cannot be told yet.
DEFAULT_GROUPS = (
	{
		"group_name": "Retirees",
		"priority": 10,
		"life_stage": "Retired",
		"occupation_category": "Any",
		"description": "Retired: stable income products, pension, health insurance, care.",
	},
	{
		"group_name": "Students",
		"priority": 20,
		"life_stage": "Youth",
		"occupation_category": "Student",
		"description": "In education: debit card, mobile banking, first savings habits.",
	},
	{
		"group_name": "Business Owners",
		"priority": 30,
		"life_stage": "Any",
		"occupation_category": "Business Owner",
		"description": "Entrepreneurs of working age: settlement, business loans, family wealth.",
	},
	{
		"group_name": "Young Professionals",
		"priority": 40,
		"life_stage": "Youth",
		"occupation_category": "Any",
		"description": "Early career: payroll, cards, first investments.",
	},
	{
		"group_name": "Young Families",
		"priority": 50,
		"life_stage": "Young Family",
		"occupation_category": "Any",
		"description": "Children at home: mortgage, education savings, protection.",
	},
	{
		"group_name": "Established Families",
		"priority": 60,
		"life_stage": "Mature Family",
		"occupation_category": "Any",
		"description": "Peak earning years: wealth management and asset allocation.",
	},
	{
		"group_name": "Pre-retirees",
		"priority": 70,
		"life_stage": "Pre-retirement",
		"occupation_category": "Any",
		"description": "Ten years to retirement: pension, insurance, capital preservation.",
	},
	{
		"group_name": "Life Stage Unknown",
		"priority": 1000,
		"life_stage": "Any",
		"occupation_category": "Any",
		"description": "Catch-all: no age, family stage or telling occupation on file yet. Ask at the next contact.",
	},
)

DEFAULT_PRODUCTS = (
	{
		"product_code": "DEP-DEMAND",
		"product_name": "Demand Deposit Account",
		"category": "Deposit",
		"subcategory": "Demand Deposit",
		"risk_level": "R1",
	},
	{
		"product_code": "DEP-TIME-1Y",
		"product_name": "1-Year Time Deposit",
		"category": "Deposit",
		"subcategory": "Time Deposit",
		"risk_level": "R1",
	},
	{
		"product_code": "DEP-LARGE-CD",
		"product_name": "Large-Denomination Certificate of Deposit",
		"category": "Deposit",
		"subcategory": "Time Deposit",
		"risk_level": "R1",
	},
	{
		"product_code": "WM-STABLE",
		"product_name": "Stable Income Wealth Plan",
		"category": "Wealth Management",
		"subcategory": "General",
		"risk_level": "R2",
	},
	{
		"product_code": "WM-BALANCED",
		"product_name": "Balanced Wealth Plan",
		"category": "Wealth Management",
		"subcategory": "General",
		"risk_level": "R3",
	},
	{
		"product_code": "FUND-MONEY",
		"product_name": "Money Market Fund",
		"category": "Fund",
		"subcategory": "General",
		"risk_level": "R1",
	},
	{
		"product_code": "FUND-EQUITY",
		"product_name": "Equity Fund",
		"category": "Fund",
		"subcategory": "General",
		"risk_level": "R4",
	},
	{
		"product_code": "INS-LIFE",
		"product_name": "Term Life Insurance",
		"category": "Insurance",
		"subcategory": "Life Insurance",
		"risk_level": "R1",
	},
	{
		"product_code": "INS-HEALTH",
		"product_name": "Critical Illness Insurance",
		"category": "Insurance",
		"subcategory": "Health Insurance",
		"risk_level": "R1",
	},
	{
		"product_code": "INS-HOME",
		"product_name": "Home Insurance",
		"category": "Insurance",
		"subcategory": "Home Insurance",
		"risk_level": "R1",
	},
	{
		"product_code": "PEN-PERSONAL",
		"product_name": "Personal Pension Account",
		"category": "Insurance",
		"subcategory": "Pension",
		"risk_level": "R1",
	},
	{
		"product_code": "LOAN-MORTGAGE",
		"product_name": "Residential Mortgage",
		"category": "Loan",
		"subcategory": "Mortgage",
		"risk_level": "R1",
	},
	{
		"product_code": "LOAN-CONSUMER",
		"product_name": "Consumer Loan",
		"category": "Loan",
		"subcategory": "Consumer Loan",
		"risk_level": "R1",
	},
	{
		"product_code": "LOAN-BUSINESS",
		"product_name": "Small Business Loan",
		"category": "Loan",
		"subcategory": "Business Loan",
		"risk_level": "R1",
	},
	{
		"product_code": "CARD-DEBIT",
		"product_name": "Debit Card",
		"category": "Card",
		"subcategory": "Debit Card",
		"risk_level": "R1",
	},
	{
		"product_code": "CARD-CREDIT",
		"product_name": "Credit Card",
		"category": "Card",
		"subcategory": "Credit Card",
		"risk_level": "R1",
	},
	{
		"product_code": "PAYROLL",
		"product_name": "Payroll Service",
		"category": "Payroll",
		"subcategory": "Payroll Service",
		"risk_level": "R1",
	},
	{
		"product_code": "MOBILE-BANKING",
		"product_name": "Mobile Banking",
		"category": "Digital",
		"subcategory": "Mobile Banking",
		"risk_level": "R1",
	},
)

# Contact cadence, tier x intent level -> days between contacts and the usual channel.
DEFAULT_CADENCE = (
	*(
		{"tier": "Mass", "intent_level": i, "interval_days": d, "channel": "SMS"}
		for i, d in (("Unknown", 90), ("Low", 90), ("Medium", 30), ("High", 14))
	),
	*(
		{"tier": "Core", "intent_level": i, "interval_days": d, "channel": "Phone"}
		for i, d in (("Unknown", 30), ("Low", 30), ("Medium", 14), ("High", 7))
	),
	*(
		{"tier": "VIP", "intent_level": i, "interval_days": d, "channel": "WeChat"}
		for i, d in (("Unknown", 14), ("Low", 14), ("Medium", 7), ("High", 1))
	),
	*(
		{"tier": "Private Banking", "intent_level": i, "interval_days": d, "channel": "Visit"}
		for i, d in (("Unknown", 7), ("Low", 7), ("Medium", 7), ("High", 1))
	),
)

# ERPNext Lead "source" -> how the customer was acquired.
LEAD_SOURCE_TO_ACQUISITION = {
	"Walk In": "Natural Walk-in",
	"Existing Customer": "Customer Referral",
	"Reference": "Staff Referral",
	"Campaign": "Outbound Marketing",
	"Cold Calling": "Outbound Marketing",
	"Advertisement": "Outbound Marketing",
	"Mass Mailing": "Outbound Marketing",
}
