# Kept free of frappe so that the pure engine, the offline CLI and the pytest suite run without a bench.
__version__ = "0.1.0"
