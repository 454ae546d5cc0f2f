"""Single senders (/v3/verified_senders): create, email a verification link, mark verified."""
