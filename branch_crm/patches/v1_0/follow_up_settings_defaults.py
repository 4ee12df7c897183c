from branch_crm.install import install_defaults


def execute():
	"""Sites installed before follow-ups get the new settings' defaults (horizon, escalation days)."""
	install_defaults()
