"""The real `helm` binary: render the chart, or upgrade the release, with the full state.

Two ways to apply a release state: `helm upgrade` against a cluster, or `helm template` whose
manifests the deploy applies itself with server-side apply (for clusters helm cannot reach
directly, such as the in-memory API the tests use).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from detection_ops.deploy.steps import OperatorError
from detection_ops.tools.specs import find_repo_root


def find_helm() -> str:
    tools = find_repo_root(Path.cwd()) / ".tools" / "bin"
    found = shutil.which("helm", path=f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        raise OperatorError(
            "helm not found", "run `uv run inv tools` to install it into .tools/bin"
        )
    return found


@dataclass(frozen=True)
class Helm:
    release: str
    namespace: str
    chart: Path
    values_file: Path
    executable: str
    kube_context: str | None = None
    kubeconfig: str | None = None

    def _run(self, args: list[str], what: str) -> str:
        with tempfile.TemporaryDirectory(prefix="helm-home-") as home:
            env = {
                **os.environ,
                "HELM_CACHE_HOME": f"{home}/cache",
                "HELM_CONFIG_HOME": f"{home}/config",
                "HELM_DATA_HOME": f"{home}/data",
            }
            result = subprocess.run(  # noqa: S603 - the resolved helm binary, arguments built here
                [self.executable, *args], env=env, capture_output=True, text=True, check=False
            )
        if result.returncode != 0:
            raise OperatorError(
                f"helm {what} failed: {result.stderr.strip()[-1000:]}",
                "fix the values or the chart (`helm lint`), then run the deploy again",
            )
        return result.stdout

    def _with_values(self, args: list[str], overrides: str) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="release-") as values:
            values.write(overrides)
            values.flush()
            common = ["--namespace", self.namespace, "-f", str(self.values_file), "-f", values.name]
            return self._run([*args, self.release, str(self.chart), *common], args[0])

    def template(self, overrides: str) -> str:
        return self._with_values(["template"], overrides)

    def upgrade(self, overrides: str) -> str:
        # The same cluster the kubernetes client talks to: helm gets the same kubeconfig/context.
        target = ["--kube-context", self.kube_context] if self.kube_context else []
        target += ["--kubeconfig", self.kubeconfig] if self.kubeconfig else []
        return self._with_values(["upgrade", *target], overrides)
