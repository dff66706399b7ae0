"""Build the service image (tag = git SHA, OCI labels from build args), save it, write its SBOM."""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from detection_ops.deploy.steps import OperatorError
from detection_ops.image.base import LocalBases
from detection_ops.image.engine import Engine, tail
from detection_ops.image.scan import trivy_image

IMAGE_NAME = "detection-api"
DOCKERFILE = "app/Dockerfile"
BUILD_TIMEOUT_S = 1800.0
SAVE_TIMEOUT_S = 600.0
SBOM_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ImageMeta:
    """What the OCI labels say: where the source lives, which commit, which service version."""

    revision: str
    version: str
    source: str | None  # None keeps the Dockerfile's default

    @classmethod
    def from_repo(cls, root: Path, environ: Mapping[str, str]) -> ImageMeta:
        project = tomllib.loads((root / "app" / "pyproject.toml").read_text())["project"]
        server, repository = environ.get("GITHUB_SERVER_URL"), environ.get("GITHUB_REPOSITORY")
        source = f"{server}/{repository}" if server and repository else None
        return cls(git_revision(root), project["version"], source)

    @property
    def tag(self) -> str:
        return f"{IMAGE_NAME}:{self.revision}"

    def build_args(self) -> dict[str, str]:
        args = {"REVISION": self.revision, "VERSION": self.version}
        return args | ({"SOURCE": self.source} if self.source else {})


def git_revision(root: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, as everywhere in CI
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise OperatorError(f"`git rev-parse HEAD` failed: {tail(done)}", "build from a git clone")
    return done.stdout.strip()


@dataclass(frozen=True)
class ImageFiles:
    """Where the artefacts go: the image tar (large) under var/, the reports under reports/."""

    root: Path

    @property
    def state(self) -> Path:
        return self.root / "var" / "image"

    @property
    def reports(self) -> Path:
        return self.root / "reports" / "image"

    def tar(self, meta: ImageMeta) -> Path:
        return self.state / f"{IMAGE_NAME}-{meta.revision}.tar"

    def saved(self) -> Path | None:
        """The image `inv build` saved last (it keeps only that one)."""
        tars = sorted(self.state.glob(f"{IMAGE_NAME}-*.tar"), key=lambda tar: tar.stat().st_mtime)
        return tars[-1] if tars else None

    def sbom(self, meta: ImageMeta) -> Path:
        return self.reports / f"sbom-{meta.revision}.cdx.json"


def build_command(
    root: Path,
    tag: str,
    build_args: Mapping[str, str],
    *,
    host_network: bool,
    dockerfile: str = DOCKERFILE,
) -> list[str]:
    """`docker build` of a Dockerfile (app/ or ops/) from the repository root (the lock file)."""
    args = ["build", "--file", str(root / dockerfile), "--tag", tag]
    for name, value in build_args.items():
        args += ["--build-arg", f"{name}={value}"]
    # A private dockerd has no bridge network: the build's RUN steps reach PyPI from the host's.
    return [*args, *(["--network=host"] if host_network else []), str(root)]


def build_image(
    engine: Engine,
    root: Path,
    meta: ImageMeta,
    tag: str,
    *,
    bases: LocalBases | None = None,
    timeout: float = BUILD_TIMEOUT_S,
    dockerfile: str = DOCKERFILE,
) -> None:
    build_args = meta.build_args() | (bases.build_args(dockerfile) if bases else {})
    command = build_command(
        root, tag, build_args, host_network=engine.private, dockerfile=dockerfile
    )
    engine.run(*command, timeout=timeout)


def save_image(engine: Engine, tag: str, tar: Path) -> None:
    """`docker save` to `tar`; older saved images (other commits, ~0.5 GB each) are removed."""
    tar.parent.mkdir(parents=True, exist_ok=True)
    partial = tar.with_suffix(".partial")
    engine.run("save", "--output", str(partial), tag, timeout=SAVE_TIMEOUT_S)
    partial.rename(tar)
    for older in tar.parent.glob(f"{IMAGE_NAME}-*.tar"):
        if older != tar:
            older.unlink()


def image_size_mb(engine: Engine, tag: str) -> float:
    done = engine.run("image", "inspect", "--format", "{{.Size}}", tag, timeout=60)
    return int(done.stdout.strip()) / 1_000_000


def write_sbom(trivy: str, tar: Path, sbom: Path, cache: Path) -> None:
    """CycloneDX SBOM of the image's OS and Python packages (no vulnerability DB needed)."""
    sbom.parent.mkdir(parents=True, exist_ok=True)
    cmd = trivy_image(trivy, tar, cache, "--format", "cyclonedx", "--output", str(sbom))
    done = subprocess.run(  # noqa: S603 - pinned trivy, our own arguments
        cmd, capture_output=True, text=True, timeout=SBOM_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise OperatorError(f"trivy SBOM failed:\n{tail(done)}", "read trivy's output above")
