"""Account Provisioning (/v3/partners): a partner creates and governs its customer accounts."""
