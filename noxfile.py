"""Nox sessions: lint, typecheck, tests. Every session installs from the locked `uv.lock`."""

from __future__ import annotations

import os
import shutil

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.error_on_missing_interpreters = True

PYTHON = "3.12"
TOOLS_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".tools", "bin")


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
    # GitHub Actions: actionlint (with shellcheck on every run: script) and zizmor (offline audits).
    path = os.pathsep.join([TOOLS_BIN, os.environ.get("PATH", "")])
    if actionlint := pinned_tool(session, "actionlint", path):
        session.run(actionlint, "-color=false", external=True, env={"PATH": path})
    if zizmor := pinned_tool(session, "zizmor", path):
        session.run(zizmor, "--offline", ".github", external=True)


def pinned_tool(session: nox.Session, name: str, path: str) -> str | None:
    """A tool from `uv run inv tools`: missing fails the session in CI, skips the check locally."""
    found = shutil.which(name, path=path)
    if found is None:
        message = f"{name} not found: run `uv run inv tools` to install it into .tools/bin"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            session.error(message)
        session.warn(f"{message} (check skipped outside CI)")
    return found


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
