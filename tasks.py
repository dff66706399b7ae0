"""Invoke tasks: the same entry points on a laptop and in CI. Logic lives in `detection_ops`."""

from __future__ import annotations

from invoke import Context, Exit, task


@task(help={"port": "HTTP port (metrics are served on DETECTION_API_METRICS_PORT, 9100)"})
def serve(c: Context, port: int = 8000) -> None:
    """Run the service locally on SQLite under var/, migrated, with a printed development key."""
    c.run("detection-api serve", env={"DETECTION_API_PORT": str(port)}, pty=True)


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


@task(
    help={
        "duration": "seconds of synthetic flight (detections posted)",
        "port": "HTTP port of the service (0 picks a free one)",
    }
)
def demo(c: Context, duration: float = 30.0, port: int = 0) -> None:  # noqa: ARG001 - in-process
    """Service + local TAK peer + a synthetic drone flight: detections delivered, with accuracy."""
    from detection_ops.demo import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["--duration", str(duration), "--port", str(port)]):
        raise Exit(code=code)


@task(name="accuracy-report", help={"out": "output folder (git-ignored)"})
def accuracy_report(c: Context, out: str = "reports/accuracy") -> None:
    """Monte Carlo accuracy report of the geolocation engine: a PNG and a markdown table."""
    c.run(f"python -m detection_ops.accuracy_report --out {out}")


@task(iterable=["with_"], help={"with_": "also install an optional group, e.g. `--with docker`"})
def tools(c: Context, with_: list[str] | None = None) -> None:  # noqa: ARG001 - runs in-process
    """Install the pinned external tools (helm, checkov, trivy, promtool...) into .tools/bin."""
    from detection_ops.tools.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["install", *(f"--with={group}" for group in with_ or [])]):
        raise Exit(code=code)


@task
def doctor(c: Context) -> None:  # noqa: ARG001 - runs in-process
    """Report every external tool the tasks use: found or missing, version, how to install."""
    from detection_ops.tools.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    main(["doctor"])


@task(help={"env": "dev, staging or production"})
def plan(c: Context, env: str) -> None:  # noqa: ARG001 - runs in-process
    """Terraform plan of an environment, saved to var/plans/<env>.tfplan for review."""
    from detection_ops.infra.terraform import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["plan", "--env", env]):
        raise Exit(code=code)


@task(help={"env": "dev, staging or production"})
def apply(c: Context, env: str) -> None:  # noqa: ARG001 - runs in-process
    """Apply the saved, reviewed plan of an environment (run `inv plan` first)."""
    from detection_ops.infra.terraform import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["apply", "--env", env]):
        raise Exit(code=code)


@task(
    help={"env": "dev, staging, production or an edge node name", "no_verify": "no restore check"}
)
def backup(c: Context, env: str, no_verify: bool = False) -> None:  # noqa: ARG001 - in-process
    """Back up PostgreSQL and the SQLite queue to the KMS-encrypted bucket, then verify them."""
    from detection_ops.backup.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["backup", "--env", env, *(["--no-verify"] if no_verify else [])]):
        raise Exit(code=code)


@task(
    help={
        "env": "dev, staging, production or an edge node name",
        "backup": "backup id or `latest`",
        "in_place": "overwrite the configured database instead of restoring into a new one",
        "target_database": "name of the new database",
        "pitr": "RDS instance id: PostgreSQL from a point-in-time restore (latest restorable time)",
    }
)
def restore(  # noqa: PLR0917 - one flag per documented option
    c: Context,  # noqa: ARG001 - runs in-process
    env: str,
    backup: str = "latest",
    in_place: bool = False,
    target_database: str = "",
    pitr: str = "",
) -> None:
    """Restore a backup, bring the service up, check rows, and write the DR report."""
    from detection_ops.backup.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    args = ["restore", "--env", env, "--backup", backup]
    args += ["--in-place"] if in_place else []
    args += ["--target-database", target_database] if target_database else []
    args += ["--pitr", pitr] if pitr else []
    if code := main(args):
        raise Exit(code=code)


