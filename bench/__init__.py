"""`python -m bench.run`: mail-send throughput of the mirror against a bare FastAPI ceiling (not a test)."""
