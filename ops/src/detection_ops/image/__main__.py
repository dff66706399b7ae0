"""`python -m detection_ops.image build [--push --env ENV]` or `... scan [--vulnerabilities]`.

`build` tags the image with the git SHA, saves it to var/image/ and writes its CycloneDX SBOM to
reports/image/. With `--push` it also scans, then tags and pushes to `$ECR_REGISTRY`. `scan` runs
trivy on the saved image of the current commit. Exit codes: 0 done, 1 an operator error or
scan findings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from detection_ops.deploy.steps import OperatorError, Steps, fail
from detection_ops.image.base import LocalBases, ensure_bases
from detection_ops.image.build import (
    IMAGE_NAME,
    ImageFiles,
    ImageMeta,
    build_image,
    image_size_mb,
    save_image,
    write_sbom,
)
from detection_ops.image.engine import Engine, docker_engine, find_executable
from detection_ops.image.scan import plan, run_scan
from detection_ops.tools.specs import find_repo_root

ENVIRONMENTS = ("dev", "staging", "production")
PUSH_TIMEOUT_S = 900.0


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.image", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build, save and SBOM the image (tag = git SHA)")
    build.add_argument("--push", action="store_true", help="scan, then push to $ECR_REGISTRY")
    build.add_argument("--env", choices=ENVIRONMENTS, help="target environment of --push")
    scan = commands.add_parser("scan", help="trivy scans of the saved image")
    scan.add_argument(
        "--vulnerabilities",
        action="store_true",
        help="also the CVE scan (needs trivy's online DB; default on in GitHub Actions)",
    )
    args = parser.parse_args(argv)
    if args.command == "build" and args.push and not args.env:
        parser.error("--push needs --env (the environment whose registry receives the image)")
    if args.command == "build" and args.env and not args.push:
        parser.error("--env only applies to --push")
    return args


def push_target(env: str, environ: Mapping[str, str], meta: ImageMeta) -> str:
    """`<registry>/detection-api-<env>:<sha>`: one ECR repository per environment (infra)."""
    registry = environ.get("ECR_REGISTRY", "").strip()
    if not registry:
        raise OperatorError(
            "ECR_REGISTRY is not set",
            "log in to ECR (aws-actions/amazon-ecr-login) and export its registry output",
        )
    if "://" in registry or "/" in registry:
        raise OperatorError(
            f"ECR_REGISTRY {registry!r} is not a registry host",
            "use the host only, e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        )
    return f"{registry}/{IMAGE_NAME}-{env}:{meta.revision}"


def vulnerabilities_wanted(flag: bool, environ: Mapping[str, str]) -> bool:
    """Asked for, or on GitHub Actions (where trivy's vulnerability DB is reachable)."""
    return flag or environ.get("GITHUB_ACTIONS") == "true"


class ImageTasks:
    def __init__(self, root: Path, environ: Mapping[str, str], steps: Steps) -> None:
        self.root = root
        self.environ = environ
        self.steps = steps
        self.files = ImageFiles(root)
        self.meta = ImageMeta.from_repo(root, environ)
        self.tools_bin = root / ".tools" / "bin"

    def trivy(self) -> str:
        return find_executable("trivy", self.tools_bin)

    def build(self, args: argparse.Namespace) -> int:
        target = push_target(args.env, self.environ, self.meta) if args.push else None
        trivy = self.trivy()
        tar = self.files.tar(self.meta)
        with docker_engine(self.files.state / "docker", self.tools_bin) as engine:
            bases = self._local_bases(engine)
            with self.steps.step("build", tag=self.meta.tag, bases=str(bases or "Dockerfile's")):
                build_image(engine, self.root, self.meta, self.meta.tag, bases=bases)
            size = image_size_mb(engine, self.meta.tag)
            self.steps.event("image.size", tag=self.meta.tag, megabytes=round(size, 1))
            self.steps.console.print(f"image {self.meta.tag}: {size:.0f} MB")
            with self.steps.step("save", tar=str(tar)):
                save_image(engine, self.meta.tag, tar)
            with self.steps.step("sbom", sbom=str(self.files.sbom(self.meta))):
                write_sbom(trivy, tar, self.files.sbom(self.meta), self.files.state / "trivy")
            if target is None:
                return 0
            wanted = vulnerabilities_wanted(False, self.environ)
            if code := self.scan(tar, vulnerabilities=wanted):
                return code
            with self.steps.step("push", target=target):
                engine.run("tag", self.meta.tag, target, timeout=60)
                engine.run("push", target, timeout=PUSH_TIMEOUT_S)
        return 0

    def _local_bases(self, engine: Engine) -> LocalBases | None:
        """A private dockerd has no registry: build on the locally made bases instead."""
        if not engine.private:
            return None
        with self.steps.step("local base images"):
            return ensure_bases(engine, self.files.state / "base")

    def scan(self, tar: Path | None, *, vulnerabilities: bool) -> int:
        """Scan the saved image (the last `inv build`'s, which may be an earlier commit's)."""
        if tar is None:
            raise OperatorError(
                f"no saved image under {self.files.state}", "run `uv run inv build`"
            )
        self.steps.console.print(f"scanning {tar.name}")
        trivy = self.trivy()
        found = []
        for scan in plan(with_vulnerabilities=vulnerabilities, root=self.root):
            with self.steps.step(f"trivy {scan.name}", report=str(self.files.reports)):
                found += run_scan(scan, trivy, tar, self.files.reports, self.files.state / "trivy")
        for finding in found:
            self.steps.console.print(finding.line())
        self.steps.event("scan.findings", count=len(found), vulnerabilities=vulnerabilities)
        if found:
            self.steps.console.print(f"[red]{len(found)} finding(s)[/]: see {self.files.reports}")
            return 1
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    steps = Steps(run=f"image-{args.command}")
    try:
        tasks = ImageTasks(find_repo_root(Path.cwd()), os.environ, steps)
        if args.command == "build":
            return tasks.build(args)
        wanted = vulnerabilities_wanted(args.vulnerabilities, os.environ)
        return tasks.scan(tasks.files.saved(), vulnerabilities=wanted)
    except OperatorError as error:
        return fail(steps, error)


if __name__ == "__main__":
    sys.exit(main())
