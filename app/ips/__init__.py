"""Dedicated IPs (/v3/ips and partner IP provisioning): the pool, ownership, subuser assignment."""
