"""The local TAK peer: a loopback CoT sink for development, tests and demos."""

from detection_api.taksink.cli import run_tak_sink
from detection_api.taksink.pki import CertPair, DevPki, make_dev_pki
from detection_api.taksink.server import ReceivedEvent, TakSink, server_context

__all__ = [
    "CertPair",
    "DevPki",
    "ReceivedEvent",
    "TakSink",
    "make_dev_pki",
    "run_tak_sink",
    "server_context",
]
