"""Benchmarks: each reports figures as ratios against a baseline measured in the same process.

`python -m detection_ops.bench [--geo] [--quick]` runs the selected benchmarks (all when none is
selected). A benchmark is a module of this package with `run(console, quick)`; register it in
`BENCHMARKS` to get its `--<name>` flag.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from rich.console import Console

#: flag name -> (module, help). Add a line here to register a new benchmark.
BENCHMARKS: dict[str, tuple[str, str]] = {
    "geo": ("detection_ops.bench.geo", "geolocation engine throughput (rays/s)"),
    "ingest": ("detection_ops.bench.ingest", "service ingest over loopback vs a FastAPI baseline"),
    "delivery": ("detection_ops.bench.delivery", "TAK drain rate and accepted -> TAK latency"),
}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.bench", description=__doc__)
    for name, (_, help_text) in BENCHMARKS.items():
        parser.add_argument(f"--{name}", action="store_true", help=help_text)
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the selected benchmarks; returns the process exit code."""
    arguments = parse(argv)
    selected = [name for name in BENCHMARKS if getattr(arguments, name)] or list(BENCHMARKS)
    console = console or Console()
    for name in selected:
        module = importlib.import_module(BENCHMARKS[name][0])
        module.run(console, quick=arguments.quick)
    return 0
