"""Prometheus metrics. Labels are bounded: route templates, methods, status codes, classes from
the configured vocabulary, flags, reasons and destination names; never ids or raw paths."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)
CE90_BUCKETS = (1, 3, 7, 15, 30, 60, 91, 150, 305, 1000)


class Metrics:
    """Every metric the service exports, registered on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "detection_api_http_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "detection_api_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ingested = Counter(
            "detection_api_detections_ingested",
            "Detections accepted and stored, by object class and accuracy flag.",
            ["object_class", "flag"],
            registry=r,
        )
        self.rejections = Counter(
            "detection_api_rejections",
            "Requests or batch items rejected, by reason code.",
            ["reason"],
            registry=r,
        )
        self.rate_limit_storage_errors = Counter(
            "detection_api_rate_limit_storage_errors",
            "Failures or timeouts of the shared rate-limit store; after each, limits are counted "
            "in process memory (per replica) for a pause.",
            registry=r,
        )
        self.ce90 = Histogram(
            "detection_api_ce90_meters",
            "CE90 of geolocated detections in metres.",
            buckets=CE90_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "detection_api_outbox_depth",
            "Outbox rows waiting for delivery, per destination.",
            ["destination"],
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "detection_api_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbox row, per destination.",
            ["destination"],
            registry=r,
        )
        self.tak_connected = Gauge(
            "detection_api_tak_connected",
            "1 while the delivery worker holds a working connection to the TAK destination.",
            ["destination"],
            registry=r,
        )
        self.tak_ack_mode = Gauge(
            "detection_api_tak_ack_mode",
            "The delivery rule each destination uses (ping = proven read, none = written).",
            ["destination", "mode"],
            registry=r,
        )
        self.events_sent = Counter(
            "detection_api_tak_events_sent",
            "CoT events confirmed delivered to the TAK destination.",
            ["destination"],
            registry=r,
        )
        self.send_failures = Counter(
            "detection_api_tak_send_failures",
            "Failed delivery attempts (connect, TLS, send or confirmation), by reason code.",
            ["destination", "reason"],
            registry=r,
        )
        self.events_expired = Counter(
            "detection_api_tak_events_expired",
            "Events whose stale time passed before delivery, handled by the stale policy.",
            ["destination", "policy"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "detection_api_delivery_latency_seconds",
            "From acceptance of a detection to its confirmed delivery to TAK.",
            ["destination"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
            registry=r,
        )
        self.delivery_active = Gauge(
            "detection_api_delivery_active",
            "1 when this pod's colour is active and its worker drains the outbox.",
            registry=r,
        )
        self.info = Gauge(
            "detection_api_build_info", "Build and release information.", ["version", "color"],
            registry=r,
        )  # fmt: skip
