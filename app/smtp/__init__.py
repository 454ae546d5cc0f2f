"""The SMTP relay: aiosmtpd protocol work kept apart from ingest (which is app.services.mail.accept)."""
