"""The delivery simulator: each recipient's fate, its rules, and events falling due."""
