"""Checklist "Cost estimates per environment" and "ADR: Cloud provider selection (AWS EKS)"."""

from __future__ import annotations

import dataclasses
import re

from detection_ops.infra import INFRA_DIR, REPO_ROOT, cost, sizing

ADR = REPO_ROOT / "docs" / "adr" / "0001-cloud-provider-aws-eks.md"


def test_cost_estimates_per_environment() -> None:
    assert cost.main(["--check"]) == 0, (
        "docs/cost.md is stale: python -m detection_ops.infra.cost --write"
    )
    document = cost.DOC_PATH.read_text()
    prices = cost.load_prices()
    assert f"recorded {prices['as_of']}" in document
    for environment in ("dev", "staging", "production"):
        assert f"## {environment}" in document


def test_cost_follows_the_sizing() -> None:
    prices = cost.load_prices()
    production = sizing.load("production")
    baseline = cost.estimate(production, prices)
    single_az = dataclasses.replace(production, db_multi_az=False)
    saved = baseline.total_usd - cost.estimate(single_az, prices).total_usd
    hourly = prices["rds_postgres_single_az_hour"]["db.r7g.large"]
    expected = hourly * prices["hours_per_month"] + 100 * prices["rds_gp3_gb_month"]
    assert abs(saved - expected) < 0.01
    assert baseline.at_max_scale_usd > baseline.total_usd


def test_cost_follows_the_prices() -> None:
    prices = cost.load_prices()
    dearer = {**prices, "nat_gateway_hour": prices["nat_gateway_hour"] * 2}
    production = sizing.load("production")
    difference = (
        cost.estimate(production, dearer).total_usd - cost.estimate(production, prices).total_usd
    )
    assert abs(difference - 3 * prices["nat_gateway_hour"] * prices["hours_per_month"]) < 0.01


def test_kms_key_count_comes_from_the_modules() -> None:
    calls = sum(
        len(re.findall(r'source\s*=\s*"\.\./encryption"', path.read_text()))
        for name in ("network", "cluster", "registry", "database", "rate-limits", "backups")
        for path in (INFRA_DIR / "modules" / name).glob("*.tf")
    )
    assert cost.kms_key_count(cross_region_replication=True) == calls
    assert cost.kms_key_count(cross_region_replication=False) == calls - 1


def test_interface_endpoints_are_counted_from_the_network_module() -> None:
    assert cost.interface_endpoint_count() == 3  # STS, S3, KMS; the S3 gateway costs nothing
    prices = cost.load_prices()
    production = sizing.load("production")
    (item,) = [i for i in cost.estimate(production, prices).items if "interface" in i.item]
    hourly = prices["vpc_interface_endpoint_az_hour"]
    assert abs(item.monthly_usd - 3 * 3 * hourly * prices["hours_per_month"]) < 0.01


def test_adr_cloud_provider_selection_aws_eks() -> None:
    text = ADR.read_text()
    assert "- Status: accepted" in text
    for heading in ("## Context", "## Decision", "## Consequences"):
        assert heading in text, heading
    assert "EKS" in text
    assert "RDS" in text
