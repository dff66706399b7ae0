"""Blue/green deploy and rollback: preflight with a validated rollback target, deploy the idle
colour, smoke test it through the preview Service, switch, watch the SLIs (switching back on a
breach), and scale the old colour down after a delay.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx

from detection_ops.deploy.cluster import Cluster
from detection_ops.deploy.helm import Helm
from detection_ops.deploy.records import DeployRecord, Records
from detection_ops.deploy.release import Color, ColorState, ReleaseState, other
from detection_ops.deploy.smoke import smoke_test
from detection_ops.deploy.steps import OperatorError, Steps
from detection_ops.deploy.watch import Prometheus, SloThresholds, queries, watch

DEFAULT_REPLICAS = 3


class RolledBackError(OperatorError):
    """The deploy failed and the release is back where it started."""


@dataclass(frozen=True)
class DeployOptions:
    image_tag: str
    api_key: str
    image_digest: str = ""  # sha256:...; staging and production pin images by digest
    auto_rollback: bool = True
    first_deploy: bool = False
    rollout_timeout: float = 600.0
    watch_seconds: float = 300.0
    watch_interval: float = 15.0
    scale_down_after: float = 300.0
    thresholds: SloThresholds = field(default_factory=SloThresholds)


@dataclass
class Deployer:
    cluster: Cluster
    helm: Helm
    steps: Steps
    smoke_client: Callable[[str], httpx.Client]  # a client for the named Service
    prometheus: Prometheus | None = None
    mode: Literal["upgrade", "template"] = "upgrade"
    sleep: Callable[[float], None] = time.sleep

    @property
    def records(self) -> Records:
        return Records(self.cluster)

    def apply(self, state: ReleaseState, migrations_from: Color | None = None) -> None:
        overrides = state.values_yaml(migrations_from)
        if self.mode == "upgrade":
            self.helm.upgrade(overrides)
        else:
            self.cluster.apply(self.helm.template(overrides))

    # -- preflight -------------------------------------------------------------------------

    def current(self) -> ReleaseState | None:
        self.cluster.check_reachable()
        if not self.helm.values_file.is_file():
            raise OperatorError(
                f"values file {self.helm.values_file} does not exist",
                "add charts/detection-api/values-<env>.yaml for this environment",
            )
        return self.cluster.state()

    def existing(self) -> ReleaseState:
        state = self.current()
        if state is None:
            raise OperatorError(
                f"release {self.cluster.release} not found in namespace {self.cluster.namespace}",
                "check --namespace/--release; for a brand-new environment pass --first-deploy",
            )
        return state

    def validate_rollback(self, state: ReleaseState, target: ReleaseState) -> ColorState:
        """The active colour must be healthy, and the release that scales it back up after the
        switch must render with today's values: then it is a way back. Returns its state."""
        active = state.color(state.active)
        rollout = self.cluster.rollout(state.active) if active.replicas else None
        healthy = rollout is not None and rollout.complete and rollout.desired > 0
        self.steps.event(
            "rollback.target",
            color=state.active,
            image=active.tag,
            replicas=active.replicas,
            healthy=healthy,
        )
        if healthy:
            self._require_renderable_rollback(state, target)
            return active
        detail = (
            "has no replicas"
            if rollout is None
            else (
                f"is not healthy ({rollout.ready}/{rollout.desired} ready"
                f"{', ' + rollout.failure if rollout.failure else ''})"
            )
        )
        raise OperatorError(
            f"no valid rollback target: the active colour {state.active} {detail}",
            "fix the active colour first (`inv rollback` or a fix-forward on it); "
            "--first-deploy is only for an environment without a healthy release",
        )

    def _require_renderable_rollback(self, state: ReleaseState, target: ReleaseState) -> None:
        # Rolling back returns to `target` (the old colour active with its recorded image and
        # replicas, the new one idle): it must render with today's values before anything moves.
        try:
            self.helm.template(target.values_yaml(state.idle))
        except OperatorError as error:
            raise OperatorError(
                f"no valid rollback target: {state.active} "
                f"({state.color(state.active).describe()}) cannot be released with the current "
                f"values: {error.problem}",
                "make the active colour releasable again (e.g. pin its image by digest) first",
            ) from error

    # -- deploy ----------------------------------------------------------------------------

    def plan(self, options: DeployOptions) -> str:
        """Dry run: the values and manifest changes of the deploy; nothing is written."""
        with self.steps.step("read the current release (read-only)"):
            state = self.existing()
        target = self._target(state, options)
        switched = target.switched_to(state.idle)
        values = difflib.unified_diff(
            state.values_yaml().splitlines(),
            switched.values_yaml(state.idle).splitlines(),
            "current values",
            "after the switch",
            lineterm="",
        )
        manifests = difflib.unified_diff(
            self.helm.template(state.values_yaml()).splitlines(),
            self.helm.template(switched.values_yaml(state.idle)).splitlines(),
            "current manifests",
            "after the switch",
            lineterm="",
        )
        return "\n".join([*values, "", *manifests])

    def _target(self, state: ReleaseState, options: DeployOptions) -> ReleaseState:
        replicas = state.color(state.active).replicas or DEFAULT_REPLICAS
        new = ColorState(tag=options.image_tag, digest=options.image_digest, replicas=replicas)
        return state.with_color(state.idle, new)

    def deploy(self, options: DeployOptions) -> DeployRecord:
        with self.steps.step("preflight and rollback validation"):
            state = self.current()
            if state is None and options.first_deploy:
                return self.first_deploy(options)
            if state is not None and options.first_deploy:
                raise OperatorError(
                    f"--first-deploy given but release {self.cluster.release} exists",
                    "deploy without --first-deploy (the rollback target is then validated)",
                )
            state = state or self.existing()
            target = self._target(state, options)
            self.validate_rollback(state, target)
        old, new = state.active, state.idle
        record = self.records.save(
            DeployRecord.start("deploy", old, state.color(old), new, target.color(new))
        )
        try:
            self._release(state, target, options)
            switched = target.switched_to(new)
            self._watch(switched=switched, before_switch=target, old=old, options=options)
            self._scale_down(switched, old, options)
        except OperatorError as error:
            result = "rolled-back" if isinstance(error, RolledBackError) else "failed"
            self.records.save(record.finished(result, error.problem))
            raise
        return self.records.save(record.finished("succeeded"))

    def _smoke(self, service: str, options: DeployOptions) -> None:
        with self.smoke_client(service) as http:
            result = smoke_test(http, options.api_key)
        self.steps.event(
            "smoke.passed",
            service=service,
            detection=result.detection_id,
            range_m=round(result.range_m, 2),
        )

    def first_deploy(self, options: DeployOptions) -> DeployRecord:
        """A new environment: blue becomes active directly (there is nothing to switch from)."""
        new = ColorState(options.image_tag, options.image_digest, DEFAULT_REPLICAS)
        state = ReleaseState("blue", blue=new, green=replace(new, replicas=0))
        record = self.records.save(
            DeployRecord.start("first-deploy", "green", state.green, "blue", new)
        )
        try:
            with self.steps.step(f"install {options.image_tag} as blue"):
                self.apply(state, migrations_from="blue")
                self.cluster.wait_rollout("blue", options.rollout_timeout)
            with self.steps.step("smoke test blue through the main Service"):
                self._smoke(self.cluster.fullname, options)
        except OperatorError as error:
            self.records.save(record.finished("failed", error.problem))
            raise
        return self.records.save(record.finished("succeeded"))

    def _release(self, state: ReleaseState, target: ReleaseState, options: DeployOptions) -> None:
        new = state.idle
        try:
            with self.steps.step(f"deploy {options.image_tag} to the idle colour {new}"):
                self.apply(target, migrations_from=new)
                self.cluster.wait_rollout(new, options.rollout_timeout)
            with self.steps.step(f"smoke test {new} through the preview Service"):
                self._smoke(self.cluster.preview_service, options)
        except OperatorError as error:
            with self.steps.step(f"roll back: restore the previous {new} colour"):
                self.apply(state)  # traffic never left the old colour
            raise RolledBackError(error.problem, error.next_step) from error
        with self.steps.step(f"switch traffic and delivery to {new}"):
            self.apply(target.switched_to(new), migrations_from=new)

    def _watch(
        self,
        *,
        switched: ReleaseState,
        before_switch: ReleaseState,
        old: Color,
        options: DeployOptions,
    ) -> None:
        if self.prometheus is None or options.watch_seconds <= 0:
            self.steps.event("watch.skipped", reason="no Prometheus URL or a zero watch window")
            return
        pods = f"{self.cluster.deployment(switched.active)}-.+"
        with self.steps.step(f"watch SLIs for {options.watch_seconds:.0f} s"):
            breach = watch(
                self.prometheus,
                queries(self.cluster.namespace, pods, options.thresholds.window),
                options.thresholds,
                duration=options.watch_seconds,
                interval=options.watch_interval,
                sleep=self.sleep,
            )
        if breach is None:
            return
        self.steps.event("slo.breach", sli=breach.sli, value=breach.value, limit=breach.limit)
        if options.auto_rollback:
            with self.steps.step(f"auto-rollback: switch back to {old}"):
                self.apply(before_switch)
            raise RolledBackError(
                f"SLO breach after the switch: {breach}; traffic is back on {old}",
                f"investigate {switched.color(switched.active).tag} before deploying it again",
            )
        raise OperatorError(
            f"SLO breach after the switch: {breach}; auto-rollback is off",
            "run `inv rollback --env <env>` to switch back in seconds",
        )

    def _scale_down(self, switched: ReleaseState, old: Color, options: DeployOptions) -> None:
        with self.steps.step(
            f"keep {old} ready for {options.scale_down_after:.0f} s, then scale it down"
        ):
            self.sleep(options.scale_down_after)
            emptied = replace(switched.color(old), replicas=0)
            self.apply(switched.with_color(old, emptied))

    # -- rollback --------------------------------------------------------------------------

    def rollback(self, rollout_timeout: float = 600.0) -> DeployRecord:
        with self.steps.step("preflight"):
            state = self.existing()
        back, current = state.idle, state.active
        target_state = state.color(back)
        if target_state.replicas == 0:
            target_state = replace(target_state, replicas=self._recorded_replicas(back, state))
        record = self.records.save(
            DeployRecord.start("rollback", current, state.color(current), back, target_state)
        )
        ready = state.with_color(back, target_state)
        try:
            with self.steps.step(f"make {back} ready ({target_state.describe()})"):
                self.apply(ready)
                self.cluster.wait_rollout(back, rollout_timeout)
            with self.steps.step(f"switch traffic and delivery back to {back}"):
                self.apply(ready.switched_to(back))
        except OperatorError as error:
            self.records.save(record.finished("failed", error.problem))
            raise
        return self.records.save(record.finished("succeeded"))

    def _recorded_replicas(self, color: Color, state: ReleaseState) -> int:
        """Replicas the colour had when it was last active (the recorded rollback target)."""
        for record in reversed(self.records.history()):
            if (
                record.action == "deploy"
                and record.from_color == color
                and record.from_state.replicas
            ):
                return record.from_state.replicas
        return state.color(other(color)).replicas or DEFAULT_REPLICAS
