"""Retention: the oldest messages beyond a count, and those past an age, pruned in the background."""
