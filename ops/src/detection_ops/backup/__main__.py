"""Command line: `python -m detection_ops.backup backup|restore|dr-drill --env ENV ...`.

Exit codes: 0 done, 1 an operator error (the message says what to do next), 2 the DR report
missed its RTO or RPO target.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.markdown import Markdown

from detection_ops.backup.config import BackupConfig
from detection_ops.backup.drill import drill
from detection_ops.backup.report import DrReport
from detection_ops.backup.restore import RestoreTarget, restore
from detection_ops.backup.take import take_backups
from detection_ops.deploy.steps import OperatorError, Steps, fail

MISSED_TARGET = 2


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m detection_ops.backup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="back up PostgreSQL and the SQLite queue to S3")
    backup.add_argument("--env", required=True)
    backup.add_argument("--no-verify", action="store_true", help="skip the restore check")
    restoring = commands.add_parser("restore", help="restore a backup and report RTO/RPO")
    restoring.add_argument("--env", required=True)
    restoring.add_argument("--backup", default="latest", help="backup id or `latest`")
    restoring.add_argument("--in-place", action="store_true", help="overwrite the database")
    restoring.add_argument("--target-database", help="name of the new database")
    restoring.add_argument("--sqlite-path", type=Path, help="where the SQLite queue goes")
    restoring.add_argument("--reports", type=Path, default=Path("var/dr"))
    restoring.add_argument(
        "--pitr", metavar="RDS_INSTANCE", help="PostgreSQL from an RDS point-in-time restore"
    )
    drilling = commands.add_parser("dr-drill", help="backup -> destroy -> restore -> ready")
    drilling.add_argument("--env", default="local")
    drilling.add_argument("--detections", type=int, default=20)
    drilling.add_argument("--reports", type=Path, default=Path("var/dr"))
    return parser.parse_args(argv)


def _finish(report: DrReport, steps: Steps) -> int:
    steps.console.print(Markdown(report.to_markdown()))
    return 0 if report.passed else MISSED_TARGET


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    steps = Steps(run=f"{args.command}-{args.env}")
    try:
        if args.command == "dr-drill":
            return _finish(
                drill(os.environ, steps, args.reports, detections=args.detections), steps
            )
        config = BackupConfig.from_environ(args.env, os.environ)
        if args.command == "backup":
            take_backups(config, steps, verify=not args.no_verify)
            return 0
        target = RestoreTarget(
            args.in_place, args.target_database, args.sqlite_path, pitr_instance=args.pitr
        )
        outcome = restore(config, args.backup, target, steps)
        outcome.report.write(args.reports)
        return _finish(outcome.report, steps)
    except OperatorError as error:
        return fail(steps, error)


if __name__ == "__main__":
    sys.exit(main())
