"""Role names and who sees what: plain constants, importable without frappe."""

ADMIN = "Branch CRM Admin"
BRANCH_MANAGER = "Branch Manager"
RELATIONSHIP_MANAGER = "Relationship Manager"
PRIVATE_BANKER = "Private Banker"
LOBBY_MANAGER = "Lobby Manager"
TELLER = "Bank Teller"
INTEGRATION = "Branch CRM Integration"

ALL_ROLES = (ADMIN, BRANCH_MANAGER, RELATIONSHIP_MANAGER, PRIVATE_BANKER, LOBBY_MANAGER, TELLER, INTEGRATION)

# Roles that see every customer of every branch.
UNRESTRICTED_ROLES = frozenset({"Administrator", "System Manager", ADMIN, INTEGRATION})
# Roles that own a book of customers.
BOOK_ROLES = frozenset({RELATIONSHIP_MANAGER, PRIVATE_BANKER})
# Roles that see the customers of their own branch (tellers only the basic, permlevel 0 fields).
BRANCH_ROLES = frozenset({BRANCH_MANAGER, LOBBY_MANAGER, TELLER})

# Which Relationship Manager "role_type" each desk role corresponds to.
ROLE_TYPE_TO_ROLE = {
	"Relationship Manager": RELATIONSHIP_MANAGER,
	"Private Banker": PRIVATE_BANKER,
	"Branch Manager": BRANCH_MANAGER,
	"Lobby Manager": LOBBY_MANAGER,
	"Teller": TELLER,
}


def access_scope(roles: set[str] | frozenset[str], branch: str | None) -> str:
	"""The widest scope a user's roles give: "all", "branch", "book" or "none".

	Branch managers, lobby managers and tellers are bound to the branch of their staff record; a user
	with a branch role but no branch on record sees nothing rather than everything."""
	if roles & UNRESTRICTED_ROLES:
		return "all"
	if BRANCH_MANAGER in roles and branch:
		return "branch"
	if roles & BOOK_ROLES:
		return "book"
	if roles & BRANCH_ROLES and branch:
		return "branch"
	return "none"
