"""The shared rate-limit store (infra/modules/rate-limits): Valkey with TLS and a customer key,
in the database subnets, reachable from the cluster nodes only, failover in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detection_ops.infra import hcl

Module = Callable[[str], dict[str, Any]]


def valkey(module: Module) -> dict[str, Any]:
    body: dict[str, Any] = hcl.blocks(module("rate-limits"), "module")["valkey"]
    return body


def test_valkey_is_encrypted_in_transit_and_at_rest_with_a_customer_key(module: Module) -> None:
    store = valkey(module)
    assert store["source"] == "terraform-aws-modules/elasticache/aws"
    assert store["engine"] == "valkey"
    assert store["transit_encryption_enabled"] is True
    assert store["at_rest_encryption_enabled"] is True
    assert store["kms_key_arn"] == "${module.storage_key.key_arn}"
    key = hcl.blocks(module("rate-limits"), "module")["storage_key"]
    assert key["source"] == "../encryption"


def test_valkey_fails_over_across_zones_when_it_has_replicas(
    module: Module, env_settings: dict[str, Any]
) -> None:
    store = valkey(module)
    assert store["num_cache_clusters"] == "${var.nodes}"
    assert store["automatic_failover_enabled"] == "${var.nodes > 1}"
    assert store["multi_az_enabled"] == "${var.nodes > 1}"
    assert env_settings["production"]["rate_limits"]["nodes"] >= 2
    assert env_settings["staging"]["rate_limits"]["nodes"] >= 2


def test_valkey_is_reachable_from_the_cluster_nodes_only(
    module: Module, wiring: dict[str, Any]
) -> None:
    store = valkey(module)
    (rule,) = store["security_group_rules"].values()
    assert rule["referenced_security_group_id"] == "${var.client_security_group_id}"
    assert not {"cidr_ipv4", "cidr_blocks"} & set(rule)
    assert store["subnet_ids"] == "${var.subnet_ids}"
    call = wiring["rate_limits"]
    assert call["subnet_ids"] == "${module.network.database_subnet_ids}"
    assert call["client_security_group_id"] == "${module.cluster.node_security_group_id}"
    assert (call["node_type"], call["nodes"]) == (
        "${module.settings.rate_limits.node_type}",
        "${module.settings.rate_limits.nodes}",
    )
