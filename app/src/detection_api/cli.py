"""`detection-api`: serve, migrate, manage API keys, run a local TAK peer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from detection_api.settings import Environment, Settings
from detection_api.store import migrate as migrations
from detection_api.store.api_keys import SCOPES, ApiKeyStore
from detection_api.store.database import create_database_engine
from detection_api.taksink import run_tak_sink

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
keys = typer.Typer(no_args_is_help=True, help="Create, list and revoke API keys.")
app.add_typer(keys, name="keys")
app.command("tak-sink", help="Run a loopback TAK server that prints what it receives.")(
    run_tak_sink
)
console = Console(stderr=True)


@app.command()
def serve(
    migrate: Annotated[
        bool, typer.Option(help="apply migrations first (default outside production)")
    ] = True,
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Run the HTTP service (metrics on their own port)."""
    settings = Settings()
    if migrate and settings.environment is not Environment.PRODUCTION:
        migrations.upgrade(create_database_engine(settings))
    if settings.environment is not Environment.PRODUCTION and settings.development_key:
        key = settings.development_key.get_secret_value()
        console.print(f"development API key: [bold]{key}[/bold]")
    uvicorn.run(
        "detection_api.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=access_log,
        timeout_graceful_shutdown=int(settings.shutdown_drain_seconds),
        proxy_headers=True,
    )


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    downgrade: Annotated[bool, typer.Option(help="migrate down to REVISION")] = False,
) -> None:
    """Apply (or revert) database migrations."""
    engine = create_database_engine(Settings())
    if downgrade:
        migrations.downgrade(engine, revision)
    else:
        migrations.upgrade(engine, revision)
    console.print(f"database schema at {migrations.current_revision(engine) or 'nothing'}")


def _key_store() -> ApiKeyStore:
    settings = Settings()
    engine = create_database_engine(settings)
    migrations.ensure_at_head(engine)
    return ApiKeyStore(engine, settings.api_key_pepper.get_secret_value().encode())


@keys.command("create")
def create_key(
    name: Annotated[str, typer.Argument(help="who or what uses the key")],
    scope: Annotated[list[str], typer.Option(help=f"one of {sorted(SCOPES)}; repeatable")],
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="expiry")] = 365,
) -> None:
    """Create a key and print it once."""
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        record, key = _key_store().create(name, frozenset(scope), expires_at, "cli")
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scope") from None
    console.print(f"created key {record.id} ({record.name}); it is shown only now:")
    typer.echo(key)


@keys.command("list")
def list_keys() -> None:
    """List keys (never their secrets)."""
    table = Table("id", "name", "prefix", "scopes", "expires", "revoked", "last used")
    for record in _key_store().list():
        table.add_row(
            record.id, record.name, record.prefix, " ".join(sorted(record.scopes)),
            str(record.expires_at or "-"), str(record.revoked_at or "-"),
            str(record.last_used_at or "-"),
        )  # fmt: skip
    Console().print(table)


@keys.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="the key's id")]) -> None:
    """Revoke a key at once (other replicas stop accepting it within seconds)."""
    if _key_store().revoke(key_id, "cli") is None:
        console.print(f"[red]no active key with id {key_id}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")


def main() -> None:
    app()
