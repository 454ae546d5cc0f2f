"""Accounts: the state/capability matrix, state changes, first start and seeds, the admin API.

Partners (Account Provisioning) and subusers are sub-areas.
"""
