"""Domain authentication (/v3/whitelabel/domains): the DNS records to publish and their validation."""
