"""RDS point-in-time restore to the latest restorable time: a new instance beside the source,
with the source's network, parameter group and IAM authentication, and the RPO it implies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import make_url

from detection_ops.deploy.steps import OperatorError

POLL_SECONDS = 30


@dataclass(frozen=True)
class PitrRestore:
    instance: str
    host: str
    port: int
    restorable_time: datetime  # the data is as of this moment: RPO = restore start - this

    def database_url(self, source_url: str) -> str:
        """The source's URL (user, database, options) pointed at the restored instance."""
        return make_url(source_url).set(host=self.host, port=self.port).render_as_string(False)


def _describe(rds: Any, instance: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = rds.describe_db_instances(DBInstanceIdentifier=instance)[
            "DBInstances"
        ][0]
    except rds.exceptions.DBInstanceNotFoundFault as error:
        raise OperatorError(
            f"RDS instance {instance} not found", "check --pitr <instance id>"
        ) from error
    return found


def _copied_settings(source: dict[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "MultiAZ": source.get("MultiAZ", False),
        "EnableIAMDatabaseAuthentication": source.get("IAMDatabaseAuthenticationEnabled", False),
        "DeletionProtection": source.get("DeletionProtection", False),
        "CopyTagsToSnapshot": True,
    }
    if subnets := source.get("DBSubnetGroup", {}).get("DBSubnetGroupName"):
        settings["DBSubnetGroupName"] = subnets
    if groups := [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]:
        settings["VpcSecurityGroupIds"] = groups
    if parameters := source.get("DBParameterGroups", []):
        settings["DBParameterGroupName"] = parameters[0]["DBParameterGroupName"]
    return settings


def restore_latest(rds: Any, source: str, target: str, timeout: float) -> PitrRestore:
    """Restore `source` as `target` at its latest restorable time and wait until available."""
    described = _describe(rds, source)
    restorable = described.get("LatestRestorableTime")
    if restorable is None:
        raise OperatorError(
            f"RDS instance {source} has no restorable time (automated backups off?)",
            "restore from the latest `inv backup` instead (without --pitr)",
        )
    rds.restore_db_instance_to_point_in_time(
        SourceDBInstanceIdentifier=source,
        TargetDBInstanceIdentifier=target,
        UseLatestRestorableTime=True,
        **_copied_settings(described),
    )
    attempts = max(1, int(timeout // POLL_SECONDS))
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=target, WaiterConfig={"Delay": POLL_SECONDS, "MaxAttempts": attempts}
    )
    endpoint = _describe(rds, target)["Endpoint"]
    return PitrRestore(target, endpoint["Address"], int(endpoint["Port"]), restorable)
