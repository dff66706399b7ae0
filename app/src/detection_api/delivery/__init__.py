"""Durable TAK delivery: the outbox drained to TAK servers."""
