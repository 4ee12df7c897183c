"""Moved to ``branch_crm.jobs.needs``. The old dotted path stays the same module, so jobs queued
and calls made before the move (``branch_crm.needs.…``) still find what they name."""

import sys

from branch_crm.jobs import needs

sys.modules[__name__] = needs
