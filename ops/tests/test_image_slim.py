"""The virtualenv trimmer of the image build: removes test suites and unused AWS models only."""

from __future__ import annotations

from pathlib import Path

import pytest

from detection_ops.image.slim import main, slim


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


def remaining(venv: Path) -> set[str]:
    packages = next(venv.glob("lib/python3*/site-packages"))
    return {str(p.relative_to(packages)) for p in packages.rglob("*") if p.is_file()}


def test_test_suites_and_unused_aws_models_go_and_everything_else_stays(venv: Path) -> None:
    removed = slim(venv)
    assert remaining(venv) == {
        "numpy/__init__.py",
        "numpy/testing/__init__.py",
        "annotated_types/test_cases.py",
        "botocore/data/endpoints.json",
        "botocore/data/rds/2014-10-31/service-2.json",
        "botocore/data/sts/2014-10-31/service-2.json",
    }
    assert removed == {"test suites": 1500, "botocore models": 200}


def test_a_second_run_finds_nothing_more(venv: Path) -> None:
    slim(venv)
    assert slim(venv) == {"test suites": 0, "botocore models": 0}


def test_a_path_that_is_not_a_virtualenv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="site-packages"):
        main([str(tmp_path)])
