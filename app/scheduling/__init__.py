"""Scheduled sends: `send_at`, batch pauses and cancellations, and the scheduler that delivers."""
