"""Everything the checks read, loaded once per run from one repository root.

A root other than the repository's (a copy with one file changed) is how the tests show each check
can fail. Readers are the repo's own: the infra HCL reader, the observability rule loader and the
deploy toolkit's helm wrapper.
"""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from detection_ops.deploy.helm import Helm
from detection_ops.deploy.manifests import Manifest, merge_values
from detection_ops.infra import hcl
from detection_ops.observability.rules import RULES_FILE, Rule, load_rules
from detection_ops.readiness.model import UnmetError, require

CHART = Path("charts/detection-api")
RELEASE = NAMESPACE = "detection-api"
COLORS = ("blue", "green")
# What `inv deploy` always passes (image digests), with both colours scaled up as mid-release.
DEPLOY_OVERRIDES = {
    "activeColor": "blue",
    "colors": {color: {"digest": "sha256:" + "0" * 64, "replicaCount": 3} for color in COLORS},
}


def find_helm(root: Path) -> str:
    found = shutil.which("helm", path=f"{root / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    require(found, "helm not found: run `uv run inv tools` to install it into .tools/bin")
    return str(found)


@dataclass
class Sources:
    """Lazy, cached readers over one repository root."""

    root: Path
    _renders: dict[str, list[Manifest]] = field(default_factory=dict)
    _modules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path(self, relative: str | Path) -> Path:
        path = self.root / relative
        require(path.exists(), f"{relative}: missing")
        return path

    def text(self, relative: str | Path) -> str:
        return self.path(relative).read_text(encoding="utf-8")

    def yaml(self, relative: str | Path) -> Any:
        document = yaml.safe_load(self.text(relative))
        if isinstance(document, dict) and True in document:  # YAML 1.1 reads `on:` as True
            document["on"] = document.pop(True)
        return document

    # -- Helm chart ----------------------------------------------------------------------------

    def render(self, environment: str, values: dict[str, Any] | None = None) -> list[Manifest]:
        """The chart rendered by the real helm binary for an environment (cached per input)."""
        overrides = yaml.safe_dump(merge_values(DEPLOY_OVERRIDES, values or {}))
        key = f"{environment}\n{overrides}"
        if key not in self._renders:
            helm = Helm(
                release=RELEASE,
                namespace=NAMESPACE,
                chart=self.path(CHART),
                values_file=self.path(CHART / f"values-{environment}.yaml"),
                executable=find_helm(self.root),
            )
            self._renders[key] = [
                doc for doc in yaml.safe_load_all(helm.template(overrides)) if doc
            ]
        return self._renders[key]

    # -- Terraform -----------------------------------------------------------------------------

    def module(self, name: str) -> dict[str, Any]:
        if name not in self._modules:
            self._modules[name] = hcl.load_dir(self.path(f"infra/modules/{name}"))
        return self._modules[name]

    def call(self, module: str, name: str) -> dict[str, Any]:
        """Body of `module "<name>"` inside infra/modules/<module>."""
        calls = hcl.blocks(self.module(module), "module")
        require(name in calls, f'infra/modules/{module}: no module "{name}"')
        body: dict[str, Any] = calls[name]
        return body

    def resource(
        self, module: str, kind: str, name: str, block: str = "resource"
    ) -> dict[str, Any]:
        found = hcl.resources(self.module(module), kind, kind=block)
        require(name in found, f"infra/modules/{module}: no {block} {kind}.{name}")
        body: dict[str, Any] = found[name]
        return body

    def settings(self, environment: str) -> dict[str, Any]:
        """Literal inputs of `module "settings"` in infra/envs/<environment>/settings.tf."""
        parsed = hcl.load_file(self.path(f"infra/envs/{environment}/settings.tf"))
        body: dict[str, Any] = hcl.blocks(parsed, "module")["settings"]
        return body

    # -- Prometheus rules, workflows, Python sources -------------------------------------------

    def rules(self) -> list[Rule]:
        return load_rules(self.path(RULES_FILE))

    def alerts(self) -> list[Rule]:
        return [rule for rule in self.rules() if rule.is_alert]

    def workflow(self, name: str) -> dict[str, Any]:
        workflow: dict[str, Any] = self.yaml(f".github/workflows/{name}")
        return workflow

    def runs(self, name: str) -> list[str]:
        """Every `run:` command of a workflow, whitespace collapsed, in file order."""
        return [
            " ".join(step["run"].split())
            for job in self.workflow(name)["jobs"].values()
            for step in job.get("steps", [])
            if "run" in step
        ]

    def python(self, relative: str) -> ast.Module:
        return ast.parse(self.text(relative), filename=relative)

    def has_test(self, proof: str) -> bool:
        """Whether `path::test_name` names an existing test function."""
        relative, _, name = proof.partition("::")
        path = self.root / relative
        if not path.is_file():
            return False
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return any(
            isinstance(node, ast.FunctionDef) and node.name == name for node in ast.walk(tree)
        )


def constant(tree: ast.Module, name: str) -> float:
    """A module-level numeric constant, arithmetic of literals allowed (`30 * 60`)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return _arithmetic(node.value, name)
    raise UnmetError(f"no module-level constant {name}")


def _arithmetic(node: ast.expr, name: str) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Add):
        left, right = _arithmetic(node.left, name), _arithmetic(node.right, name)
        return left * right if isinstance(node.op, ast.Mult) else left + right
    raise UnmetError(f"{name} is not a plain number")
