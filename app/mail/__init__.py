"""Mail send: the v3 body, the one ingest path every transport uses, batches, MIME and system mail."""
