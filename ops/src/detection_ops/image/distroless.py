"""A local stand-in for gcr.io/distroless/python3-debian13, cut from a debootstrapped rootfs.

Distroless images are Debian packages unpacked without a shell, a package manager or maintainer
scripts. This does the same with the packages a debootstrap already installed: the dependency
closure of Debian's Python runtime, the C++ runtime (distroless's python3 image is built on its
`cc` image), OpenSSL, tzdata and netbase, copied by each package's own file list
(var/lib/dpkg/info/<package>.list), plus what distroless adds: the interpreter alias, users, the
CA bundle and one package record a package under var/lib/dpkg/status.d (what scanners read).
The closure is computed, not hand-kept, so a point release that gives Python a new library
dependency still yields a working interpreter (base.check_python proves it on every import).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

#: Packages the runtime needs beside the interpreter (which is found in the rootfs).
RUNTIME_ROOTS = ("libstdc++6", "libssl3t64", "base-files", "netbase", "tzdata")
#: Dependencies of maintainer scripts only, which an unpacked image never runs.
SCRIPT_ONLY = frozenset({"debconf", "debconf-2.0", "awk"})
#: distroless's users: root, nobody and nonroot. The service runs as 10001, which needs no entry.
USERS = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUPS = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
CA_BUNDLE = "etc/ssl/certs/ca-certificates.crt"
_DEPENDENCY = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]*)")


def status_paragraphs(rootfs: Path) -> dict[str, str]:
    """The rootfs's dpkg status entries of installed packages, package name -> paragraph."""
    paragraphs = {}
    for paragraph in (rootfs / "var/lib/dpkg/status").read_text().split("\n\n"):
        fields = fields_of(paragraph)
        if "install ok installed" in fields.get("Status", ""):
            paragraphs[fields["Package"]] = paragraph.strip() + "\n"
    return paragraphs


def fields_of(paragraph: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z-]+): (.*)$", paragraph, re.MULTILINE))


def installed_packages(rootfs: Path) -> dict[str, dict[str, str]]:
    """The rootfs's dpkg status, package name -> control fields."""
    return {name: fields_of(text) for name, text in status_paragraphs(rootfs).items()}


def interpreter(packages: Iterable[str]) -> str:
    """`python3.13` for Debian trixie: the versioned interpreter package that is installed."""
    found = sorted(p for p in packages if re.fullmatch(r"python3\.\d+-minimal", p))
    if len(found) != 1:
        raise ValueError(f"expected one python3.X-minimal package in the rootfs, found {found}")
    return found[0].removesuffix("-minimal")


def closure(packages: dict[str, dict[str, str]], roots: Iterable[str]) -> set[str]:
    """Every installed package `roots` need (Depends and Pre-Depends; for an alternative, the
    first one that is installed), without what only maintainer scripts use."""
    needed: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in packages:
            raise ValueError(f"{name} is needed but not installed in the rootfs")
        needed.add(name)
        fields = packages[name]
        for group in f"{fields.get('Pre-Depends', '')},{fields.get('Depends', '')}".split(","):
            choices = [m.group(1) for m in map(_DEPENDENCY.match, group.split("|")) if m]
            if not choices or SCRIPT_ONLY.intersection(choices):
                continue
            installed = [choice for choice in choices if choice in packages]
            if not installed:
                raise ValueError(f"{name} depends on {group.strip()}, which is not installed")
            pending.append(installed[0])
    return needed


def package_files(rootfs: Path, package: str) -> Iterator[str]:
    """The paths a package installed, relative to the rootfs (its dpkg file list)."""
    info = rootfs / "var/lib/dpkg/info"
    for listing in (info / f"{package}.list", info / f"{package}:amd64.list"):
        if listing.is_file():
            yield from (line.lstrip("/") for line in listing.read_text().splitlines())
            return
    raise ValueError(f"no dpkg file list for {package} under {info}")


def copy_entry(source: Path, target: Path) -> None:
    """One listed path: folders made, symlinks recreated as they are, files copied. Paths that
    the rootfs's trim removed (docs, man pages, locales) are skipped."""
    if source.is_symlink():
        if not (target.is_symlink() or target.exists()):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def make_runtime_rootfs(rootfs: Path, target: Path) -> list[str]:
    """Fill `target` (empty) with the distroless-shaped runtime; returns the packages it holds."""
    paragraphs = status_paragraphs(rootfs)
    packages = {name: fields_of(text) for name, text in paragraphs.items()}
    python = interpreter(packages)
    wanted = sorted(closure(packages, (f"{python}-minimal", f"lib{python}-stdlib", *RUNTIME_ROOTS)))
    # The merged-/usr links first (bin -> usr/bin...), so listed /lib paths land under usr/lib.
    for top in rootfs.iterdir():
        if top.is_symlink():
            os.symlink(os.readlink(top), target / top.name)
            (target / top.name).resolve().mkdir(parents=True, exist_ok=True)
    for package in wanted:
        for relative in package_files(rootfs, package):
            if relative and relative != ".":
                copy_entry(rootfs / relative, target / relative)
    if not (target / "usr/bin/python3").is_symlink():  # distroless's alias of the interpreter
        (target / "usr/bin/python3").symlink_to(python)
    # distroless's package records (one file a package, no dpkg): what trivy reads for the
    # SBOM and the CVE scan of the OS packages.
    records = target / "var/lib/dpkg/status.d"
    records.mkdir(parents=True, exist_ok=True)
    for package in wanted:
        (records / package).write_text(paragraphs[package])
    (target / "etc").mkdir(exist_ok=True)
    (target / "etc/passwd").write_text(USERS)
    (target / "etc/group").write_text(GROUPS)
    (target / CA_BUNDLE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(rootfs / CA_BUNDLE, target / CA_BUNDLE)
    (target / "tmp").mkdir(mode=0o1777, exist_ok=True)
    (target / "tmp").chmod(0o1777)
    return wanted
