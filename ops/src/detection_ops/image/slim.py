"""Trim an installed virtualenv for the runtime image: files no code path of the service loads.

Runs in the Dockerfile's builder stage with the builder's python3 (the runtime's interpreter
version), so it uses the standard library only: `python3 slim.py /opt/venv`. Before the
service's own wheel is installed, it
- removes the test suites that packages ship (`tests`/`test` folders inside a package; numpy
  alone carries 17 MB of them);
- removes botocore's API models of every AWS service except those the service calls: RDS (IAM
  auth tokens for PostgreSQL) and STS (IRSA's web-identity credentials). The models are 28 MB;
  the service needs about 1 MB of them;
- strips the symbols of native extensions (`strip --strip-unneeded`, binutils in the builder
  only): uvloop, numpy's OpenBLAS and SQLAlchemy ship with them, about 29 MB;
- keeps third-party code as bytecode only: compiled beside each module (`compileall -b`), the
  sources removed, about 38 MB. Imports stay as fast as with a __pycache__ and nothing is written
  at run time; tracebacks through third-party frames show file and line but not the source text.
  The service's own package, installed afterwards, keeps its sources (ADR 0010).
It prints what it removed and how much, and fails loudly if the virtualenv is not where it says.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

TEST_FOLDERS = frozenset({"tests", "test"})
#: botocore API models the service loads (see detection_api.store.database); the ops image keeps
#: S3 and KMS too (`--keep-botocore`).
BOTOCORE_SERVICES = frozenset({"rds", "sts"})
ELF_MAGIC = b"\x7fELF"


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        raise SystemExit(
            f"error: expected one lib/python3*/site-packages under {venv}, got {found}"
        )
    return found[0]


def test_folders(packages: Path) -> Iterator[Path]:
    """Test suites inside packages; a top-level distribution that is itself named so is kept."""
    for package in sorted(p for p in packages.iterdir() if p.is_dir()):
        for folder in sorted(package.rglob("*")):
            if folder.is_dir() and folder.name in TEST_FOLDERS and folder.parent.exists():
                yield folder


def unused_botocore_models(packages: Path, keep: frozenset[str]) -> Iterator[Path]:
    data = packages / "botocore" / "data"
    if not data.is_dir():
        return
    for service in sorted(data.iterdir()):
        if service.is_dir() and service.name not in keep:
            yield service


def size_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def remove_folders(packages: Path, keep_botocore: frozenset[str]) -> dict[str, int]:
    removed = {"test suites": 0, "botocore models": 0}
    for kind, folders in (
        ("test suites", test_folders(packages)),
        ("botocore models", unused_botocore_models(packages, keep_botocore)),
    ):
        for folder in folders:
            if folder.exists():  # a test folder may sit inside one already removed
                removed[kind] += size_bytes(folder)
                shutil.rmtree(folder)
    return removed


def native_libraries(packages: Path) -> Iterator[Path]:
    for path in sorted(packages.rglob("*.so*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as head:
                if head.read(4) == ELF_MAGIC:
                    yield path


def strip_symbols(packages: Path, strip: str) -> int:
    """`strip --strip-unneeded` every native library; returns the bytes saved."""
    libraries = list(native_libraries(packages))
    before = sum(map(size_bytes, libraries))
    if libraries:
        subprocess.run([strip, "--strip-unneeded", *map(str, libraries)], check=True)  # noqa: S603
    return before - sum(map(size_bytes, libraries))


def bytecode_only(packages: Path) -> int:
    """Compile every module beside itself, then drop the sources that compiled and every
    __pycache__; a module that does not compile keeps its source. Returns the bytes saved."""
    before = size_bytes(packages)
    for cache in sorted(packages.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)
    compileall.compile_dir(packages, legacy=True, quiet=2, workers=0)
    for source in packages.rglob("*.py"):
        if source.with_suffix(".pyc").is_file():
            source.unlink()
    return before - size_bytes(packages)


def slim(
    venv: Path, keep_botocore: frozenset[str] = BOTOCORE_SERVICES, strip: str | None = "strip"
) -> dict[str, int]:
    """Remove what the runtime never loads; returns bytes removed per kind."""
    packages = site_packages(venv)
    removed = remove_folders(packages, keep_botocore)
    if strip is not None:
        found = shutil.which(strip)
        if found is None:
            raise SystemExit(f"error: `{strip}` not found: install binutils in the builder stage")
        removed["native symbols"] = strip_symbols(packages, found)
    removed["sources beside bytecode"] = bytecode_only(packages)
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("venv", type=Path, help="the virtualenv to trim, e.g. /opt/venv")
    parser.add_argument(
        "--keep-botocore",
        default=",".join(sorted(BOTOCORE_SERVICES)),
        help="comma-separated AWS services whose botocore models stay (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    keep = frozenset(name.strip() for name in args.keep_botocore.split(",") if name.strip())
    for kind, count in slim(args.venv, keep).items():
        print(f"slim: removed {count / 1e6:.1f} MB of {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
