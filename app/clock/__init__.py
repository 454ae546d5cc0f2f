"""The mirror clock: real time plus an offset that tests move forward (/_mirror/clock)."""
