"""Sender identity: verified single senders and authenticated domains, and what the mirror seeds of them."""
