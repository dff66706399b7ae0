"""`inv readiness`: the checklist is the seed's, every item has one check, and the real run passes
every item (test_readiness_mutations.py shows each check can fail)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from detection_ops.readiness.checklist import CHECKLIST, SEED, ChecklistError, parse
from detection_ops.readiness.model import REGISTRY
from detection_ops.readiness.report import evaluate
from detection_ops.readiness.sources import Sources

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def repository(require_tool: Callable[[str], str]) -> Sources:
    require_tool("helm")
    return Sources(REPO_ROOT)


# -- the checklist ---------------------------------------------------------------------------


def test_checklist_copy_matches_the_seed() -> None:
    seed = REPO_ROOT / SEED
    if not seed.is_file():
        pytest.skip(f"no seed checklist at {SEED} (outside the repository) to compare with")
    assert (REPO_ROOT / CHECKLIST).read_text() == seed.read_text()


def test_every_checklist_item_has_exactly_one_check() -> None:
    items = parse((REPO_ROOT / CHECKLIST).read_text())
    registered = [(check.section, check.item) for check in REGISTRY]
    assert len(registered) == len(set(registered))
    assert sorted(registered) == sorted(items)
    assert len(items) == 63


def test_a_checklist_without_sections_is_refused() -> None:
    with pytest.raises(ChecklistError, match="before any '## ' section"):
        parse("- [x] an item\n")
    with pytest.raises(ChecklistError, match="no '- \\[x\\] item' lines"):
        parse("# Title\n\n## Section\n")


def test_an_item_without_a_check_fails(repository: Sources) -> None:
    text = (REPO_ROOT / CHECKLIST).read_text() + "- [x] Quantum-safe TLS everywhere\n"
    outcomes = evaluate(text, repository)
    (unknown,) = [o for o in outcomes if o.item == "Quantum-safe TLS everywhere"]
    assert (unknown.passed, unknown.evidence) == (False, "no automated check for this item")


# -- the real run ----------------------------------------------------------------------------


def test_inv_readiness_passes_every_item(repository: Sources) -> None:
    """`inv readiness` for real: exit 0, every item of the checklist printed as PASS."""
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "readiness"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    failing = [line for line in done.stdout.splitlines() if "FAIL" in line]
    assert done.returncode == 0, "\n".join(failing) or done.stdout + done.stderr
    items = parse((REPO_ROOT / CHECKLIST).read_text())
    for _section, item in items:
        assert item in done.stdout, item
    assert f"{len(items)}/{len(items)} items pass" in done.stdout


def test_every_check_names_its_evidence_and_an_existing_proof_test(repository: Sources) -> None:
    for check in REGISTRY:
        assert repository.has_test(check.proof), check.proof
