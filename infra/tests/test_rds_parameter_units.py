"""RDS parameters against their PostgreSQL units: the memory they allow must fit the instance.

shared_buffers and effective_cache_size count 8 kB pages, work_mem and maintenance_work_mem
count kB. The public system this replaces wrote kB where pages were expected and the instance
did not start.
"""

from __future__ import annotations

import pytest

from detection_ops.infra import ENVIRONMENTS, sizing

GIB = 1024**3


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_rds_memory_parameters_fit_the_instance_class(environment: str) -> None:
    size = sizing.load(environment)
    budget = sizing.memory_budget(size.db_instance_class, size.db_parameters)
    assert budget.worst_case_bytes <= budget.instance_bytes, budget
    assert budget.effective_cache_bytes <= budget.instance_bytes, budget


def test_production_rds_memory_in_bytes() -> None:
    size = sizing.load("production")
    assert size.db_instance_class == "db.r7g.large"
    budget = sizing.memory_budget(size.db_instance_class, size.db_parameters)
    assert budget.instance_bytes == 16 * GIB
    # 4 GiB shared buffers + 16 MiB WAL buffers + 200 x 16 MiB + 3 x 512 MiB
    assert budget.worst_case_bytes == 4 * GIB + 16 * 2**20 + 200 * 16 * 2**20 + 3 * 512 * 2**20
    assert budget.effective_cache_bytes == 12 * GIB
    assert size.db_parameters.shared_buffers_8kb * sizing.PAGE_BYTES == budget.instance_bytes // 4


def test_shared_buffers_written_in_kb_is_rejected() -> None:
    """4 GiB written as kB (4194304) is 4194304 pages of 8 kB: 32 GiB on a 16 GiB instance."""
    size = sizing.load("production")
    wrong = sizing.DatabaseParameters(
        **{**size.db_parameters.__dict__, "shared_buffers_8kb": 4 * 1024 * 1024}
    )
    budget = sizing.memory_budget(size.db_instance_class, wrong)
    assert not budget.fits
    assert budget.worst_case_bytes > 32 * GIB


def test_work_mem_per_connection_counts_against_memory() -> None:
    size = sizing.load("production")
    greedy = sizing.DatabaseParameters(**{**size.db_parameters.__dict__, "work_mem_kb": 64 * 1024})
    assert not sizing.memory_budget(size.db_instance_class, greedy).fits


def test_unknown_instance_class_is_a_clear_error() -> None:
    size = sizing.load("production")
    with pytest.raises(sizing.InfraError, match=r"db\.x9\.huge"):
        sizing.memory_budget("db.x9.huge", size.db_parameters)
