"""Checklist "Deployment": the rendered chart and the blue/green deploy toolkit."""

from __future__ import annotations

import ast
from typing import Any

from detection_ops.deploy.manifests import Manifest, of_kind, pod_specs
from detection_ops.readiness.model import UnmetError, check, require
from detection_ops.readiness.sources import Sources

SECTION = "Deployment"
CHART = "charts/tests/test_checklist.py"
DEPLOY = "ops/tests/test_deploy.py"
FLOW = "ops/src/detection_ops/deploy/flow.py"
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _deployments(s: Sources) -> list[Manifest]:
    deployments = of_kind(s.render("production"), "Deployment")
    require(deployments, "rendered production: no Deployment")
    return deployments


def _calls(function: ast.FunctionDef) -> dict[str, int]:
    """First line of each method or function called by name inside `function`."""
    lines: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            lines[name] = min(lines.get(name, node.lineno), node.lineno)
    return lines


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise UnmetError(f"{FLOW}: no function {name}()")


@check(
    SECTION,
    "Blue/Green deployment strategy",
    "charts/tests/test_blue_green.py::test_blue_green_deployment_strategy",
)
def blue_green(s: Sources) -> str:
    names = sorted(d["metadata"]["name"] for d in _deployments(s))
    require(names == ["detection-api-blue", "detection-api-green"], f"Deployments: {names}")
    for active, idle in (("blue", "green"), ("green", "blue")):
        services = of_kind(s.render("production", {"activeColor": active}), "Service")
        selects = {
            svc["metadata"]["name"]: svc["spec"]["selector"].get("detection-api/color")
            for svc in services
        }
        expected = {"detection-api": active, "detection-api-preview": idle}
        require(selects == expected, f"activeColor {active}: Services select {selects}")
    return (
        "templates/deployment.yaml blue + green; templates/service.yaml: detection-api selects "
        "activeColor, detection-api-preview the idle colour"
    )


@check(
    SECTION,
    "Rollback validated before every deployment",
    f"{DEPLOY}::test_missing_rollback_target_stops_before_any_change",
)
def rollback_validated(s: Sources) -> str:
    calls = _calls(_function(s.python(FLOW), "deploy"))
    require("validate_rollback" in calls, f"{FLOW} deploy(): never validates the rollback target")
    require(
        calls["validate_rollback"] < calls.get("_release", 0),
        f"{FLOW} deploy(): the rollback target is validated after the release starts",
    )
    return f"{FLOW} Deployer.deploy: validate_rollback() in preflight, before _release()"


@check(
    SECTION,
    "Helm charts with templated manifests",
    "charts/tests/test_render.py::test_helm_lint_strict_passes",
)
def helm_chart(s: Sources) -> str:
    chart = s.yaml("charts/detection-api/Chart.yaml")
    require(chart.get("apiVersion") == "v2", "Chart.yaml apiVersion is not v2")
    templates = sorted((s.root / "charts/detection-api/templates").glob("*.yaml"))
    require(templates, "charts/detection-api/templates: no templates")
    s.path("charts/detection-api/values.schema.json")
    rendered = len(s.render("production"))
    return (
        f"charts/detection-api: {len(templates)} templates + values.schema.json, "
        f"{rendered} objects rendered"
    )


@check(
    SECTION,
    "Health checks: liveness, readiness, startup probes",
    "charts/tests/test_service_contract.py::test_health_checks_liveness_readiness_startup_probes",
)
def probes(s: Sources) -> str:
    for deployment in _deployments(s):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        for probe in PROBES:
            require(probe in container, f"{deployment['metadata']['name']}: no {probe}")
    return (
        "rendered Deployments: livenessProbe, readinessProbe, startupProbe on every API container"
    )


