"""Command line: `python -m detection_ops.readiness [--root DIR] [--only ITEM]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from detection_ops.readiness.checklist import CHECKLIST, ChecklistError
from detection_ops.readiness.report import evaluate, render
from detection_ops.readiness.sources import Sources
from detection_ops.tools.specs import find_repo_root


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="inv readiness", description=__doc__)
    parser.add_argument("--root", type=Path, help="repository root (default: the one around here)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Print the checklist with PASS/FAIL and evidence per item; 1 when any item fails."""
    args = parse_args(argv)
    # A terminal keeps its width; logs (CI, pipes) get a width that fits a row per item.
    console = console or (Console() if sys.stdout.isatty() else Console(width=200))
    root = (args.root or find_repo_root(Path.cwd())).resolve()
    try:
        outcomes = evaluate((root / CHECKLIST).read_text(encoding="utf-8"), Sources(root))
    except (OSError, ChecklistError) as error:
        console.print(f"[red]error:[/] {CHECKLIST}: {error}")
        return 1
    render(outcomes, console)
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
