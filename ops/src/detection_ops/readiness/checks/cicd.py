"""Checklist "CI/CD": the GitHub Actions workflows, the OIDC roles and the Terraform backends.

The approvals themselves live in GitHub's environment settings, outside the repository: the checks
prove what the repository can show, that every deploy and apply runs behind its environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from detection_ops.infra import ENVIRONMENTS, hcl
from detection_ops.readiness.model import check, require
from detection_ops.readiness.sources import Sources

SECTION = "CI/CD"
WORKFLOW_TESTS = "ops/tests/test_workflows.py"
AWS_LOGIN = "aws-actions/configure-aws-credentials@"
DEPLOYING = re.compile(r"\binv (deploy|apply) --env (\S+)")
Job = dict[str, Any]


def _jobs(s: Sources, name: str) -> Iterator[tuple[str, Job]]:
    for job_name, job in s.workflow(name)["jobs"].items():
        yield f".github/workflows/{name} jobs.{job_name}", job


def _runs(job: Job) -> list[str]:
    return [" ".join(step["run"].split()) for step in job.get("steps", []) if "run" in step]


def _tasks(s: Sources, name: str) -> list[str]:
    """The invoke tasks a workflow runs, in file order."""
    return [m[1] for run in s.runs(name) for m in re.finditer(r"\binv ([\w-]+)", run)]


def _targets(job: Job) -> list[str]:
    """Environments a job deploys or applies to (`$ENVIRONMENT` resolved from the job's env)."""
    targets = []
    for run in _runs(job):
        for match in DEPLOYING.finditer(run):
            target = match[2].strip('"')
            targets.append(
                str(job.get("env", {}).get("ENVIRONMENT", ""))
                if target == "$ENVIRONMENT"
                else target
            )
    return targets


def _environment(job: Job) -> str:
    environment = job.get("environment", "")
    return str(environment.get("name", "") if isinstance(environment, dict) else environment)


def _in_order(tasks: list[str], wanted: list[str], where: str) -> None:
    positions = [tasks.index(task) if task in tasks else -1 for task in wanted]
    missing = [task for task, position in zip(wanted, positions, strict=True) if position < 0]
    require(not missing, f"{where}: never runs `inv {'`, `inv '.join(missing)}`")
    require(positions == sorted(positions), f"{where}: stages out of order {tasks}")


@check(
    SECTION,
    "Application pipeline: lint, test, build, scan, deploy, validate",
    f"{WORKFLOW_TESTS}::test_app_pipeline_stages_in_order",
    scope="validate = the deploy's smoke test and SLO watch (ops/src/detection_ops/deploy/flow.py)",
)
def app_pipeline(s: Sources) -> str:
    _in_order(
        _tasks(s, "app.yml"),
        ["lint", "test", "build", "scan", "deploy"],
        ".github/workflows/app.yml",
    )
    flow = s.text("ops/src/detection_ops/deploy/flow.py")
    require("smoke_test(" in flow and "watch(" in flow, "deploy flow: no smoke test or SLO watch")
    return (
        "app.yml: inv lint -> test -> build -> scan -> deploy "
        "(smoke test + SLO watch in deploy/flow.py)"
    )


@check(
    SECTION,
    "Infrastructure pipeline: validate, security scan, plan, apply",
    f"{WORKFLOW_TESTS}::test_infra_plans_every_environment_and_applies_only_the_saved_plan",
)
def infra_pipeline(s: Sources) -> str:
    require(
        any(run.endswith("inv test --args infra/tests") for run in s.runs("infra.yml")),
        "infra.yml: no validate/scan step",
    )
    offline = s.text("infra/tests/test_terraform_offline.py")
    require("validate" in offline, "infra/tests/test_terraform_offline.py: no terraform validate")
    _in_order(_tasks(s, "infra.yml"), ["test", "plan", "apply"], ".github/workflows/infra.yml")
    return (
        "infra.yml: inv test --args infra/tests (fmt, validate, checkov, trivy) "
        "-> inv plan -> inv apply"
    )


@check(
    SECTION,
    "OIDC-based AWS authentication (no long-lived credentials)",
    "infra/tests/test_checklist_storage_and_pipelines.py::test_oidc_based_aws_authentication_no_long_lived_credentials",
)
def oidc(s: Sources) -> str:
    logins = 0
    for name in ("app.yml", "infra.yml"):
        require(
            s.workflow(name).get("permissions") == {"contents": "read"},
            f"{name}: default permissions",
        )
        for where, job in _jobs(s, name):
            for step in job.get("steps", []):
                if not step.get("uses", "").startswith(AWS_LOGIN):
                    continue
                logins += 1
                inputs = step.get("with", {})
                require("role-to-assume" in inputs, f"{where}: AWS login without a role")
                require(
                    not {"aws-access-key-id", "aws-secret-access-key"} & set(inputs),
                    f"{where}: static keys",
                )
                require(
                    job.get("permissions", {}).get("id-token") == "write",
                    f"{where}: no id-token: write",
                )
        require("secrets.AWS" not in s.text(f".github/workflows/{name}"), f"{name}: AWS secrets")
    require(logins, "no workflow job assumes an AWS role")
    provider = s.resource("github-oidc", "aws_iam_openid_connect_provider", "github")
    require(
        provider.get("url") == "https://token.actions.githubusercontent.com", "OIDC provider url"
    )
    return (
        f"{logins} OIDC role logins (id-token: write, no keys); infra/modules/github-oidc provider"
    )


def _gated_jobs(s: Sources) -> list[tuple[str, Job, list[str]]]:
    return [
        (where, job, _targets(job))
        for name in ("app.yml", "infra.yml")
        for where, job in _jobs(s, name)
        if _targets(job)
    ]


@check(
    SECTION,
    "Environment-specific deployment gates",
    f"{WORKFLOW_TESTS}::test_workflow_follows_rule",
)
def environment_gates(s: Sources) -> str:
    gated = _gated_jobs(s)
    require(gated, "no workflow job deploys or applies")
    for where, job, targets in gated:
        for target in targets:
            require(
                _environment(job) == target,
                f"{where}: targets {target} outside environment {_environment(job)!r}",
            )
        require(job.get("concurrency"), f"{where}: no concurrency group")
    return f"{len(gated)} deploy/apply jobs each run in the environment they target, one at a time"


@check(
    SECTION,
    "Production requires manual approval",
    f"{WORKFLOW_TESTS}::test_workflow_follows_rule",
    scope="repo side only: required reviewers are a setting of GitHub's `production` environment",
)
def production_approval(s: Sources) -> str:
    production = [(where, job) for where, job, targets in _gated_jobs(s) if "production" in targets]
    require(production, "no job deploys or applies production")
    for where, job in production:
        require(
            _environment(job) == "production", f"{where}: production outside environment production"
        )
    jobs = ", ".join(where.split(" jobs.")[1] for where, _ in production)
    return f"jobs {jobs}: environment production (reviewers set in GitHub, not provable here)"


@check(
    SECTION,
    "Terraform state in S3 with DynamoDB locking",
    "infra/tests/test_checklist_storage_and_pipelines.py::test_terraform_state_in_s3_with_dynamodb_locking",
)
def terraform_state(s: Sources) -> str:
    for environment in ENVIRONMENTS:
        relative = f"infra/envs/{environment}/backend.tf"
        (terraform,) = hcl.load_file(s.path(relative))["terraform"]
        (backend,) = terraform["backend"]
        s3 = backend.get("s3", {})
        require(
            s3.get("dynamodb_table") and s3.get("encrypt") is True,
            f"{relative}: backend s3 lock/encrypt",
        )
    s.resource("state-backend", "aws_dynamodb_table", "locks")
    return (
        "infra/envs/*/backend.tf backend s3 (encrypt, dynamodb_table); "
        "state-backend aws_dynamodb_table.locks"
    )
