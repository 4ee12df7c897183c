"""Moved to ``branch_crm.jobs.churn``. The old dotted path stays the same module, so jobs queued
and calls made before the move (``branch_crm.churn.…``) still find what they name."""

import sys

from branch_crm.jobs import churn

sys.modules[__name__] = churn
