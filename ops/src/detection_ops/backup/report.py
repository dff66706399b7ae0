"""The DR report: time per phase, RTO, RPO, and pass/fail against the targets (JSON + markdown)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from detection_ops.deploy.steps import StepTiming

RTO_TARGET_SECONDS = 30 * 60
RPO_TARGET_SECONDS = 60 * 60


@dataclass(frozen=True)
class DrReport:
    environment: str
    backup_id: str
    backup_created_at: datetime
    started_at: datetime
    ready_at: datetime
    phases: list[StepTiming]
    rpo_basis: str = "restore start minus the backup's time"
    rto_target_seconds: float = RTO_TARGET_SECONDS
    rpo_target_seconds: float = RPO_TARGET_SECONDS
    notes: list[str] = field(default_factory=list)

    @property
    def rto_seconds(self) -> float:
        return (self.ready_at - self.started_at).total_seconds()

    @property
    def rpo_seconds(self) -> float:
        return max(0.0, (self.started_at - self.backup_created_at).total_seconds())

    @property
    def misses(self) -> list[str]:
        missed = []
        if self.rto_seconds >= self.rto_target_seconds:
            missed.append(f"RTO {self.rto_seconds:.0f} s >= target {self.rto_target_seconds:.0f} s")
        if self.rpo_seconds >= self.rpo_target_seconds:
            missed.append(f"RPO {self.rpo_seconds:.0f} s >= target {self.rpo_target_seconds:.0f} s")
        if any(not phase.ok for phase in self.phases):
            missed.append("a phase failed")
        return missed

    @property
    def passed(self) -> bool:
        return not self.misses

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data.update(
            rto_seconds=round(self.rto_seconds, 3),
            rpo_seconds=round(self.rpo_seconds, 3),
            passed=self.passed,
            misses=self.misses,
        )
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_markdown(self) -> str:
        verdict = "PASS" if self.passed else "FAIL: " + "; ".join(self.misses)
        lines = [
            f"# DR report: {self.environment}, backup {self.backup_id}",
            "",
            f"**{verdict}**",
            "",
            "| measure | value | target | result |",
            "|---|---|---|---|",
            _row("RTO (restore start -> /readyz)", self.rto_seconds, self.rto_target_seconds),
            _row(f"RPO ({self.rpo_basis})", self.rpo_seconds, self.rpo_target_seconds),
            "",
            "| phase | seconds | result |",
            "|---|---:|---|",
            *(
                f"| {p.name} | {p.seconds:.2f} | {'ok' if p.ok else 'FAILED'} |"
                for p in self.phases
            ),
            "",
            f"Backup taken {self.backup_created_at.isoformat()}; restore started "
            f"{self.started_at.isoformat()}; service ready {self.ready_at.isoformat()}.",
            *(f"- {note}" for note in self.notes),
        ]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"dr-{self.environment}-{self.backup_id}"
        json_path, markdown_path = stem.with_suffix(".json"), stem.with_suffix(".md")
        json_path.write_text(self.to_json() + "\n")
        markdown_path.write_text(self.to_markdown())
        return json_path, markdown_path


def _row(name: str, seconds: float, target: float) -> str:
    return (
        f"| {name} | {seconds:.1f} s | < {target:.0f} s | {'ok' if seconds < target else 'MISS'} |"
    )
