"""PostgreSQL: `pg_dump --format=custom`, `pg_restore`, scratch databases and table states.

libpq reads the connection from PG* variables, so a password or an RDS IAM token travels in
PGPASSWORD and never appears on a command line (visible in `ps`) or in a log line.
pg_dump must be at least the server's major version (production runs PostgreSQL 16).
With `iam_region` every connection, the tools' and SQLAlchemy's alike, signs a fresh RDS IAM
token (the URL carries no password), as the service does (detection_api.store.database).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

from detection_ops.backup.manifest import TABLES, TableState
from detection_ops.deploy.steps import OperatorError

SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
RESTORE_HINT = "check the dump with `pg_restore --list`"
TRANSACTION_TIMEOUT_SINCE = 17  # the server version with the setting pg_restore 17+ sets
TRANSACTION_TIMEOUT = b"SET transaction_timeout = 0;\n"
PREAMBLE = (b"SET ", b"SELECT pg_catalog.set_config(", b"--", b"\\")


def sqlalchemy_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@contextmanager
def connect(url: str | URL, *, iam_region: str | None = None) -> Iterator[Engine]:
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
    if iam_region:
        parsed = make_url(url)

        @event.listens_for(engine, "do_connect")
        def _token(
            _dialect: object, _record: object, _args: object, kwargs: dict[str, str]
        ) -> None:
            kwargs["password"] = iam_token(parsed, iam_region)

    try:
        yield engine
    finally:
        engine.dispose()


def iam_token(url: URL, region: str | None) -> str:
    """A 15-minute RDS IAM authentication token for the URL's user, host and port."""
    import boto3  # noqa: PLC0415 - only IAM-authenticated environments need it

    client = boto3.client("rds", region_name=region)
    token: str = client.generate_db_auth_token(
        DBHostname=url.host, Port=url.port or 5432, DBUsername=url.username, Region=region
    )
    return token


def libpq_env(url: str | URL, *, iam_region: str | None = None) -> dict[str, str]:
    """Environment for pg_dump/pg_restore: PG* variables, the secret only in PGPASSWORD."""
    parsed = make_url(url)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(
        PGHOST=parsed.host or "127.0.0.1",
        PGPORT=str(parsed.port or 5432),
        PGUSER=parsed.username or "postgres",
        PGDATABASE=parsed.database or "postgres",
    )
    if iam_region:
        env["PGPASSWORD"] = iam_token(parsed, iam_region)
        env["PGSSLMODE"] = str(parsed.query.get("sslmode", "verify-full"))
    elif parsed.password:
        env["PGPASSWORD"] = parsed.password
    if "sslmode" in parsed.query and "PGSSLMODE" not in env:
        env["PGSSLMODE"] = str(parsed.query["sslmode"])
    return env


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise OperatorError(
            f"{name} not found",
            "install the PostgreSQL client matching the server's major version "
            "(Debian: apt-get install postgresql-client-16); `inv doctor` lists it",
        )
    return path


def client_major(tool: str) -> int:
    output = subprocess.run(  # noqa: S603 - a resolved tool path, fixed arguments
        [tool, "--version"], capture_output=True, text=True, check=True
    )
    match = re.search(r"(\d+)(?:\.\d+)?", output.stdout)
    if match is None:
        raise OperatorError(f"cannot read the version of {tool}: {output.stdout!r}", "reinstall it")
    return int(match.group(1))


def server_major(url: str | URL, *, iam_region: str | None = None) -> int:
    with connect(url, iam_region=iam_region) as engine, engine.connect() as connection:
        return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def require_compatible_client(tool: str, url: str | URL, *, iam_region: str | None = None) -> str:
    """pg_dump older than the server refuses (or silently misses features): check first."""
    client, server = client_major(tool), server_major(url, iam_region=iam_region)
    if client < server:
        raise OperatorError(
            f"{Path(tool).name} {client} is older than the PostgreSQL {server} server",
            f"install postgresql-client-{server} (pg_dump must be >= the server's major version)",
        )
    return f"{Path(tool).name} {client} (server {server})"


