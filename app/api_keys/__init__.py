"""API keys and scopes: the key format, authentication of `Bearer SG...`, CRUD (/v3/api_keys, /v3/scopes)."""
