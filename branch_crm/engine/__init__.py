"""The pure decision engine: functions over pandas DataFrames. Never imports frappe."""
