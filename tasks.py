"""Invoke tasks: the same entry points on a laptop and in CI. Logic lives in `detection_ops`."""

from __future__ import annotations

import importlib

from invoke import Context, Exit, task

ENV = "dev, staging or production"


def _ops(module: str, *argv: str) -> None:
    """Run `detection_ops.<module>`'s `main(argv)` in this process (imported only when the task
    runs, so `inv --list` stays fast); a non-zero result becomes the exit code."""
    if code := importlib.import_module(f"detection_ops.{module}").main(list(argv)):
        raise Exit(code=code)


def _flag(name: str, on: bool) -> list[str]:
    return [name] if on else []


def _option(name: str, value: str) -> list[str]:
    return [name, value] if value else []


@task(help={"port": "HTTP port (metrics are served on DETECTION_API_METRICS_PORT, 9100)"})
def serve(c: Context, port: int = 8000) -> None:
    """Run the service locally on SQLite under var/, migrated, with a printed development key."""
    c.run("detection-api serve", env={"DETECTION_API_PORT": str(port)}, pty=True)


@task(help={"duration": "seconds of synthetic flight", "port": "service port (0: a free one)"})
def demo(c: Context, duration: float = 30.0, port: int = 0) -> None:
    """Service + local TAK peer + a synthetic drone flight: detections delivered, with accuracy."""
    _ops("demo", "--duration", str(duration), "--port", str(port))


@task
def lint(c: Context) -> None:
    """Formatting, lint rules, YAML style, workflow linters and strict typing."""
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


@task(iterable=["with_"], help={"with_": "also install an optional group, e.g. `--with docker`"})
def tools(c: Context, with_: list[str] | None = None) -> None:
    """Install the pinned external tools (helm, checkov, trivy, promtool...) into .tools/bin."""
    _ops("tools.__main__", "install", *(f"--with={group}" for group in with_ or []))


@task
def doctor(c: Context) -> None:
    """Report every external tool the tasks use: found or missing, version, how to install."""
    _ops("tools.__main__", "doctor")


@task(help={"env": ENV})
def plan(c: Context, env: str) -> None:
    """Terraform plan of an environment, saved to var/plans/<env>.tfplan for review."""
    _ops("infra.terraform", "plan", "--env", env)


@task(help={"env": ENV})
def apply(c: Context, env: str) -> None:
    """Apply the saved, reviewed plan of an environment (run `inv plan` first)."""
    _ops("infra.terraform", "apply", "--env", env)


@task(help={"env": f"{ENV} or an edge node name", "no_verify": "no restore check"})
def backup(c: Context, env: str, no_verify: bool = False) -> None:
    """Back up PostgreSQL and the SQLite queue to the KMS-encrypted bucket, then verify them."""
    _ops("backup.__main__", "backup", "--env", env, *_flag("--no-verify", no_verify))


@task(
    help={
        "env": f"{ENV} or an edge node name",
        "backup": "backup id or `latest`",
        "in_place": "overwrite the configured database instead of restoring into a new one",
        "target_database": "name of the new database",
        "pitr": "RDS instance id: PostgreSQL from a point-in-time restore (latest restorable time)",
    }
)
def restore(
    c: Context,
    env: str,
    backup: str = "latest",
    in_place: bool = False,
    target_database: str = "",
    pitr: str = "",
) -> None:
    """Restore a backup, bring the service up, check rows, and write the DR report."""
    _ops(
        "backup.__main__", "restore", "--env", env, "--backup", backup,
        *_flag("--in-place", in_place), *_option("--target-database", target_database),
        *_option("--pitr", pitr),
    )  # fmt: skip


@task(name="dr-drill", help={"detections": "detections ingested into each source database"})
def dr_drill(c: Context, detections: int = 20) -> None:
    """Backup -> destroy -> restore -> ready on this machine; prints the RTO/RPO report."""
    _ops("backup.__main__", "dr-drill", "--detections", str(detections))


@task(
    help={
        "env": f"{ENV} (selects charts/detection-api/values-<env>.yaml)",
        "image_tag": "image tag to deploy",
        "image_digest": "sha256:... of the image (required by the chart in staging/production)",
        "auto_rollback": "switch back automatically on an SLO breach (default on)",
        "first_deploy": "a new environment: no rollback target exists yet",
        "dry_run": "print the plan (values and manifest diff), change nothing",
        "args": "more options of `python -m detection_ops.deploy deploy --help`",
    }
)
def deploy(
    c: Context,
    env: str,
    image_tag: str = "",
    image_digest: str = "",
    auto_rollback: bool = True,
    first_deploy: bool = False,
    dry_run: bool = False,
    args: str = "",
) -> None:
    """Blue/green deploy: validate rollback, deploy idle, smoke, switch, watch SLIs, scale down."""
    _ops(
        "deploy.__main__", "deploy", "--env", env, "--image-tag", image_tag,
        "--image-digest", image_digest,
        "--auto-rollback" if auto_rollback else "--no-auto-rollback",
        *_flag("--first-deploy", first_deploy), *_flag("--dry-run", dry_run), *args.split(),
    )  # fmt: skip


@task(help={"env": ENV, "args": "more options, e.g. '--context ctx'"})
def rollback(c: Context, env: str, args: str = "") -> None:
    """Switch traffic back to the previous colour (scaled back up first if it was scaled down)."""
    _ops("deploy.__main__", "rollback", "--env", env, *args.split())


@task(
    help={
        "push": "scan, then tag and push to $ECR_REGISTRY/detection-api-<env>",
        "env": f"target environment of --push: {ENV}",
    }
)
def build(c: Context, push: bool = False, env: str = "") -> None:
    """Build the image (tag = git SHA), save it under var/image and write its CycloneDX SBOM."""
    _ops("image.__main__", "build", *_flag("--push", push), *_option("--env", env))


@task(help={"vulnerabilities": "also the CVE scan (online DB; on by default in GitHub Actions)"})
def scan(c: Context, vulnerabilities: bool = False) -> None:
    """trivy misconfiguration and secret scans of the built image (and CVEs where possible)."""
    _ops("image.__main__", "scan", *_flag("--vulnerabilities", vulnerabilities))


@task
def readiness(c: Context) -> None:
    """The production readiness checklist: each item PASS/FAIL with its evidence; 1 on a FAIL."""
    _ops("readiness.__main__")


@task
def ci(c: Context) -> None:
    """lint -> test -> build -> scan -> plan, stopping at the first failure; a summary table."""
    from detection_ops.pipeline import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main():
        raise Exit(code=code)
