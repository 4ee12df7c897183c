"""Pure report builders: frames in, a ``ReportResult`` (columns, data, chart, summary) out. Never
imports frappe: the Frappe script reports and the offline CLI both call these."""
