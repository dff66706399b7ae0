"""Run every check against the checklist and render the result as a table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from detection_ops.deploy.steps import OperatorError
from detection_ops.readiness import checks  # noqa: F401 - registers the checks
from detection_ops.readiness.checklist import parse
from detection_ops.readiness.model import REGISTRY, Check, Outcome, UnmetError
from detection_ops.readiness.sources import Sources


def run_check(registered: Check, sources: Sources) -> Outcome:
    """Run one check; missing evidence of any kind is a FAIL that says what is missing."""
    try:
        evidence = registered.run(sources)
    except UnmetError as unmet:
        return Outcome(registered.section, registered.item, False, str(unmet))
    except OperatorError as error:  # helm could not render the chart
        return Outcome(registered.section, registered.item, False, error.problem)
    except (KeyError, IndexError, TypeError, ValueError, StopIteration) as error:
        reason = f"evidence missing or malformed: {type(error).__name__} {error}"
        return Outcome(registered.section, registered.item, False, reason)
    if not sources.has_test(registered.proof):
        return Outcome(
            registered.section, registered.item, False, f"proof test missing: {registered.proof}"
        )
    scope = f" [{registered.scope}]" if registered.scope else ""
    return Outcome(
        registered.section, registered.item, True, f"{evidence}; test {registered.proof}{scope}"
    )


def evaluate(checklist_text: str, sources: Sources) -> list[Outcome]:
    """One outcome per checklist item, in the checklist's order; items without a check fail."""
    by_item = {(c.section, c.item): c for c in REGISTRY}
    outcomes = []
    for section, item in parse(checklist_text):
        registered = by_item.get((section, item))
        if registered is None:
            outcomes.append(Outcome(section, item, False, "no automated check for this item"))
        else:
            outcomes.append(run_check(registered, sources))
    listed = set(parse(checklist_text))
    for section, item in by_item.keys() - listed:
        outcomes.append(Outcome(section, item, False, "checked, but not on the checklist"))
    return outcomes


def render(outcomes: list[Outcome], console: Console) -> None:
    table = Table(title="Production readiness", show_lines=False, expand=True)
    table.add_column("section", style="bold", no_wrap=True)
    table.add_column("item", ratio=2)
    table.add_column("result", no_wrap=True)
    table.add_column("evidence", ratio=3)
    previous = ""
    for outcome in outcomes:
        result = "[green]PASS[/]" if outcome.passed else "[red]FAIL[/]"
        section = outcome.section if outcome.section != previous else ""
        previous = outcome.section
        table.add_row(section, outcome.item, result, outcome.evidence)
    console.print(table)
    failed = sum(not o.passed for o in outcomes)
    verdict = "[green]ready[/]" if not failed else f"[red]{failed} item(s) fail[/]"
    console.print(f"{len(outcomes) - failed}/{len(outcomes)} items pass: {verdict}")
