"""The Event Webhook: settings and signing, the payload, dispatch with retries, and the delivery log."""
