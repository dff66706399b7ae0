"""The virtualenv trimmer of the image build: what it removes, and that what stays still works."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from detection_ops.image.slim import bytecode_only, main, remove_folders, strip_symbols

# A real native extension of the test environment, unstripped as its wheel ships it.
CFFI_BACKEND = next(Path(sys.prefix).glob("lib/python3*/site-packages/_cffi_backend.*.so"))


def write(path: Path, size: int = 10) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    packages = tmp_path / "venv" / "lib" / "python3.13" / "site-packages"
    write(packages / "numpy" / "__init__.py")
    write(packages / "numpy" / "_core" / "tests" / "test_umath.py", 1000)
    write(packages / "numpy" / "testing" / "__init__.py")  # imported at run time: kept
    write(packages / "pymap3d" / "tests" / "data" / "points.csv", 500)
    write(packages / "annotated_types" / "test_cases.py")  # a module, not a suite: kept
    write(packages / "botocore" / "data" / "endpoints.json")
    for service in ("rds", "sts", "ec2", "s3"):
        write(packages / "botocore" / "data" / service / "2014-10-31" / "service-2.json", 100)
    return tmp_path / "venv"


def site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python3*/site-packages"))


def remaining(venv: Path) -> set[str]:
    packages = site_packages(venv)
    return {str(p.relative_to(packages)) for p in packages.rglob("*") if p.is_file()}


def test_test_suites_and_unused_aws_models_go_and_everything_else_stays(venv: Path) -> None:
    removed = remove_folders(site_packages(venv), frozenset({"rds", "sts"}))
    assert remaining(venv) == {
        "numpy/__init__.py",
        "numpy/testing/__init__.py",
        "annotated_types/test_cases.py",
        "botocore/data/endpoints.json",
        "botocore/data/rds/2014-10-31/service-2.json",
        "botocore/data/sts/2014-10-31/service-2.json",
    }
    assert removed == {"test suites": 1500, "botocore models": 200}
    assert remove_folders(site_packages(venv), frozenset({"rds", "sts"})) == {
        "test suites": 0,
        "botocore models": 0,
    }


def test_modules_are_kept_as_bytecode_that_imports_and_broken_sources_stay(tmp_path: Path) -> None:
    package = tmp_path / "site" / "shapes"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from shapes.square import area\n")
    (package / "square.py").write_text("def area(side):\n    return side * side\n")
    (package / "template.py").write_text("def {{ name }}(): ...\n")  # not Python: kept as is
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "square.cpython-313.pyc").write_bytes(b"stale")

    bytecode_only(tmp_path / "site")  # (saves nothing on files this small)
    assert {p.name for p in package.iterdir()} == {"__init__.pyc", "square.pyc", "template.py"}
    imported = subprocess.run(
        [sys.executable, "-c", "import shapes; print(shapes.area(3))"],
        cwd=tmp_path / "site",
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout == "9\n"


def test_native_libraries_are_stripped_and_still_load(tmp_path: Path, require_tool: Any) -> None:
    strip = require_tool("strip")
    site = tmp_path / "site"
    site.mkdir()
    library = Path(shutil.copy2(CFFI_BACKEND, site))
    (site / "README.so.txt").write_text("not a library")  # matched by name, not ELF: untouched

    saved = strip_symbols(site, strip)
    assert saved > 0
    assert library.stat().st_size == CFFI_BACKEND.stat().st_size - saved
    assert strip_symbols(site, strip) == 0  # nothing left to strip
    loads = [sys.executable, "-c", "import _cffi_backend; print(_cffi_backend.__version__)"]
    assert subprocess.run(loads, cwd=site, capture_output=True, check=True).stdout.strip()


def test_main_reports_every_kind(venv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(venv)]) == 0
    printed = capsys.readouterr().out
    for kind in ("test suites", "botocore models", "native symbols", "sources beside bytecode"):
        assert f"of {kind}" in printed
    assert "numpy/__init__.pyc" in remaining(venv)


def test_the_ops_image_keeps_the_aws_models_it_names(venv: Path) -> None:
    assert main([str(venv), "--keep-botocore", "rds,sts,s3"]) == 0
    models = {path for path in remaining(venv) if path.endswith("service-2.json")}
    assert {path.split("/")[2] for path in models} == {"rds", "sts", "s3"}


def test_a_path_that_is_not_a_virtualenv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="site-packages"):
        main([str(tmp_path)])
