"""Nox sessions: lint, typecheck, tests. Every session installs from the locked `uv.lock`."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.12"


def sync(session: nox.Session, *groups: str) -> None:
    """Install the workspace exactly as locked into the session's virtualenv."""
    args = ["uv", "sync", "--locked", "--all-packages", "--inexact"]
    args += [arg for group in groups for arg in ("--group", group)]
    session.run_install(*args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Formatting, lint rules and YAML style."""
    sync(session, "dev")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("yamllint", "--strict", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Strict mypy over the service and the operator toolkit."""
    sync(session, "dev")
    session.run("mypy")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite of every area (app, ops, infra, charts)."""
    sync(session, "dev")
    tools_bin = os.path.join(os.getcwd(), ".tools", "bin")
    path = os.pathsep.join([tools_bin, os.environ.get("PATH", "")])
    session.run("pytest", *session.posargs, env={"PATH": path})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: figures as ratios against a baseline measured in the same run."""
    sync(session, "dev")
    session.run("python", "-m", "detection_ops.bench", *session.posargs)
