"""The SMTP relay: aiosmtpd protocol work kept apart from ingest (which is app.mail.service.accept)."""
