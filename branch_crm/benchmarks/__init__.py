"""Benchmarks that print figures on a real site. Not tests: run them with bench execute."""
