"""Email Activity (/v3/messages): SendGrid's query language over stored recipients."""
