"""The metrics hook for the Prometheus client (``pip install "coinflex_async[prometheus]"``).

::

    from coinflex_async.prometheus import PrometheusMetrics

    client = cf.Client(key, secret, metrics=PrometheusMetrics())
    # then expose prometheus_client's default registry as usual (start_http_server, ...)

Series (``namespace`` defaults to ``"coinflex"``):

- ``coinflex_requests_total{endpoint, status}``: calls ended, by the route's template and the
  last HTTP status (0: no answer);
- ``coinflex_request_seconds{endpoint}``: histogram of the calls' wall time, waits and retries
  included;
- ``coinflex_request_attempts_total{endpoint}``: attempts, retries included;
- ``coinflex_response_bytes_total{endpoint}``: bytes of the decoded responses;
- ``coinflex_rate_limit_wait_seconds{bucket}``: histogram of waits for rate-limit tokens;
- ``coinflex_orders_recovered_total{outcome}``: orders settled by a lookup after an ambiguous
  failure (``found``, ``absent``, ``unknown``).
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

__all__ = ["PrometheusMetrics"]


class PrometheusMetrics:
    """Implements :class:`coinflex_async.Metrics` with prometheus_client series.

    Make one per registry and share it between clients: a series can be registered only once.
    """

    def __init__(
        self, registry: CollectorRegistry | None = REGISTRY, namespace: str = "coinflex"
    ) -> None:
        self.requests = Counter(
            "requests",
            "Calls ended, by endpoint and last HTTP status",
            ["endpoint", "status"],
            namespace=namespace,
            registry=registry,
        )
        self.request_seconds = Histogram(
            "request_seconds",
            "Wall time of a call (waits and retries included)",
            ["endpoint"],
            namespace=namespace,
            registry=registry,
        )
        self.attempts = Counter(
            "request_attempts",
            "Attempts of calls (retries included)",
            ["endpoint"],
            namespace=namespace,
            registry=registry,
        )
        self.response_bytes = Counter(
            "response_bytes",
            "Bytes of decoded response bodies",
            ["endpoint"],
            namespace=namespace,
            registry=registry,
        )
        self.rate_limit_wait = Histogram(
            "rate_limit_wait_seconds",
            "Waits for rate-limit tokens",
            ["bucket"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
            namespace=namespace,
            registry=registry,
        )
        self.orders_recovered = Counter(
            "orders_recovered",
            "Orders settled by a lookup after an ambiguous failure",
            ["outcome"],
            namespace=namespace,
            registry=registry,
        )

    def request_done(
        self, endpoint: str, status: int, attempts: int, seconds: float, response_bytes: int
    ) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.request_seconds.labels(endpoint).observe(seconds)
        self.attempts.labels(endpoint).inc(attempts)
        if response_bytes:
            self.response_bytes.labels(endpoint).inc(response_bytes)

    def rate_limit_waited(self, bucket: str, seconds: float) -> None:
        self.rate_limit_wait.labels(bucket).observe(seconds)

    def order_recovered(self, outcome: str) -> None:
        self.orders_recovered.labels(outcome).inc()
