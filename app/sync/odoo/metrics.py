"""Prometheus metrics for Odoo RPC, on the default registry (exposed by the app's ``/metrics``).

Labels are bounded: ``model`` and ``method`` come from Waybill's own calls (a few dozen pairs;
``common`` stands for the ``common`` service's ``version``/``authenticate``), and ``outcome`` is
``ok`` or an error ``code`` from :mod:`app.sync.odoo.errors`. One observation per HTTP attempt,
so retries are visible.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

RPC_SECONDS = Histogram(
    "waybill_odoo_rpc_seconds",
    "Duration of one Odoo RPC attempt (HTTP round trip, including server-side retries).",
    ["model", "method", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
RPC_ERRORS = Counter(
    "waybill_odoo_rpc_errors_total",
    "Odoo RPC attempts that failed, by error code.",
    ["model", "method", "outcome"],
)

SERVICE_MODEL = "common"


def observe(model: str | None, method: str, outcome: str, seconds: float) -> None:
    """Record one attempt; ``outcome`` is ``"ok"`` or the error's stable ``code``."""
    label = model or SERVICE_MODEL
    RPC_SECONDS.labels(model=label, method=method, outcome=outcome).observe(seconds)
    if outcome != "ok":
        RPC_ERRORS.labels(model=label, method=method, outcome=outcome).inc()
