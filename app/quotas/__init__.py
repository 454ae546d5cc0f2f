"""Limits: daily recipient quotas per plan and per-key API rate limits, counted across processes."""
