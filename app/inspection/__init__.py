"""The inspection API (/_mirror/messages): find, read, wait for and delete stored mail."""
