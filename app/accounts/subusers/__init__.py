"""Subusers (/v3/subusers): child accounts with their own keys, password and assigned IPs."""
