"""Suppressions: the lists (bounces, blocks, ...), unsubscribe groups (ASM) and drops on send."""