def _run(args: list[str], env: Mapping[str, str], what: str, next_step: str) -> None:
    result = subprocess.run(  # noqa: S603 - a resolved tool path, arguments built here
        args, env=dict(env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise OperatorError(f"{what} failed: {result.stderr.strip()[-800:]}", next_step)


def dump(url: str | URL, destination: Path, *, iam_region: str | None = None) -> str:
    """Dump the whole database in the custom format; returns the tool description."""
    tool = find_tool("pg_dump")
    described = require_compatible_client(tool, url, iam_region=iam_region)
    args = [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={destination}"]
    _run(args, libpq_env(url, iam_region=iam_region), "pg_dump", "check the database URL")
    return described


def restore(
    dump_file: Path, url: str | URL, *, clean: bool = False, iam_region: str | None = None
) -> None:
    """Load a custom-format dump into the (existing) database of `url`.

    pg_restore 17 and later open with `SET transaction_timeout = 0`, a setting older servers
    refuse (and no option turns it off): into such a server (RDS 16, restored with Debian
    trixie's client 17) the dump goes through pg_restore's SQL script, without that line, to psql.
    """
    tool = find_tool("pg_restore")
    env = libpq_env(url, iam_region=iam_region)
    database = make_url(url).database or "postgres"
    options = ["--no-owner", "--no-privileges", *(["--clean", "--if-exists"] if clean else [])]
    since = TRANSACTION_TIMEOUT_SINCE
    if client_major(tool) >= since > server_major(url, iam_region=iam_region):
        restore_script(tool, [*options, str(dump_file)], database, env, single_transaction=clean)
        return
    args = [tool, "--exit-on-error", *options, *(["--single-transaction"] if clean else [])]
    _run([*args, "--dbname", database, str(dump_file)], env, "pg_restore", RESTORE_HINT)


def restore_script(
    tool: str,
    arguments: list[str],
    database: str,
    env: Mapping[str, str],
    *,
    single_transaction: bool,
) -> None:
    """`pg_restore --file=- ARGUMENTS | psql` (stopping at the first error), the script's
    preamble without `SET transaction_timeout`."""
    loader_args = [find_tool("psql"), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1"]
    loader_args += ["--single-transaction"] if single_transaction else []
    with tempfile.TemporaryFile() as script_errors, tempfile.TemporaryFile() as loader_errors:
        script = subprocess.Popen(  # noqa: S603 - a resolved tool path, arguments built here
            [tool, "--file=-", *arguments],
            stdout=subprocess.PIPE,
            stderr=script_errors,
            env=dict(env),
        )
        loader = subprocess.Popen(  # noqa: S603 - a resolved tool path, arguments built here
            [*loader_args, "--dbname", database],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=loader_errors,
            env=dict(env),
        )
        assert script.stdout is not None  # noqa: S101 - PIPE
        assert loader.stdin is not None  # noqa: S101 - PIPE
        try:
            loader.stdin.writelines(without_transaction_timeout(script.stdout))
        except BrokenPipeError:
            pass  # psql stopped at an error: its exit code and output say which
        finally:
            script.stdout.close()  # a pg_restore still writing stops (SIGPIPE)
            with contextlib.suppress(BrokenPipeError):
                loader.stdin.close()
        checks = ((loader, loader_errors, "psql"), (script, script_errors, "pg_restore"))
        for process, errors, what in checks:
            if process.wait() != 0:
                errors.seek(0)
                message = errors.read().decode(errors="replace").strip()[-800:]
                raise OperatorError(f"{what} (restore script) failed: {message}", RESTORE_HINT)


def without_transaction_timeout(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The script minus `SET transaction_timeout = 0;` in its preamble (the SET statements,
    comments and psql meta-commands before the first object); nothing after it is touched."""
    preamble = True
    for line in lines:
        if preamble:
            if line == TRANSACTION_TIMEOUT:
                continue
            preamble = not line.strip() or line.startswith(PREAMBLE)
        yield line


def database_url(url: str | URL, name: str) -> URL:
    return make_url(url).set(database=name)


def create_database(url: str | URL, name: str, *, iam_region: str | None = None) -> URL:
    """Create an empty database next to the one in `url`; returns its URL."""
    _require_safe(name)
    _autocommit(url, f'CREATE DATABASE "{name}"', iam_region)
    return database_url(url, name)


def drop_database(url: str | URL, name: str, *, iam_region: str | None = None) -> None:
    _require_safe(name)
    _autocommit(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', iam_region)


def _autocommit(url: str | URL, statement: str, iam_region: str | None) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    server = database_url(url, "postgres")
    with connect(server, iam_region=iam_region) as engine, engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text(statement))


def _require_safe(name: str) -> None:
    # Database names are interpolated into DDL (no bind parameters there): allow plain names only.
    if not SAFE_NAME.match(name):
        raise OperatorError(f"unsafe database name {name!r}", "use lowercase letters, digits, _")


def table_states(url: str | URL, *, iam_region: str | None = None) -> dict[str, TableState]:
    """Row count and an order-independent content checksum of every service table."""
    states = {}
    with connect(url, iam_region=iam_region) as engine, engine.connect() as connection:
        connection.execute(text("SET TIME ZONE 'UTC'"))
        for table in TABLES:
            row = connection.execute(
                text(
                    f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "  # noqa: S608 - fixed table names
                    f"ORDER BY t::text), '')) FROM {table} AS t"
                )
            ).one()
            states[table] = TableState(rows=int(row[0]), checksum=str(row[1]))
    return states


def schema_version(url: str | URL, *, iam_region: str | None = None) -> str | None:
    with connect(url, iam_region=iam_region) as engine, engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
