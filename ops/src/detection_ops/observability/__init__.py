"""Observability as code: the rule file read back for tests, dashboards generated from Python."""