@check(
    SECTION,
    "PodDisruptionBudget (minAvailable: 2)",
    f"{CHART}::test_pod_disruption_budget_min_available_2",
)
def pod_disruption_budget(s: Sources) -> str:
    budgets = {
        p["metadata"]["name"]: p["spec"]
        for p in of_kind(s.render("production"), "PodDisruptionBudget")
    }
    for deployment in _deployments(s):
        name = deployment["metadata"]["name"]
        budget = budgets.get(name, {})
        require(
            budget.get("minAvailable") == 2,
            f"PodDisruptionBudget {name}: minAvailable = {budget.get('minAvailable')}",
        )
        require(budget.get("selector") == deployment["spec"]["selector"], f"PDB {name} selector")
    return "templates/poddisruptionbudget.yaml: one per colour, minAvailable 2"


@check(
    SECTION,
    "Graceful shutdown (preStop hook, terminationGracePeriod)",
    f"{CHART}::test_graceful_shutdown_prestop_hook_and_termination_grace",
)
def graceful_shutdown(s: Sources) -> str:
    for deployment in _deployments(s):
        pod = deployment["spec"]["template"]["spec"]
        pre_stop = pod["containers"][0].get("lifecycle", {}).get("preStop")
        require(pre_stop, f"{deployment['metadata']['name']}: no preStop hook")
        pause = pre_stop.get("sleep", {}).get("seconds", 0)
        grace = pod.get("terminationGracePeriodSeconds", 30)
        require(grace > pause, f"terminationGracePeriodSeconds {grace} <= preStop {pause}")
    return "rendered Deployments: lifecycle.preStop sleep + terminationGracePeriodSeconds beyond it"


@check(
    SECTION,
    "Pod anti-affinity (spread across nodes)",
    f"{CHART}::test_pod_anti_affinity_spread_across_nodes_and_zones",
)
def anti_affinity(s: Sources) -> str:
    for deployment in _deployments(s):
        anti: dict[str, Any] = (
            deployment["spec"]["template"]["spec"].get("affinity", {}).get("podAntiAffinity", {})
        )
        terms = [
            t["podAffinityTerm"]
            for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])
        ]
        terms += anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
        keys = {term["topologyKey"] for term in terms}
        require(
            "kubernetes.io/hostname" in keys,
            f"{deployment['metadata']['name']}: no node anti-affinity",
        )
    return "rendered Deployments: podAntiAffinity on kubernetes.io/hostname (+ topology spread)"


@check(
    SECTION,
    "Resource requests and limits defined",
    f"{CHART}::test_resource_requests_and_limits_defined",
)
def resources(s: Sources) -> str:
    pods = pod_specs(s.render("production"))
    for where, pod in pods:
        for container in pod["containers"] + pod.get("initContainers", []):
            for bound in ("requests", "limits"):
                declared = container.get("resources", {}).get(bound, {})
                require({"cpu", "memory"} <= set(declared), f"{where}: {bound} lack cpu or memory")
    return f"rendered production: cpu + memory requests and limits on all {len(pods)} workloads"


@check(
    SECTION,
    "Deployment script with auto-rollback option",
    f"{DEPLOY}::test_slo_breach_switches_back_automatically",
)
def auto_rollback(s: Sources) -> str:
    options = next(
        node
        for node in ast.walk(s.python(FLOW))
        if isinstance(node, ast.ClassDef) and node.name == "DeployOptions"
    )
    defaults = {
        field.target.id: field.value
        for field in options.body
        if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
    }
    default = defaults.get("auto_rollback")
    require(
        isinstance(default, ast.Constant) and default.value is True,
        f"{FLOW} DeployOptions.auto_rollback is not on by default",
    )
    watch = ast.unparse(_function(s.python(FLOW), "_watch"))
    require("options.auto_rollback" in watch, f"{FLOW} _watch(): never reads auto_rollback")
    cli = s.text("ops/src/detection_ops/deploy/__main__.py")
    require('"--auto-rollback"' in cli, "deploy CLI: no --auto-rollback/--no-auto-rollback option")
    return f"{FLOW} DeployOptions.auto_rollback = True; deploy CLI --no-auto-rollback turns it off"
