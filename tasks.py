"""Invoke tasks: the same entry points on a laptop and in CI. Logic lives in `detection_ops`."""

from __future__ import annotations

from invoke import Context, task


@task
def lint(c: Context) -> None:
    """Formatting, lint rules, YAML style and strict typing."""
    c.run("nox -s lint typecheck", pty=False)


@task(help={"args": "extra pytest arguments, e.g. '-k geo -x'"})
def test(c: Context, args: str = "") -> None:
    """Run the whole test suite (the README's test command)."""
    c.run(f"nox -s tests -- {args}".rstrip())


@task(help={"geo": "only the geolocation engine benchmark"})
def bench(c: Context, geo: bool = False) -> None:
    """Benchmarks with ratios against a baseline run in the same process."""
    c.run("nox -s bench" + (" -- --geo" if geo else ""))


@task(name="accuracy-report", help={"out": "output folder (git-ignored)"})
def accuracy_report(c: Context, out: str = "reports/accuracy") -> None:
    """Monte Carlo accuracy report of the geolocation engine: a PNG and a markdown table."""
    c.run(f"python -m detection_ops.accuracy_report --out {out}")
