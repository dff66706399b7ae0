"""`detection-api tak-sink`: run the local TAK peer in the foreground and show what arrives."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from detection_api.taksink.pki import load_or_make_dev_pki
from detection_api.taksink.server import ReceivedEvent, TakSink, server_context


def _printer(console: Console) -> Callable[[ReceivedEvent], None]:
    def show(event: ReceivedEvent) -> None:
        console.print(
            f"[dim]{event.received_at:%H:%M:%S.%f}[/dim] [bold]{event.type}[/bold] "
            f"uid={event.uid} time={event.time} stale={event.stale} "
            f"[cyan]{event.wire}[/cyan] conn={event.connection}",
            highlight=False,
        )

    return show


async def _serve_forever(sink: TakSink) -> None:
    await sink.start()
    try:
        await asyncio.Event().wait()  # until Ctrl-C cancels us
    finally:
        await sink.stop()


def run_tak_sink(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port; TAK uses 8087 for TCP, 8089 for TLS.")] = 8087,
    tls: Annotated[
        bool, typer.Option(help="Require TLS with client certificates (dev CA in --pki-dir).")
    ] = False,
    pki_dir: Annotated[
        Path | None,
        typer.Option(help="Where the throwaway CA and certificates live (reused if present)."),
    ] = None,
    record: Annotated[
        Path | None, typer.Option(help="Append every received event to this JSONL file.")
    ] = None,
    *,
    quiet: Annotated[
        bool, typer.Option(help="Do not print each event (for load tests; --record still works).")
    ] = False,
) -> None:
    """Run a local TAK peer: accepts CoT over TCP or mutual TLS, answers pings, offers
    TAK protocol v1 (protobuf), and prints (and optionally records) every event it receives."""
    console = Console()
    context = None
    if tls:
        directory = pki_dir or Path(tempfile.mkdtemp(prefix="tak-sink-pki-"))
        pki = load_or_make_dev_pki(directory)
        context = server_context(pki)
        console.print(
            f"dev PKI in {directory}: CA {pki.ca_cert.name}, client {pki.client.cert.name} / "
            f"{pki.client.key.name} (or {pki.client_p12.name}, password "
            f"{pki.client_p12_password!r})"
        )
    printer = None if quiet else _printer(console)
    sink = TakSink(host, port, ssl_context=context, record=record, on_event=printer)
    console.print(f"TAK sink listening on {'tls' if tls else 'tcp'}://{host}:{port} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(sink))
    console.print(f"received {len(sink.events)} events, answered {sink.pings_answered} pings")
