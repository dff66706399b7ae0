"""Locally made base images for machines with a docker daemon but no registry to pull from.

One debootstrap of Debian trixie (python3 is 3.13, inside the service's `>=3.12,<3.14`) from the
apt mirror gives two images, `docker import`ed:
- the builder base (the whole trimmed rootfs: shell, apt, python3, venv), standing in for
  debian:trixie-slim in app/Dockerfile and for python:3.12-slim in ops/Dockerfile;
- the runtime base, standing in for gcr.io/distroless/python3-debian13: the same packages'
  Python, unpacked without a shell or package manager (distroless.py).
Their rootfs tarballs are cached under var/image/base, keyed by everything that goes into them,
so a new docker data root re-imports them in seconds instead of bootstrapping again.

The host's CA bundle replaces the base's: builds inside it reach PyPI through whatever TLS the
build machine trusts. These bases exist for tests on such machines; releases build on the
Dockerfiles' digest-pinned defaults.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from detection_ops.deploy.steps import OperatorError
from detection_ops.image.distroless import make_runtime_rootfs
from detection_ops.image.engine import Engine, tail

RECIPE = 3  # bump when the steps below change: it is part of the cache key
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
# What distroless's python3 image configures; `docker import` starts from an empty config.
RUNTIME_CONFIG = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
)
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

    @property
    def runtime_tag(self) -> str:
        return f"detection-runtime:{self.suite}-{self.key()}"


@dataclass(frozen=True)
class LocalBases:
    builder: str
    runtime: str

    def build_args(self, dockerfile: str) -> dict[str, str]:
        """A Dockerfile's base arguments: app/Dockerfile has a builder and a distroless runtime;
        ops/Dockerfile one base (its runtime installs the PostgreSQL client with apt)."""
        if Path(dockerfile).parts[0] == "ops":
            return {"BASE_IMAGE": self.builder}
        return {"BUILDER_IMAGE": self.builder, "RUNTIME_IMAGE": self.runtime}


def ensure_bases(engine: Engine, cache: Path, recipe: BaseRecipe | None = None) -> LocalBases:
    """The local builder and runtime bases: imported if missing, bootstrapped if not cached."""
    recipe = recipe or BaseRecipe()
    bases = LocalBases(builder=recipe.tag, runtime=recipe.runtime_tag)
    for tag, changes in ((bases.builder, ()), (bases.runtime, RUNTIME_CONFIG)):
        if engine.run("image", "inspect", tag, timeout=60, check=False).returncode != 0:
            tarball = tarball_of(cache, tag)
            if not tarball.is_file():
                bootstrap(recipe, cache, debootstrap_executable())
            options = [option for change in changes for option in ("--change", change)]
            engine.run("import", *options, str(tarball), tag, timeout=IMPORT_TIMEOUT_S)
        check_python(engine, tag)
    return bases


def tarball_of(cache: Path, tag: str) -> Path:
    return cache / f"{tag.replace(':', '-')}.tar"


def debootstrap_executable() -> str:
    found = shutil.which("debootstrap")
    if not found:
        raise OperatorError(
            "`debootstrap` not found", "run `uv run inv tools --with docker` (as root)"
        )
    return found


def bootstrap(recipe: BaseRecipe, cache: Path, debootstrap: str) -> None:
    """debootstrap the suite into a scratch folder, trim it, cut the runtime rootfs from it, and
    tar both (atomically) into `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="rootfs-") as scratch:
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
        runtime = Path(scratch) / "runtime"
        runtime.mkdir()
        make_runtime_rootfs(rootfs, runtime)
        for tree, tag in ((runtime, recipe.runtime_tag), (rootfs, recipe.tag)):
            partial = Path(scratch) / f"{tree.name}.tar"
            command(
                ["tar", "--numeric-owner", "-C", str(tree), "-cf", str(partial), "."],
                "check the free disk space under var/image",
            )
            partial.rename(tarball_of(cache, tag))


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
    probe = "import ssl, sqlite3, sys; print('%d.%d' % sys.version_info[:2])"
    done = engine.run("run", "--rm", "--network=none", tag, "python3", "-c", probe, timeout=120)
    major, minor = (int(part) for part in done.stdout.strip().split("."))
    low, high = SUPPORTED_PYTHON
    if not low <= (major, minor) < high:
        raise OperatorError(
            f"the base {tag} has Python {major}.{minor}; the service needs >= 3.12, < 3.14",
            "bootstrap a newer Debian suite (BaseRecipe.suite)",
        )