@task(name="dr-drill", help={"detections": "detections ingested into each source database"})
def dr_drill(c: Context, detections: int = 20) -> None:  # noqa: ARG001 - runs in-process
    """Backup -> destroy -> restore -> ready on this machine; prints the RTO/RPO report."""
    from detection_ops.backup.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["dr-drill", "--detections", str(detections)]):
        raise Exit(code=code)


@task(
    help={
        "env": "dev, staging or production (selects charts/detection-api/values-<env>.yaml)",
        "image_tag": "image tag to deploy",
        "image_digest": "sha256:... of the image (required by the chart in staging/production)",
        "auto_rollback": "switch back automatically on an SLO breach (default on)",
        "first_deploy": "a new environment: no rollback target exists yet",
        "dry_run": "print the plan (values and manifest diff), change nothing",
        "args": "more options of `python -m detection_ops.deploy deploy --help`",
    }
)
def deploy(  # noqa: PLR0917 - one flag per documented option
    c: Context,  # noqa: ARG001 - runs in-process
    env: str,
    image_tag: str = "",
    image_digest: str = "",
    auto_rollback: bool = True,
    first_deploy: bool = False,
    dry_run: bool = False,
    args: str = "",
) -> None:
    """Blue/green deploy: validate rollback, deploy idle, smoke, switch, watch SLIs, scale down."""
    from detection_ops.deploy.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    argv = ["deploy", "--env", env, "--image-tag", image_tag, "--image-digest", image_digest]
    argv += ["--auto-rollback" if auto_rollback else "--no-auto-rollback"]
    argv += ["--first-deploy"] * first_deploy + ["--dry-run"] * dry_run + args.split()
    if code := main(argv):
        raise Exit(code=code)


@task(help={"env": "dev, staging or production", "args": "more options, e.g. '--context ctx'"})
def rollback(c: Context, env: str, args: str = "") -> None:  # noqa: ARG001 - runs in-process
    """Switch traffic back to the previous colour (scaled back up first if it was scaled down)."""
    from detection_ops.deploy.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["rollback", "--env", env, *args.split()]):
        raise Exit(code=code)


@task(
    help={
        "push": "scan, then tag and push to $ECR_REGISTRY/detection-api-<env>",
        "env": "target environment of --push: dev, staging or production",
        "base_image": "BASE_IMAGE build argument (default: the Dockerfile's pinned base)",
    }
)
def build(c: Context, push: bool = False, env: str = "", base_image: str = "") -> None:  # noqa: ARG001 - runs in-process
    """Build the image (tag = git SHA), save it under var/image and write its CycloneDX SBOM."""
    from detection_ops.image.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    args = ["build", *(["--push"] if push else []), *(["--env", env] if env else [])]
    if code := main(args + (["--base-image", base_image] if base_image else [])):
        raise Exit(code=code)


@task(help={"vulnerabilities": "also the CVE scan (online DB; on by default in GitHub Actions)"})
def scan(c: Context, vulnerabilities: bool = False) -> None:  # noqa: ARG001 - runs in-process
    """trivy misconfiguration and secret scans of the built image (and CVEs where possible)."""
    from detection_ops.image.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main(["scan", *(["--vulnerabilities"] if vulnerabilities else [])]):
        raise Exit(code=code)


@task
def readiness(c: Context) -> None:  # noqa: ARG001 - runs in-process
    """The production readiness checklist: each item PASS/FAIL with its evidence; 1 on a FAIL."""
    from detection_ops.readiness.__main__ import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main([]):
        raise Exit(code=code)


@task
def ci(c: Context) -> None:  # noqa: ARG001 - runs in-process
    """lint -> test -> build -> scan -> plan, stopping at the first failure; a summary table."""
    from detection_ops.pipeline import main  # noqa: PLC0415 - keeps `inv --list` fast

    if code := main():
        raise Exit(code=code)
