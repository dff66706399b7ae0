"""The GitHub Actions workflows follow the supply-chain and least-privilege rules of issue 9.

Each rule is a function returning its violations; every rule is run against the real workflows
(no violation allowed) and against a broken sample (the violation must be reported), so that no
rule can silently stop checking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(?:\.\d+)*$"
)
# One task, its options and quoted variables; no pipes, lists, redirections or substitutions.
TASK_COMMAND = re.compile(
    r"^uv run --locked inv [a-z][\w-]*(?: (?:--?[\w-]+|[\w./-]+|\"\$\w+\"))*$"
)
AWS_LOGIN = "aws-actions/configure-aws-credentials@"
DEPLOYING = re.compile(r"\binv (?:deploy|apply) --env (?:\"\$ENVIRONMENT\"|(\w+))")

Workflow = dict[str, Any]
Rule = Callable[[Workflow, str], list[str]]


def load(path: Path) -> Workflow:
    workflow: Workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on:` as True
    return workflow


def jobs(workflow: Workflow) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from workflow["jobs"].items()


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def runs(job: dict[str, Any]) -> list[str]:
    return [" ".join(step["run"].split()) for step in steps(job) if "run" in step]


def assumes_aws_role(job: dict[str, Any]) -> bool:
    return any(step.get("uses", "").startswith(AWS_LOGIN) for step in steps(job))


# Rules ------------------------------------------------------------------------------------------


def every_action_pinned_by_sha(workflow: Workflow, text: str) -> list[str]:
    """`uses: owner/repo@<40 hex> # vX.Y.Z` on every line, and one SHA per action everywhere."""
    del workflow
    problems, seen = [], {}
    for line in text.splitlines():
        if not re.match(r"^\s*(?:-\s+)?uses:", line):
            continue
        match = PINNED_USES.match(line)
        if match is None:
            problems.append(f"not pinned by full commit SHA with a version comment: {line.strip()}")
            continue
        action, sha = match.groups()
        if seen.setdefault(action, sha) != sha:
            problems.append(f"{action} pinned to two different SHAs")
    return problems


def read_only_by_default(workflow: Workflow, text: str) -> list[str]:
    del text
    permissions = workflow.get("permissions")
    return [] if permissions == {"contents": "read"} else [f"top-level permissions {permissions}"]


def id_token_only_where_a_role_is_assumed(workflow: Workflow, text: str) -> list[str]:
    del text
    problems = []
    for name, job in jobs(workflow):
        permissions = job.get("permissions", {})
        if not isinstance(permissions, dict):
            problems.append(f"{name}: permissions must be a mapping, not {permissions!r}")
            continue
        if (permissions.get("id-token") == "write") != assumes_aws_role(job):
            problems.append(f"{name}: id-token: write if and only if it assumes an AWS role")
        extra = {key: value for key, value in permissions.items() if value == "write"}
        extra.pop("id-token", None)
        if extra and set(extra) != {"pull-requests"}:
            problems.append(f"{name}: write permissions {sorted(extra)}")
        if permissions and permissions.get("contents") != "read":
            problems.append(f"{name}: job permissions must keep contents: read")
    return problems


def roles_from_variables_never_keys(workflow: Workflow, text: str) -> list[str]:
    problems = ["a secret is referenced (OIDC only)"] if "secrets." in text else []
    for name, job in jobs(workflow):
        for step in steps(job):
            if step.get("uses", "").startswith(AWS_LOGIN):
                inputs = step.get("with", {})
                role = str(inputs.get("role-to-assume", ""))
                if not re.fullmatch(r"\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}", role):
                    problems.append(f"{name}: role-to-assume {role!r} is not a repository variable")
                if {"aws-access-key-id", "aws-secret-access-key"} & set(inputs):
                    problems.append(f"{name}: long-lived AWS keys")
    return problems


def every_run_step_is_an_invoke_task(workflow: Workflow, text: str) -> list[str]:
    del text
    return [
        f"{name}: `{command}` is not `uv run --locked inv ...`"
        for name, job in jobs(workflow)
        for command in runs(job)
        if not TASK_COMMAND.match(command)
    ]


def deploys_run_in_their_environment(workflow: Workflow, text: str) -> list[str]:
    """A job that deploys or applies to an environment runs in that GitHub environment (its
    OIDC subject and, for production, its required reviewers), one run at a time."""
    del text
    problems = []
    for name, job in jobs(workflow):
        targets = {m.group(1) or "matrix" for cmd in runs(job) for m in DEPLOYING.finditer(cmd)}
        if not targets:
            continue
        if job.get("env", {}).get("ENVIRONMENT") == "production":
            targets = {"production"}
        environment = str(job.get("environment", ""))
        for target in targets:
            wanted = "${{ matrix.environment }}" if target == "matrix" else target
            if environment != wanted:
                problems.append(f"{name}: deploys to {target} outside environment {wanted}")
        matrix = job.get("strategy", {}).get("matrix", {}).get("environment", [])
        if "production" in matrix:
            problems.append(f"{name}: production must be its own job behind its environment")
        concurrency = job.get("concurrency", {})
        if not concurrency.get("group") or concurrency.get("cancel-in-progress") is not False:
            problems.append(f"{name}: needs a concurrency group that never cancels a deploy")
    return problems


def cancellable_concurrency_for_pull_requests(workflow: Workflow, text: str) -> list[str]:
    del text
    concurrency = workflow.get("concurrency", {})
    problems = [] if concurrency.get("group") else ["no workflow concurrency group"]
    if concurrency.get("cancel-in-progress") != "${{ github.event_name == 'pull_request' }}":
        problems.append("only pull request runs may be cancelled by a newer run")
    return problems


def hardened_jobs(workflow: Workflow, text: str) -> list[str]:
    del text
    problems = []
    for name, job in jobs(workflow):
        if "timeout-minutes" not in job:
            problems.append(f"{name}: no timeout-minutes")
        if not re.fullmatch(r"ubuntu-\d+\.\d+", str(job.get("runs-on"))):
            problems.append(f"{name}: runs-on must be a pinned runner image")
        for step in steps(job):
            if (
                step.get("uses", "").startswith("actions/checkout@")
                and step.get("with", {}).get("persist-credentials") is not False
            ):
                problems.append(f"{name}: checkout must not persist the token")
    return problems


RULES: list[Rule] = [
    every_action_pinned_by_sha,
    read_only_by_default,
    id_token_only_where_a_role_is_assumed,
    roles_from_variables_never_keys,
    every_run_step_is_an_invoke_task,
    deploys_run_in_their_environment,
    cancellable_concurrency_for_pull_requests,
    hardened_jobs,
]
PATHS = sorted(WORKFLOWS.glob("*.yml"))


def test_both_pipelines_exist() -> None:
    assert [path.name for path in PATHS] == ["app.yml", "infra.yml"]


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.name)
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_workflow_follows_rule(path: Path, rule: Rule) -> None:
    text = path.read_text()
    assert rule(load(path), text) == []


# Every rule must catch its violation ------------------------------------------------------------

CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
LINT_JOB = "  lint:\n    name: lint\n"
BROKEN: list[tuple[Rule, str, str, str, str]] = [
    (every_action_pinned_by_sha, "app.yml", CHECKOUT, "actions/checkout@v4", "not pinned"),
    (
        every_action_pinned_by_sha,
        "app.yml",
        CHECKOUT,
        "actions/checkout@" + "0" * 40 + " # v4",
        "two",
    ),
    (
        read_only_by_default,
        "infra.yml",
        "permissions:\n  contents: read\n\nconcurrency",
        "permissions: write-all\n\nconcurrency",
        "top-level permissions",
    ),
    (
        id_token_only_where_a_role_is_assumed,
        "app.yml",
        "      id-token: write # OIDC: assume the staging deploy role\n",
        "",
        "staging: id-token",
    ),
    (
        id_token_only_where_a_role_is_assumed,
        "app.yml",
        LINT_JOB,
        LINT_JOB + "    permissions:\n      contents: read\n      id-token: write\n",
        "lint: id-token",
    ),
    (
        id_token_only_where_a_role_is_assumed,
        "app.yml",
        LINT_JOB,
        LINT_JOB + "    permissions:\n      contents: write\n",
        "lint: write permissions",
    ),
    (
        roles_from_variables_never_keys,
        "infra.yml",
        "${{ vars.AWS_PLAN_ROLE_ARN }}",
        "${{ secrets.AWS_PLAN_ROLE_ARN }}",
        "secret",
    ),
    (
        every_run_step_is_an_invoke_task,
        "app.yml",
        "run: uv run --locked inv lint",
        "run: nox -s lint",
        "`nox -s lint`",
    ),
    (
        # A broken copy that swallows the scan's failure: the rule must reject it.
        every_run_step_is_an_invoke_task,
        "app.yml",
        "run: uv run --locked inv scan",
        "run: uv run --locked inv scan || true",
        "inv scan || true",
    ),
    (
        every_run_step_is_an_invoke_task,
        "infra.yml",
        'run: uv run --locked inv plan --env "$ENVIRONMENT"',
        'run: uv run --locked inv plan --env "$ENVIRONMENT" | tee plan.txt',
        "tee",
    ),
    (
        deploys_run_in_their_environment,
        "app.yml",
        "    environment: production\n",
        "",
        "deploys to production outside environment production",
    ),
    (
        deploys_run_in_their_environment,
        "infra.yml",
        "    environment: production\n",
        "    environment: staging\n",
        "apply-production: deploys to production",
    ),
    (
        deploys_run_in_their_environment,
        "infra.yml",
        "        environment: [dev, staging]\n    environment:",
        "        environment: [dev, staging, production]\n    environment:",
        "production must be its own job",
    ),
    (
        deploys_run_in_their_environment,
        "app.yml",
        "      group: deploy-staging\n      cancel-in-progress: false",
        "      group: deploy-staging\n      cancel-in-progress: true",
        "never cancels",
    ),
    (
        cancellable_concurrency_for_pull_requests,
        "app.yml",
        "cancel-in-progress: ${{ github.event_name == 'pull_request' }}",
        "cancel-in-progress: true",
        "only pull request runs",
    ),
    (
        hardened_jobs,
        "app.yml",
        "persist-credentials: false",
        "persist-credentials: true",
        "persist the token",
    ),
    (hardened_jobs, "infra.yml", "runs-on: ubuntu-24.04", "runs-on: ubuntu-latest", "runner"),
    (hardened_jobs, "infra.yml", "    timeout-minutes: 30\n", "", "timeout-minutes"),
]


@pytest.mark.parametrize(
    ("rule", "name", "old", "new", "expected"),
    BROKEN,
    ids=[f"{case[0].__name__}-{index}" for index, case in enumerate(BROKEN)],
)
def test_rule_reports_a_broken_workflow(
    rule: Rule, name: str, old: str, new: str, expected: str
) -> None:
    text = (WORKFLOWS / name).read_text()
    assert old in text, "the sample no longer matches the workflow: update it"
    broken = text.replace(old, new, 1)
    workflow = yaml.safe_load(broken)
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    problems = rule(workflow, broken)
    assert any(expected in problem for problem in problems), problems


# What each pipeline does ------------------------------------------------------------------------


def task_commands(workflow: Workflow, job: str) -> list[str]:
    return runs(workflow["jobs"][job])


def test_app_pipeline_stages_in_order() -> None:
    app = load(WORKFLOWS / "app.yml")
    assert set(app["on"]) == {"pull_request", "push", "workflow_dispatch"}
    assert app["on"]["push"] == {"branches": ["main"]}
    assert "uv run --locked inv lint" in task_commands(app, "lint")
    assert "uv run --locked inv test" in task_commands(app, "test")
    assert {"uv run --locked inv build", "uv run --locked inv scan"} <= set(
        task_commands(app, "image")
    )
    assert app["jobs"]["image"]["needs"] == ["lint", "test"]
    assert app["jobs"]["staging"]["needs"] == "image"
    assert app["jobs"]["production"]["needs"] == "staging"
    for environment in ("staging", "production"):
        commands = task_commands(app, environment)
        assert f"uv run --locked inv build --push --env {environment}" in commands
        assert (
            f'uv run --locked inv deploy --env {environment} --image-tag "$GITHUB_SHA"' in commands
        )
    assert "refs/heads/main" in app["jobs"]["staging"]["if"]


def test_app_tests_run_against_postgresql_16_and_redis() -> None:
    test_job = load(WORKFLOWS / "app.yml")["jobs"]["test"]
    services = test_job["services"]
    assert re.fullmatch(r"postgres:16\.\d+", services["postgres"]["image"])
    assert re.fullmatch(r"redis:\d+\.\d+\.\d+", services["redis"]["image"])
    assert all("--health-cmd" in service["options"] for service in services.values())
    url = test_job["env"]["DETECTION_API_TEST_POSTGRES_URL"]
    assert url.startswith("postgresql+psycopg://")
    assert url.endswith(":5432/test")


def test_app_tests_run_on_the_floor_python_and_on_the_production_image_python() -> None:
    """3.12 (.python-version, requires-python's floor) and the distroless runtime's 3.13."""
    test_job = load(WORKFLOWS / "app.yml")["jobs"]["test"]
    floor = (REPO_ROOT / ".python-version").read_text().strip()
    assert test_job["strategy"]["matrix"]["python"] == [floor, "3.13"]
    assert test_job["strategy"]["fail-fast"] is False
    assert test_job["env"]["UV_PYTHON"] == "${{ matrix.python }}"
    (setup,) = [s for s in test_job["steps"] if "setup-python" in s.get("uses", "")]
    assert setup["with"] == {"python-version": "${{ matrix.python }}"}
    runtime = re.search(r"python3-debian(\d+)", (REPO_ROOT / "app/Dockerfile").read_text())
    assert runtime is not None
    assert runtime.group(1) == "13", "Debian 13's python3 is 3.13: keep the matrix in step"


def test_infra_plans_every_environment_and_applies_only_the_saved_plan() -> None:
    infra = load(WORKFLOWS / "infra.yml")
    assert "infra/**" in infra["on"]["pull_request"]["paths"]
    assert "infra/**" in infra["on"]["push"]["paths"]
    plan = infra["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["environment"] == ["dev", "staging", "production"]
    # The read-only plan role trusts pull requests and main, not environments: plans have none.
    assert "environment" not in plan
    plan_uses = [step.get("uses", "") for step in steps(plan)]
    assert any(use.startswith("actions/upload-artifact@") for use in plan_uses)
    assert any(use.startswith("actions/github-script@") for use in plan_uses)
    assert "vars.AWS_PLAN_ROLE_ARN" in str(plan["steps"])
    assert infra["jobs"]["apply-production"]["needs"] == "apply"
    for name in ("apply", "apply-production"):
        job = infra["jobs"][name]
        assert job["needs"] in ("plan", "apply")
        uses = [step.get("uses", "") for step in steps(job)]
        download = next(
            i for i, use in enumerate(uses) if use.startswith("actions/download-artifact@")
        )
        apply_step = next(
            i for i, step in enumerate(steps(job)) if "inv apply" in step.get("run", "")
        )
        assert download < apply_step
        assert steps(job)[download]["with"]["path"] == "var/plans/"  # where `inv apply` reads it
        assert steps(job)[apply_step]["run"] == 'uv run --locked inv apply --env "$ENVIRONMENT"'
        assert "vars.AWS_APPLY_ROLE_ARN" in str(job["steps"])


def test_dependabot_keeps_the_action_pins_current_after_a_cooldown() -> None:
    config = yaml.safe_load((REPO_ROOT / ".github" / "dependabot.yml").read_text())
    updates = {update["package-ecosystem"]: update for update in config["updates"]}
    assert {"github-actions", "uv"} <= set(updates)
    assert all(update["cooldown"]["default-days"] >= 7 for update in updates.values())
