"""The local distroless stand-in: which packages it takes and how it unpacks them.

A small fake rootfs with a dpkg status and file lists; the real one is built and run by the
container test (and base.check_python runs its interpreter on every import).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from detection_ops.image.distroless import (
    USERS,
    closure,
    installed_packages,
    interpreter,
    make_runtime_rootfs,
)

INSTALLED = {
    "python3.13-minimal": "libpython3.13-minimal (= 3.13.5-2), libexpat1 (>= 2.6.0)",
    "libpython3.13-minimal": "libc6 (>= 2.14), libssl3t64 (>= 3.4.0)",
    "libpython3.13-stdlib": "libpython3.13-minimal, media-types | mime-support, tzdata",
    "libexpat1": "libc6 (>= 2.25)",
    "libc6": "libgcc-s1",
    "libgcc-s1": "",
    "libssl3t64": "libc6 (>= 2.34), libzstd1 (>= 1.5.5)",
    "libzstd1": "libc6 (>= 2.14)",
    "libstdc++6": "libc6, libgcc-s1",
    "media-types": "",
    "tzdata": "debconf (>= 0.5) | debconf-2.0",
    "base-files": "",
    "netbase": "",
    "debconf": "perl-base",
    "perl-base": "",
    "bash": "base-files",
}
FILES = {
    "python3.13-minimal": ["/usr/bin/python3.13", "/usr/share/doc/python3.13-minimal/copyright"],
    "libc6": ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"],
    "libssl3t64": ["/usr/lib/x86_64-linux-gnu/libssl.so.3"],
    "tzdata": ["/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/Etc/UTC"],
    "bash": ["/usr/bin/bash"],
    "perl-base": ["/usr/bin/perl"],
}


def status_paragraph(name: str, depends: str) -> str:
    fields = [f"Package: {name}", "Status: install ok installed", "Architecture: amd64"]
    return "\n".join([*fields, *([f"Depends: {depends}"] if depends else [])])


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    """A merged-/usr rootfs where every listed path exists (libraries as their package name)."""
    root = tmp_path / "rootfs"
    (root / "usr/lib64").mkdir(parents=True)
    for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64"), ("bin", "usr/bin")):
        os.symlink(target, root / link)
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    status = [status_paragraph(name, depends) for name, depends in INSTALLED.items()]
    status.append("Package: removed-one\nStatus: deinstall ok config-files")
    (root / "var/lib/dpkg/status").write_text("\n\n".join(status) + "\n")
    for name in INSTALLED:
        paths = FILES.get(name, [])
        listing = ["/.", "/usr", *paths]
        suffix = ":amd64" if name.startswith("lib") else ""
        (info / f"{name}{suffix}.list").write_text("\n".join(listing) + "\n")
        for path in paths:
            real = root / path.lstrip("/")
            real.parent.mkdir(parents=True, exist_ok=True)
            if path == "/usr/share/zoneinfo/Etc/UTC":
                os.symlink("../UTC", real)
            elif "/doc/" not in path:  # docs were trimmed from the rootfs
                real.write_text(name)
    (root / "etc/ssl/certs").mkdir(parents=True)
    (root / "etc/ssl/certs/ca-certificates.crt").write_text("the host's CA bundle")
    return root


def test_installed_packages_reads_only_what_is_installed(rootfs: Path) -> None:
    packages = installed_packages(rootfs)
    assert "removed-one" not in packages
    assert packages["libssl3t64"]["Depends"].startswith("libc6")
    assert interpreter(packages) == "python3.13"


def test_closure_follows_dependencies_but_not_maintainer_script_tools(rootfs: Path) -> None:
    packages = installed_packages(rootfs)
    needed = closure(packages, ["python3.13-minimal", "libpython3.13-stdlib", "tzdata"])
    assert needed == {
        "python3.13-minimal",
        "libpython3.13-minimal",
        "libpython3.13-stdlib",
        "libexpat1",
        "libc6",
        "libgcc-s1",
        "libssl3t64",
        "libzstd1",  # OpenSSL's, found through the closure, not a hand-kept list
        "media-types",  # the first installed alternative
        "tzdata",
    }  # no debconf, so no perl


def test_a_missing_dependency_is_an_error_not_a_broken_image(rootfs: Path) -> None:
    packages = installed_packages(rootfs)
    packages["libexpat1"]["Depends"] = "libc6, libnotthere1"
    with pytest.raises(ValueError, match="libnotthere1"):
        closure(packages, ["python3.13-minimal"])
    with pytest.raises(ValueError, match=r"python3\.99-minimal is needed"):
        closure(packages, ["python3.99-minimal"])


def test_the_runtime_has_python_and_its_libraries_and_no_shell(
    rootfs: Path, tmp_path: Path
) -> None:
    target = tmp_path / "runtime"
    target.mkdir()
    taken = make_runtime_rootfs(rootfs, target)

    assert "bash" not in taken
    assert "perl-base" not in taken
    assert (target / "usr/bin/python3.13").read_text() == "python3.13-minimal"
    assert os.readlink(target / "usr/bin/python3") == "python3.13"
    assert not (target / "usr/bin/bash").exists()
    # merged /usr: /lib64 stays a link and the loader lands under usr/lib64
    assert os.readlink(target / "lib64") == "usr/lib64"
    assert (target / "usr/lib64/ld-linux-x86-64.so.2").read_text() == "libc6"
    assert os.readlink(target / "usr/share/zoneinfo/Etc/UTC") == "../UTC"
    assert not (target / "usr/share/doc").exists()
    records = target / "var/lib/dpkg/status.d"
    assert sorted(p.name for p in records.iterdir()) == taken
    assert (records / "libssl3t64").read_text().startswith("Package: libssl3t64\n")
    assert not (target / "var/lib/dpkg/status").exists()  # no dpkg database: no dpkg
    assert (target / "etc/passwd").read_text() == USERS
    assert (target / "etc/ssl/certs/ca-certificates.crt").read_text() == "the host's CA bundle"
    assert (target / "tmp").stat().st_mode & 0o7777 == 0o1777
