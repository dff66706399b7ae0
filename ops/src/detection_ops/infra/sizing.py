"""Per-environment sizing as written in `infra/envs/<env>/settings.tf`, and the PostgreSQL
memory budget its parameters imply.

PostgreSQL reads each memory parameter in its own unit: `shared_buffers` and
`effective_cache_size` in 8 kB pages, `work_mem` and `maintenance_work_mem` in kB. The settings
module's inputs carry the unit in their names; this module computes bytes from them the same way
the settings module's Terraform precondition does, so both guards agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from detection_ops.infra import ENVIRONMENTS, INFRA_DIR, InfraError, hcl

PAGE_BYTES = 8192
KIB = 1024
GIB = 1024**3
WAL_BUFFERS_CAP_BYTES = 16 * 1024**2
CATALOG_PATH = INFRA_DIR / "modules" / "settings" / "catalog.json"


@dataclass(frozen=True)
class NodeGroup:
    instance_type: str
    min_size: int
    max_size: int
    desired_size: int


@dataclass(frozen=True)
class DatabaseParameters:
    max_connections: int
    shared_buffers_8kb: int
    effective_cache_size_8kb: int
    work_mem_kb: int
    maintenance_work_mem_kb: int
    autovacuum_max_workers: int


@dataclass(frozen=True)
class Sizing:
    environment: str
    aws_region: str
    availability_zones: int
    single_nat_gateway: bool
    application: NodeGroup
    monitoring: NodeGroup
    db_instance_class: str
    db_storage_gib: int
    db_multi_az: bool
    db_read_replicas: int
    db_parameters: DatabaseParameters
    cache_node_type: str
    cache_nodes: int
    cross_region_replication: bool


@dataclass(frozen=True)
class MemoryBudget:
    instance_bytes: int
    worst_case_bytes: int
    effective_cache_bytes: int

    @property
    def fits(self) -> bool:
        return (
            self.worst_case_bytes <= self.instance_bytes
            and self.effective_cache_bytes <= self.instance_bytes
        )


@cache
def catalog() -> dict[str, dict[str, dict[str, float]]]:
    """Instance class -> vCPU and memory, shared with the settings module."""
    loaded: dict[str, dict[str, dict[str, float]]] = json.loads(CATALOG_PATH.read_text())
    return loaded


def instance_memory_bytes(instance_class: str) -> int:
    try:
        memory_gib = catalog()["rds_postgres16"][instance_class]["memory_gib"]
    except KeyError:
        raise InfraError(f"instance class {instance_class!r} is not in {CATALOG_PATH}") from None
    return int(memory_gib * GIB)


def memory_budget(instance_class: str, parameters: DatabaseParameters) -> MemoryBudget:
    """Worst case: shared buffers + WAL buffers + one work_mem per connection + one
    maintenance_work_mem per autovacuum worker."""
    shared = parameters.shared_buffers_8kb * PAGE_BYTES
    worst_case = (
        shared
        + min(shared // 32, WAL_BUFFERS_CAP_BYTES)
        + parameters.max_connections * parameters.work_mem_kb * KIB
        + parameters.autovacuum_max_workers * parameters.maintenance_work_mem_kb * KIB
    )
    return MemoryBudget(
        instance_bytes=instance_memory_bytes(instance_class),
        worst_case_bytes=worst_case,
        effective_cache_bytes=parameters.effective_cache_size_8kb * PAGE_BYTES,
    )


def settings_block(environment: str) -> dict[str, Any]:
    """The literal inputs of `module "settings"` in an environment folder."""
    if environment not in ENVIRONMENTS:
        raise InfraError(
            f"unknown environment {environment!r}: use one of {', '.join(ENVIRONMENTS)}"
        )
    path = INFRA_DIR / "envs" / environment / "settings.tf"
    block: dict[str, Any] = hcl.blocks(hcl.load_file(path), "module")["settings"]
    return block


def _node_group(group: dict[str, Any]) -> NodeGroup:
    (instance_type,) = group["instance_types"]
    return NodeGroup(instance_type, group["min_size"], group["max_size"], group["desired_size"])


def load(environment: str) -> Sizing:
    """Sizing of one environment, read from its settings.tf."""
    block = settings_block(environment)
    network, cluster, database = block["network"], block["cluster"], block["database"]
    return Sizing(
        environment=environment,
        aws_region=block["aws_region"],
        availability_zones=len(network["availability_zones"]),
        single_nat_gateway=network["single_nat_gateway"],
        application=_node_group(cluster["application"]),
        monitoring=_node_group(cluster["monitoring"]),
        db_instance_class=database["instance_class"],
        db_storage_gib=database["allocated_storage_gib"],
        db_multi_az=database["multi_az"],
        db_read_replicas=database["read_replicas"],
        db_parameters=DatabaseParameters(**database["parameters"]),
        cache_node_type=block["rate_limits"]["node_type"],
        cache_nodes=block["rate_limits"]["nodes"],
        cross_region_replication=block["backups"]["cross_region_replication"],
    )
