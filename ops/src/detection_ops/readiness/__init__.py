"""The production readiness checklist, proven by the code: one automated check per item.

`inv readiness` reads docs/production-readiness-checklist.md, runs the check registered for every
item against the repository (rendered chart, Terraform HCL, workflows, Prometheus rules, ops code,
docs) and prints PASS/FAIL with the evidence each check found.
"""
