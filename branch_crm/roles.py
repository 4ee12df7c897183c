"""Role names and who sees what: plain constants, importable without frappe."""

ADMIN = "Branch CRM Admin"
BRANCH_MANAGER = "Branch Manager"
RELATIONSHIP_MANAGER = "Relationship Manager"
PRIVATE_BANKER = "Private Banker"
LOBBY_MANAGER = "Lobby Manager"
TELLER = "Bank Teller"
INTEGRATION = "Branch CRM Integration"

ALL_ROLES = (ADMIN, BRANCH_MANAGER, RELATIONSHIP_MANAGER, PRIVATE_BANKER, LOBBY_MANAGER, TELLER, INTEGRATION)
STAFF_ROLES = (BRANCH_MANAGER, RELATIONSHIP_MANAGER, PRIVATE_BANKER, LOBBY_MANAGER, TELLER)

# Roles that see every customer of every branch. The integration role is not one of them: it writes
# through the intake API and reads nothing.
UNRESTRICTED_ROLES = frozenset({"Administrator", "System Manager", ADMIN})
# Roles that own a book of customers.
BOOK_ROLES = frozenset({RELATIONSHIP_MANAGER, PRIVATE_BANKER})
# Roles that see the customers of their own branch (tellers and lobby managers the basic fields only).
BRANCH_ROLES = frozenset({BRANCH_MANAGER, LOBBY_MANAGER, TELLER})
# Roles that can work a follow-up: open the customer's plan and log the contact.
FOLLOW_UP_ROLES = frozenset({BRANCH_MANAGER, RELATIONSHIP_MANAGER, PRIVATE_BANKER, LOBBY_MANAGER})
# Staff record role types whose holders work their own follow-ups; a teller's customers are worked
# by the branch's lobby manager (or, without one, its branch manager).
FOLLOW_UP_ROLE_TYPES = ("Relationship Manager", "Private Banker", "Branch Manager", "Lobby Manager")

# Which Relationship Manager "role_type" each desk role corresponds to.
ROLE_TYPE_TO_ROLE = {
	"Relationship Manager": RELATIONSHIP_MANAGER,
	"Private Banker": PRIVATE_BANKER,
	"Branch Manager": BRANCH_MANAGER,
	"Lobby Manager": LOBBY_MANAGER,
	"Teller": TELLER,
}


def access_scope(roles: set[str] | frozenset[str], branch: str | None, active: bool = True) -> str:
	"""The widest scope a user's roles give: "all", "branch", "book" or "none".

	Staff see customers only through an active staff record: branch managers, lobby managers and
	tellers are bound to its branch (none without one, rather than everything), relationship managers
	and private bankers to their own book; a deactivated record sees nothing."""
	if roles & UNRESTRICTED_ROLES:
		return "all"
	if not active:
		return "none"
	if BRANCH_MANAGER in roles and branch:
		return "branch"
	if roles & BOOK_ROLES:
		return "book"
	if roles & BRANCH_ROLES and branch:
		return "branch"
	return "none"


def fact_scope(roles: set[str] | frozenset[str], branch: str | None, active: bool = True) -> str:
	"""Scope for a customer's working records (contact plans and logs): a lobby manager or teller,
	who sees the branch's profiles at the basic level, works only their own book."""
	scope = access_scope(roles, branch, active)
	if scope == "branch" and BRANCH_MANAGER not in roles:
		return "book"
	return scope
