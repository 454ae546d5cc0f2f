"""The web console: templates, static files and page helpers."""
