"""A locally made base image for machines with a docker daemon but no registry to pull from.

Debian trixie (python3 is 3.13, inside the service's `>=3.12,<3.14`; bookworm's 3.11 is too old)
bootstrapped with debootstrap from the apt mirror, trimmed, and `docker import`ed. The rootfs
tarball is cached under var/image/base, keyed by everything that goes into it, so a new docker
data root re-imports it in seconds instead of bootstrapping again.

The host's CA bundle replaces the base's: builds inside it reach PyPI through whatever TLS the
build machine trusts. This base exists for tests on such machines; releases build on the
digest-pinned python:3.12-slim (the Dockerfile's default BASE_IMAGE).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from detection_ops.deploy.steps import OperatorError
from detection_ops.image.engine import Engine, tail

RECIPE = 1  # bump when the steps below change: it is part of the cache key
SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Never needed at run time; documentation and caches only.
TRIMMED = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/cache/apt",
    "var/lib/apt/lists",
    "var/log",
)
DEBOOTSTRAP_TIMEOUT_S = 1200.0
IMPORT_TIMEOUT_S = 300.0
SUPPORTED_PYTHON = ((3, 12), (3, 14))  # [low, high) as the service's requires-python


@dataclass(frozen=True)
class BaseRecipe:
    suite: str = SUITE
    mirror: str = MIRROR
    packages: tuple[str, ...] = PACKAGES
    ca_bundle: Path = HOST_CA_BUNDLE

    def key(self) -> str:
        """Changes whenever the base would come out different."""
        digest = hashlib.sha256(
            f"{RECIPE}|{self.suite}|{self.mirror}|{','.join(self.packages)}".encode()
        )
        digest.update(self.ca_bundle.read_bytes())
        return digest.hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"detection-base:{self.suite}-{self.key()}"


def ensure_base(engine: Engine, cache: Path, recipe: BaseRecipe | None = None) -> str:
    """The tag of the local base image: imported if missing, bootstrapped if not cached."""
    recipe = recipe or BaseRecipe()
    tag = recipe.tag
    if engine.run("image", "inspect", tag, timeout=60, check=False).returncode != 0:
        tarball = cache / f"{tag.replace(':', '-')}.tar"
        if not tarball.is_file():
            bootstrap(recipe, tarball, debootstrap_executable())
        engine.run("import", str(tarball), tag, timeout=IMPORT_TIMEOUT_S)
    check_python(engine, tag)
    return tag


def debootstrap_executable() -> str:
    found = shutil.which("debootstrap")
    if not found:
        raise OperatorError(
            "`debootstrap` not found", "run `uv run inv tools --with docker` (as root)"
        )
    return found


def bootstrap(recipe: BaseRecipe, tarball: Path, debootstrap: str) -> None:
    """debootstrap the suite into a scratch folder, trim it, tar it (atomically) to `tarball`."""
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        command(
            [
                debootstrap,
                "--variant=minbase",
                f"--include={','.join(recipe.packages)}",
                recipe.suite,
                str(rootfs),
                recipe.mirror,
            ],
            f"check that {recipe.mirror} serves the {recipe.suite} suite",
        )
        for relative in TRIMMED:
            shutil.rmtree(rootfs / relative, ignore_errors=True)
        shutil.copyfile(recipe.ca_bundle, rootfs / "etc/ssl/certs/ca-certificates.crt")
        partial = Path(scratch) / "rootfs.tar"
        command(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."],
            "check the free disk space under var/image",
        )
        partial.rename(tarball)


def command(cmd: list[str], hint: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed executables, our own arguments
            cmd, capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise OperatorError(f"`{cmd[0]}` took over {DEBOOTSTRAP_TIMEOUT_S:.0f} s", hint) from error
    if done.returncode != 0:
        raise OperatorError(
            f"`{' '.join(cmd[:4])} ...` exited {done.returncode}:\n{tail(done)}", hint
        )


def check_python(engine: Engine, tag: str) -> None:
    """The base's python3 must fit the service's requires-python, or the lock cannot install."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    done = engine.run("run", "--rm", "--network=none", tag, "python3", "-c", probe, timeout=120)
    major, minor = (int(part) for part in done.stdout.strip().split("."))
    low, high = SUPPORTED_PYTHON
    if not low <= (major, minor) < high:
        raise OperatorError(
            f"the base {tag} has Python {major}.{minor}; the service needs >= 3.12, < 3.14",
            "bootstrap a newer Debian suite (BaseRecipe.suite)",
        )
