"""The docs hold together: every relative link of every markdown page resolves (file and, for
markdown targets, the heading anchor), every ADR is indexed, and every alert's runbook_url points
at an existing runbook."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt

from detection_ops.observability.rules import RULES_FILE, load_rules, runbook_path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
PARSER = MarkdownIt("commonmark").enable("table")


def markdown_files() -> list[Path]:
    readmes = [*REPO_ROOT.glob("charts/*/README.md"), *REPO_ROOT.glob("infra/modules/*/README.md")]
    return sorted([REPO_ROOT / "README.md", *DOCS.rglob("*.md"), *readmes])


def links(text: str) -> Iterator[str]:
    """Targets of the inline links and images of a markdown text (code is not parsed as links)."""
    for token in PARSER.parse(text):
        for child in token.children or []:
            if child.type == "link_open":
                yield str(child.attrGet("href"))
            elif child.type == "image":
                yield str(child.attrGet("src"))


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    tokens = PARSER.parse(text)
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open":
            slug = re.sub(r"[^\w\- ]", "", inline.content.lower()).replace(" ", "-")
            found.add(slug)
    return found


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        parts = urlsplit(target)
        if parts.scheme or target.startswith("//") or target.startswith("mailto:"):
            continue  # external: not checked offline
        path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not path.exists():
            problems.append(f"{target}: {path.relative_to(REPO_ROOT, walk_up=True)} does not exist")
        elif (
            parts.fragment
            and path.suffix == ".md"
            and parts.fragment not in anchors(path.read_text(encoding="utf-8"))
        ):
            problems.append(f"{target}: no heading #{parts.fragment} in {path.name}")
    return problems


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert not broken_links(page)


def test_a_broken_link_or_anchor_is_reported(tmp_path: Path) -> None:
    (tmp_path / "target.md").write_text("# Real heading\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](target.md#real-heading) [gone](missing.md) [anchor](target.md#nowhere)\n"
        "`[not a link](missing.md)` and [external](https://example.com/x.md)\n"
    )
    problems = broken_links(page)
    assert len(problems) == 2
    assert problems[0].startswith("missing.md: ")
    assert problems[1] == "target.md#nowhere: no heading #nowhere in target.md"


def test_every_runbook_url_points_at_a_runbook() -> None:
    alerts = [rule for rule in load_rules(REPO_ROOT / RULES_FILE) if rule.is_alert]
    assert alerts
    for alert in alerts:
        path = REPO_ROOT / runbook_path(alert.annotations["runbook_url"])
        assert path.is_file(), (alert.name, path)


def test_docs_index_lists_every_page_and_adr() -> None:
    index = set(links((DOCS / "README.md").read_text(encoding="utf-8")))
    for adr in sorted((DOCS / "adr").glob("*.md")):
        assert f"adr/{adr.name}" in index, adr.name
    pages = {page.name for page in DOCS.glob("*.md")} - {"README.md"}
    assert pages <= index, f"not in docs/README.md: {sorted(pages - index)}"
    assert "runbooks/README.md" in index


def test_architecture_covers_components_data_flow_failures_and_deployment() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert {"components", "data-flow", "failure-modes", "deployment"} <= anchors(text)
    assert text.count("```mermaid") >= 3
    flow = "HTTP -> validation -> geo -> cot -> store/outbox -> delivery"
    assert flow in text


@pytest.mark.parametrize("adr", sorted((DOCS / "adr").glob("*.md")), ids=lambda p: p.stem)
def test_adrs_are_accepted_with_context_decision_consequences(adr: Path) -> None:
    text = adr.read_text(encoding="utf-8")
    number = adr.name[:4]
    assert text.startswith(f"# ADR {number}: ")
    assert re.search(r"^- Status: accepted$", text, re.MULTILINE)
    for heading in ("## Context", "## Decision", "## Consequences"):
        assert re.search(rf"^{heading}", text, re.MULTILINE), heading
