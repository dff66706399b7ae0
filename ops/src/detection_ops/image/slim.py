"""Trim an installed virtualenv for the runtime image: files no code path of the service loads.

Runs in the Dockerfile's builder stage with the base's python3, so it uses the standard library
only: `python3 slim.py /opt/venv`. It removes
- the test suites that packages ship (`tests`/`test` folders inside a package; numpy alone
  carries 17 MB of them);
- botocore's API models of every AWS service except those the service calls: RDS (IAM auth
  tokens for PostgreSQL) and STS (IRSA's web-identity credentials). The models are 28 MB; the
  service needs about 1 MB of them.
It prints what it removed and how much, and fails loudly if the virtualenv is not where it says.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

TEST_FOLDERS = frozenset({"tests", "test"})
#: botocore API models the service loads (see detection_api.store.database).
BOTOCORE_SERVICES = frozenset({"rds", "sts"})


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
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def slim(venv: Path, keep_botocore: frozenset[str] = BOTOCORE_SERVICES) -> dict[str, int]:
    """Remove what the runtime never loads; returns bytes removed per kind."""
    packages = site_packages(venv)
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", type=Path, help="the virtualenv to trim, e.g. /opt/venv")
    args = parser.parse_args(argv)
    for kind, count in slim(args.venv).items():
        print(f"slim: removed {count / 1e6:.1f} MB of {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
