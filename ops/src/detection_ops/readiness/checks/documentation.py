"""Checklist "Documentation": architecture, ADRs, cost page, runbook links of the alerts."""

from __future__ import annotations

import re

from detection_ops.observability.rules import RULES_FILE, runbook_path
from detection_ops.readiness.model import check, present, require
from detection_ops.readiness.sources import Sources

SECTION = "Documentation"
DOCS_TESTS = "ops/tests/test_docs.py"
ADR_TEST = f"{DOCS_TESTS}::test_adrs_are_accepted_with_context_decision_consequences"
ADR_SECTIONS = ("## Context", "## Decision", "## Consequences")
ARCHITECTURE_SECTIONS = ("## Components", "## Data flow", "## Failure modes", "## Deployment")


def _adr(s: Sources, slug: str, topic: str) -> str:
    """The accepted ADR whose file name contains `slug`, with context, decision, consequences."""
    found = sorted((s.root / "docs" / "adr").glob(f"[0-9][0-9][0-9][0-9]-*{slug}*.md"))
    require(found, f"docs/adr: no ADR on {topic} (*{slug}*.md)")
    text = found[0].read_text(encoding="utf-8")
    relative = found[0].relative_to(s.root)
    require(re.search(r"^- Status: accepted$", text, re.MULTILINE), f"{relative}: not accepted")
    for heading in ADR_SECTIONS:
        require(heading in text, f"{relative}: no '{heading}' section")
    return f"{relative}: accepted; context, decision, consequences"


@check(
    SECTION,
    "Infrastructure architecture document",
    f"{DOCS_TESTS}::test_architecture_covers_components_data_flow_failures_and_deployment",
)
def architecture(s: Sources) -> str:
    text = s.text("docs/architecture.md")
    for heading in ARCHITECTURE_SECTIONS:
        require(
            re.search(rf"^{heading}", text, re.MULTILINE), f"docs/architecture.md: no '{heading}'"
        )
    diagrams = text.count("```mermaid")
    require(diagrams, "docs/architecture.md: no Mermaid diagram")
    return (
        "docs/architecture.md: components, data flow, failure modes, deployment; "
        f"{diagrams} Mermaid diagrams"
    )


@check(
    SECTION,
    "ADR: Cloud provider selection (AWS EKS)",
    "infra/tests/test_cost_and_docs.py::test_adr_cloud_provider_selection_aws_eks",
)
def adr_cloud(s: Sources) -> str:
    return _adr(s, "aws-eks", "the cloud provider")


@check(
    SECTION,
    "ADR: Deployment strategy (Blue/Green)",
    ADR_TEST,
)
def adr_blue_green(s: Sources) -> str:
    return _adr(s, "blue-green", "the deployment strategy")


@check(
    SECTION,
    "ADR: Observability stack (Prometheus/Grafana/Loki)",
    ADR_TEST,
)
def adr_observability(s: Sources) -> str:
    return _adr(s, "observability", "the observability stack")


@check(
    SECTION,
    "Cost estimates per environment",
    "infra/tests/test_cost_and_docs.py::test_cost_estimates_per_environment",
)
def cost(s: Sources) -> str:
    text = s.text("docs/cost.md")
    for environment in ("dev", "staging", "production"):
        section = present(
            re.search(rf"^## {environment}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL),
            f"docs/cost.md: no '## {environment}' section",
        )
        require(
            re.search(r"\| \d[\d,]*\.\d\d \|", section[1]),
            f"docs/cost.md {environment}: no figures",
        )
    return (
        "docs/cost.md: monthly figures for dev, staging, production (generated, --check in tests)"
    )


@check(
    SECTION,
    "Runbook references in alert annotations",
    f"{DOCS_TESTS}::test_every_runbook_url_points_at_a_runbook",
)
def runbook_references(s: Sources) -> str:
    alerts = s.alerts()
    require(alerts, f"{RULES_FILE}: no alerts")
    for alert in alerts:
        url = alert.annotations.get("runbook_url", "")
        require(url, f"{RULES_FILE} {alert.name}: no runbook_url annotation")
        try:
            path = runbook_path(url)
        except ValueError as error:
            require(False, str(error))
            raise
        require((s.root / path).is_file(), f"{RULES_FILE} {alert.name}: {path} does not exist")
    return f"{RULES_FILE}: all {len(alerts)} alerts link an existing docs/runbooks/*.md"
