"""Command line: `python -m detection_ops.tools install [--with GROUP]` or `... doctor`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from detection_ops.tools.doctor import diagnose, render
from detection_ops.tools.install import Status, install
from detection_ops.tools.specs import Layout, find_repo_root, groups, select


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.tools", description=__doc__)
    parser.add_argument("--root", type=Path, help="tools folder (default: <repo>/.tools)")
    commands = parser.add_subparsers(dest="command", required=True)
    installing = commands.add_parser("install", help="install the pinned tools into .tools/")
    optional = [name for name in groups() if name != "default"]
    installing.add_argument(
        "--with",
        dest="extra",
        action="append",
        default=[],
        choices=optional,
        help="also install an optional group",
    )
    commands.add_parser("doctor", help="report every external tool (always exits 0)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    console = console or Console()
    layout = Layout(args.root or find_repo_root(Path.cwd()) / ".tools")
    if args.command == "doctor":
        render(diagnose(layout), console)
        return 0
    outcomes = install(select(tuple(args.extra)), layout, console)
    failed = [outcome.tool.name for outcome in outcomes if outcome.status is Status.FAILED]
    if failed:
        console.print(f"[red]{len(failed)} tool(s) failed: {', '.join(failed)}[/]")
        return 1
    console.print(f"[green]{len(outcomes)} tools ready in {layout.bin}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
