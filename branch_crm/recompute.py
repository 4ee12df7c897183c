"""Moved to ``branch_crm.jobs.recompute``. The old dotted path stays the same module, so jobs queued
and calls made before the move (``branch_crm.recompute.…``) still find what they name."""

import sys

from branch_crm.jobs import recompute

sys.modules[__name__] = recompute
