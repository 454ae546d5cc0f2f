"""Fault injection: rules kept in the database, matched per request at the HTTP edge (/_mirror/faults)."""
