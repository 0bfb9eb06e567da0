"""``CarrierSandbox``: a stateful loopback server speaking EasyPost's v2 API wire format.

Why EasyPost: one protocol covers rate (``POST /shipments``), book (``POST /shipments/:id/buy``),
label download, void (``POST /shipments/:id/refund``), track (``POST /trackers``) and a signed
webhook (``X-Hmac-Signature: hmac-sha256-hex=…``), and the real karrio EasyPost connector is
pointed at it through the account's ``server_url``, so the full path and its failure modes run
offline.

Behaviour the way EasyPost behaves: HTTP Basic auth with the API key as user (401
``APIKEY.INVALID`` otherwise); ``422`` with ``{"error": {code, message, errors: [{field,
message}]}}`` for missing or invalid fields; rates with per-carrier ``messages`` for parcels a
carrier cannot take; a bought shipment cannot be bought again; refunds only before the first
carrier scan and within 30 days. Chaos: ``latency_ms``, ``error_rate`` (503/500),
``rate_limit_every`` (429 with ``Retry-After``), and ``fail_next(kind)`` for deterministic
timeouts, 429s and 5xx.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import random
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.carriers.accounts import CarrierAccount
from app.carriers.karrio_support.runtime import is_loopback_host
from app.carriers.sandbox import labels
from app.carriers.sandbox.scenarios import DEFAULT, SCENARIOS, Step

REFUND_WINDOW = timedelta(days=30)
MAX_WEIGHT_OZ = {"USPS": 1120.0, "UPS": 2400.0}  # 70 lb and 150 lb
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class WebhookDelivery:
    tracking_number: str
    event_id: str
    status_code: int | None
    error: str | None = None


class CarrierSandbox:
    """A fake EasyPost account with its own shipments, trackers and webhook endpoint."""

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        rate_limit_every: int = 0,
        retry_after_seconds: int = 1,
        hang_seconds: float = 3.0,
        webhook_url: str | None = None,
        webhook_secret: str = "sandbox-webhook-secret",
        api_key: str = "EZTK_sandbox_key",
    ) -> None:
        if webhook_url is not None:
            _require_loopback(webhook_url)
        self.seed = seed
        self.latency_ms = latency_ms
        self.error_rate = error_rate
        self.rate_limit_every = rate_limit_every
        self.retry_after_seconds = retry_after_seconds
        self.hang_seconds = hang_seconds
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.api_key = api_key
        self.base_url: str | None = None
        self.clock_offset = timedelta(0)
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[WebhookDelivery] = []
        self.shipments: dict[str, dict[str, Any]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}  # by tracking code
        self._labels: dict[str, tuple[bytes, str]] = {}
        self._scenario: dict[str, tuple[str, int]] = {}  # tracking code -> (scenario, steps done)
        self._failures: list[str] = []
        self._random = random.Random(seed)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.asgi_app = self._build_app()

    # --- test controls ---------------------------------------------------------------------------

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Make the next ``count`` API requests fail: ``"timeout"`` (hang), ``"429"``, ``"500"``,
        ``"503"`` or ``"401"``."""
        if kind not in ("timeout", "429", "500", "503", "401"):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._failures.extend([kind] * count)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def account(self, id: str = "sandbox-easypost", **overrides: Any) -> CarrierAccount:
        """A ``CarrierAccount`` whose adapter talks to this sandbox (after it is running)."""
        if self.base_url is None:
            raise RuntimeError("start the sandbox with run_carrier_sandbox() first")
        values: dict[str, Any] = {
            "id": id,
            "carrier": "easypost",
            "credentials": {"api_key": SecretStr(self.api_key)},
            "server_url": f"{self.base_url}/v2",
            "test_mode": True,
            "webhook_secret": SecretStr(self.webhook_secret),
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return CarrierAccount(**values)

    def advance(self, tracking_number: str, steps: int = 1, *, scenario: str | None = None) -> int:
        """Move a parcel ``steps`` events along its scenario; pushes webhooks when configured.
        Returns how many events were added."""
        added = 0
        for _ in range(steps):
            with self._lock:
                name, done = self._scenario.get(tracking_number, (scenario or DEFAULT, 1))
                plan = SCENARIOS[name]
                if done >= len(plan):
                    break
                snapshot = self._append_event(tracking_number, plan[done])
                self._scenario[tracking_number] = (name, done + 1)
            added += 1
            if self.webhook_url:
                self._deliver([snapshot], duplicates=False, shuffle=False)
        return added

    def push_tracking(
        self,
        tracking_number: str,
        scenario: str = DEFAULT,
        *,
        duplicates: bool = False,
        out_of_order: bool = False,
    ) -> list[WebhookDelivery]:
        """Play a whole scenario for a parcel (from its current point) and push one signed
        ``tracker.updated`` Event per step to ``webhook_url``; optionally with some events sent
        twice and the deliveries shuffled, as real webhook infrastructure does."""
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}")
        snapshots = []
        with self._lock:
            _, done = self._scenario.get(tracking_number, (scenario, 1))
            if tracking_number not in self.trackers:
                self._new_tracker(tracking_number, carrier="USPS", shipment_id=None)
                done = 0
            for step in SCENARIOS[scenario][done:]:
                snapshots.append(self._append_event(tracking_number, step))
            self._scenario[tracking_number] = (scenario, len(SCENARIOS[scenario]))
        return self._deliver(snapshots, duplicates=duplicates, shuffle=out_of_order)

    def sign(self, body: bytes) -> str:
        key = unicodedata.normalize("NFKD", self.webhook_secret).encode("utf-8")
        return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    # --- webhook delivery ---

    def _deliver(
        self, snapshots: Sequence[dict[str, Any]], *, duplicates: bool, shuffle: bool
    ) -> list[WebhookDelivery]:
        if not self.webhook_url or not snapshots:
            return []
        events = [self._event(s) for s in snapshots]
        if duplicates:
            events += [e for e in events if self._random.random() < 0.5] or events[:1]
        if shuffle:
            self._random.shuffle(events)
        results = []
        with httpx.Client(timeout=5.0) as client:
            for event in events:
                body = json.dumps(event).encode("utf-8")
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "EasyPost WebHook Agent 1.0",
                    "X-Hmac-Signature": self.sign(body),
                    "X-Timestamp": format_datetime(datetime.now(UTC), usegmt=True),
                    "X-Path": urlsplit(self.webhook_url).path or "/",
                }
                tracking = event["result"]["tracking_code"]
                try:
                    resp = client.post(self.webhook_url, content=body, headers=headers)
                    result = WebhookDelivery(tracking, event["id"], resp.status_code)
                except httpx.HTTPError as exc:
                    result = WebhookDelivery(tracking, event["id"], None, str(exc))
                results.append(result)
        with self._lock:
            self.deliveries.extend(results)
        return results

    def _event(self, tracker: dict[str, Any]) -> dict[str, Any]:
        stamp = _iso(self.now())
        return {
            "object": "Event",
            "id": self._id("evt"),
            "mode": "test",
            "description": "tracker.updated",
            "previous_attributes": {},
            "result": tracker,
            "status": "pending",
            "pending_urls": [self.webhook_url],
            "completed_urls": [],
            "created_at": stamp,
            "updated_at": stamp,
        }

    # --- state -----------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{self.seed:02d}{next(self._ids):010d}"

    def _tracking_code(self) -> str:
        digits = "".join(str(self._random.randint(0, 9)) for _ in range(20))
        return "94" + digits

    def _new_tracker(self, code: str, *, carrier: str, shipment_id: str | None) -> dict[str, Any]:
        now = _iso(self.now())
        tracker = {
            "id": self._id("trk"),
            "object": "Tracker",
            "mode": "test",
            "tracking_code": code,
            "status": "unknown",
            "status_detail": "unknown",
            "signed_by": None,
            "weight": None,
            "est_delivery_date": _iso(self.now() + timedelta(days=3)),
            "shipment_id": shipment_id,
            "carrier": carrier,
            "tracking_details": [],
            "carrier_detail": {"object": "CarrierDetail", "service": None, "origin_location": None},
            "public_url": f"{self.base_url or ''}/track/{code}",
            "fees": [],
            "created_at": now,
            "updated_at": now,
        }
        self.trackers[code] = tracker
        return tracker

    def _append_event(self, code: str, step: Step) -> dict[str, Any]:
        status, detail, message, carrier_code = step
        tracker = self.trackers[code]
        previous = tracker["tracking_details"]
        # Events are spaced two hours apart, starting a day back, so a whole scenario lies in
        # the past and sorts the way it happened.
        when = (
            _parse_iso(previous[-1]["datetime"]) + timedelta(hours=2)
            if previous
            else self.now() - timedelta(hours=24)
        )
        tracker["tracking_details"].append(
            {
                "object": "TrackingDetail",
                "message": message,
                "description": message,
                "status": status,
                "status_detail": detail,
                "datetime": _iso(when),
                "source": tracker["carrier"],
                "carrier_code": carrier_code,
                "tracking_location": {
                    "object": "TrackingLocation",
                    "city": "LOUISVILLE" if len(previous) < 3 else "ATLANTA",
                    "state": "KY" if len(previous) < 3 else "GA",
                    "country": "US",
                    "zip": "40201" if len(previous) < 3 else "30301",
                },
            }
        )
        tracker["status"], tracker["status_detail"] = status, detail
        tracker["updated_at"] = _iso(self.now())
        return json.loads(json.dumps(tracker))  # a snapshot, as EasyPost sends at that moment

    def _scanned(self, code: str | None) -> bool:
        tracker = self.trackers.get(code or "")
        return bool(tracker) and any(
            d["status"] != "pre_transit" for d in tracker["tracking_details"]
        )

    # --- HTTP ---

    def _build_app(self) -> Starlette:
        routes = [
            Route("/v2/shipments", self._create_shipment, methods=["POST"]),
            Route("/v2/shipments/{sid}", self._get_shipment, methods=["GET"]),
            Route("/v2/shipments/{sid}/buy", self._buy, methods=["POST"]),
            Route("/v2/shipments/{sid}/refund", self._refund, methods=["POST"]),
            Route("/v2/trackers", self._create_tracker, methods=["POST"]),
            Route("/v2/trackers/{tid}", self._get_tracker, methods=["GET"]),
            Route("/labels/{name}", self._label, methods=["GET"]),
        ]
        return Starlette(routes=routes)

    async def _gate(self, request: Request, body: Any) -> Response | None:
        """Latency, injected failures, rate limits and auth: everything before the handler."""
        record = RecordedRequest(
            request.method,
            request.url.path,
            {
                k: ("<redacted>" if k.lower() == "authorization" else v)
                for k, v in request.headers.items()
            },
            body,
        )
        with self._lock:
            self.requests.append(record)
            count = len(self.requests)
            failure = self._failures.pop(0) if self._failures else None
            roll = self._random.random()
        request.state.record = record
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if failure == "timeout":
            await asyncio.sleep(self.hang_seconds)
            return self._reply(request, 504, _error("GATEWAY.TIMEOUT", "upstream timed out"))
        if failure == "429" or (self.rate_limit_every and count % self.rate_limit_every == 0):
            return self._reply(
                request,
                429,
                _error("RATE_LIMITED", "You have exceeded the request rate limit."),
                headers={"Retry-After": str(self.retry_after_seconds)},
            )
        if failure in ("500", "503") or (self.error_rate and roll < self.error_rate):
            status = int(failure) if failure else 503
            return self._reply(
                request, status, _error("INTERNAL_SERVER_ERROR", "Something went wrong.")
            )
        if failure == "401" or not self._authorized(request):
            return self._reply(
                request,
                401,
                _error("APIKEY.INVALID", "The API key provided is invalid or inactive."),
            )
        return None

    def _authorized(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.api_key.encode())

    def _reply(
        self, request: Request, status: int, data: Any, headers: dict[str, str] | None = None
    ) -> Response:
        record = getattr(request.state, "record", None)
        if record is not None:
            record.status = status
        return JSONResponse(data, status_code=status, headers=headers)

    async def _json(self, request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def _create_shipment(self, request: Request) -> Response:
        body = await self._json(request)
        if (early := await self._gate(request, body)) is not None:
            return early
        if not isinstance(body, dict) or not isinstance(body.get("shipment"), dict):
            return self._reply(
                request,
                422,
                _error(
                    "PARAMETER.REQUIRED",
                    "Missing required parameter.",
                    [{"field": "shipment", "message": "is required"}],
                ),
            )
        data = body["shipment"]
        problems = _validate_address("to_address", data.get("to_address"))
        problems += _validate_address("from_address", data.get("from_address"))
        parcel = data.get("parcel") or {}
        weight = _number(parcel.get("weight"))
        if weight is None or weight <= 0:
            problems.append({"field": "parcel.weight", "message": "must be greater than 0"})
        if problems:
            return self._reply(
                request,
                422,
                _error(
                    "SHIPMENT.INVALID_PARAMS",
                    "Unable to create shipment, one or more parameters were invalid.",
                    problems,
                ),
            )
        with self._lock:
            sid = self._id("shp")
            options = data.get("options") or {}
            shipment = {
                "id": sid,
                "object": "Shipment",
                "mode": "test",
                "reference": data.get("reference"),
                "status": "unknown",
                "to_address": {"object": "Address", **data["to_address"]},
                "from_address": {"object": "Address", **data["from_address"]},
                "parcel": {"object": "Parcel", "id": self._id("prcl"), **parcel},
                "options": {"label_format": options.get("label_format", "PDF"), **options},
                "customs_info": data.get("customs_info"),
                "rates": [],
                "messages": [],
                "selected_rate": None,
                "postage_label": None,
                "tracking_code": None,
                "tracker": None,
                "refund_status": None,
                "fees": [],
                "created_at": _iso(self.now()),
                "updated_at": _iso(self.now()),
            }
            shipment["rates"], shipment["messages"] = self._rates(sid, shipment, weight or 0)
            self.shipments[sid] = shipment
        return self._reply(request, 201, shipment)

    def _rates(
        self, sid: str, shipment: dict[str, Any], weight_oz: float
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        domestic = shipment["to_address"].get("country", "US") == shipment["from_address"].get(
            "country", "US"
        )
        catalogue = [
            ("USPS", "GroundAdvantage", 5.15, 0.21, 4),
            ("USPS", "Priority", 7.95, 0.32, 2),
            ("USPS", "Express", 26.35, 0.55, 1),
            ("UPS", "Ground", 9.20, 0.25, 4),
            ("UPS", "NextDayAir", 31.50, 0.80, 1),
        ]
        if not domestic:
            catalogue = [
                ("USPS", "PriorityMailInternational", 45.0, 0.9, 8),
                ("UPS", "Expedited", 68.0, 1.1, 5),
            ]
        rates, messages = [], []
        for carrier, service, base, per_lb, days in catalogue:
            limit = MAX_WEIGHT_OZ.get(carrier, 1120.0)
            if weight_oz > limit:
                if not any(m["carrier"] == carrier for m in messages):
                    messages.append(
                        {
                            "carrier": carrier,
                            "carrier_account_id": f"ca_{carrier.lower()}",
                            "type": "rate_error",
                            "message": f"{carrier}: parcel weight exceeds the maximum of "
                            f"{limit / 16:g} lbs",
                        }
                    )
                continue
            price = base + per_lb * max(1.0, weight_oz / 16)
            rates.append(
                {
                    "id": self._id("rate"),
                    "object": "Rate",
                    "mode": "test",
                    "service": service,
                    "carrier": carrier,
                    "rate": f"{price:.2f}",
                    "currency": "USD",
                    "retail_rate": f"{price * 1.2:.2f}",
                    "list_rate": f"{price * 1.1:.2f}",
                    "delivery_days": days,
                    "est_delivery_days": days,
                    "delivery_date": None,
                    "delivery_date_guaranteed": False,
                    "shipment_id": sid,
                    "carrier_account_id": f"ca_{carrier.lower()}",
                }
            )
        return rates, messages

    async def _get_shipment(self, request: Request) -> Response:
        if (early := await self._gate(request, None)) is not None:
            return early
        shipment = self.shipments.get(request.path_params["sid"])
        if shipment is None:
            return self._reply(
                request, 404, _error("NOT_FOUND", "The requested resource could not be found.")
            )
        return self._reply(request, 200, shipment)

    async def _buy(self, request: Request) -> Response:
        body = await self._json(request)
        if (early := await self._gate(request, body)) is not None:
            return early
        sid = request.path_params["sid"]
        with self._lock:
            shipment = self.shipments.get(sid)
            if shipment is None:
                return self._reply(
                    request, 404, _error("NOT_FOUND", "The requested resource could not be found.")
                )
            if shipment["postage_label"] is not None:
                return self._reply(
                    request,
                    422,
                    _error("SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."),
                )
            rate_id = ((body or {}).get("rate") or {}).get("id")
            rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
            if rate is None:
                return self._reply(
                    request,
                    422,
                    _error(
                        "SHIPMENT.RATE.INVALID",
                        "The rate provided is not valid for this shipment.",
                        [{"field": "rate.id", "message": "is invalid"}],
                    ),
                )
            code = (
                self._tracking_code()
                if rate["carrier"] == "USPS"
                else "1Z"
                + "".join(
                    self._random.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)
                )
            )
            fmt = str(shipment["options"].get("label_format") or "PDF").upper()
            lines = _label_lines(shipment, rate)
            if fmt == "ZPL":
                data, mime, ext = labels.zpl_label(code, lines), "application/zpl", "zpl"
            elif fmt == "PNG":
                data, mime, ext = labels.png_label(code), "image/png", "png"
            else:
                data, mime, ext = labels.pdf_label(code, lines), "application/pdf", "pdf"
            label_name = f"{sid}.{ext}"
            self._labels[label_name] = (data, mime)
            label_url = f"{self.base_url}/labels/{label_name}"
            tracker = self._new_tracker(code, carrier=rate["carrier"], shipment_id=sid)
            self._append_event(code, SCENARIOS[DEFAULT][0])
            self._scenario[code] = (DEFAULT, 1)
            shipment.update(
                selected_rate=rate,
                tracking_code=code,
                status="unknown",
                tracker=tracker,
                postage_label={
                    "object": "PostageLabel",
                    "id": self._id("pl"),
                    "label_date": _iso(self.now()),
                    "label_file_type": mime,
                    "label_size": "4x6",
                    "label_resolution": 300,
                    "label_url": label_url,
                    "label_pdf_url": label_url if ext == "pdf" else None,
                    "label_zpl_url": label_url if ext == "zpl" else None,
                },
                fees=[
                    {
                        "object": "Fee",
                        "type": "PostageFee",
                        "amount": rate["rate"],
                        "charged": True,
                        "refunded": False,
                    }
                ],
                purchased_at=_iso(self.now()),
                updated_at=_iso(self.now()),
            )
            return self._reply(request, 200, shipment)

    async def _refund(self, request: Request) -> Response:
        if (early := await self._gate(request, None)) is not None:
            return early
        with self._lock:
            shipment = self.shipments.get(request.path_params["sid"])
            if shipment is None:
                return self._reply(
                    request, 404, _error("NOT_FOUND", "The requested resource could not be found.")
                )
            if shipment["postage_label"] is None:
                return self._reply(
                    request,
                    422,
                    _error(
                        "SHIPMENT.REFUND.UNAVAILABLE",
                        "Refund not available: no postage was purchased.",
                    ),
                )
            if shipment["refund_status"] is not None:
                return self._reply(
                    request,
                    422,
                    _error(
                        "SHIPMENT.REFUND.ALREADY_REQUESTED",
                        f"A refund has already been requested ({shipment['refund_status']}).",
                    ),
                )
            bought = _parse_iso(shipment["purchased_at"])
            if self.now() - bought > REFUND_WINDOW:
                return self._reply(
                    request,
                    422,
                    _error(
                        "SHIPMENT.REFUND.UNAVAILABLE",
                        "Refund not available: labels can only be refunded "
                        "within 30 days of purchase.",
                    ),
                )
            if self._scanned(shipment["tracking_code"]):
                return self._reply(
                    request,
                    422,
                    _error(
                        "SHIPMENT.REFUND.UNAVAILABLE",
                        "Refund not available: the carrier has already scanned this package.",
                    ),
                )
            carrier = shipment["selected_rate"]["carrier"]
            shipment["refund_status"] = "submitted" if carrier == "USPS" else "refunded"
            shipment["updated_at"] = _iso(self.now())
            return self._reply(request, 200, shipment)

    async def _create_tracker(self, request: Request) -> Response:
        body = await self._json(request)
        if (early := await self._gate(request, body)) is not None:
            return early
        data = (body or {}).get("tracker", body) if isinstance(body, dict) else None
        code = (data or {}).get("tracking_code")
        if not code:
            return self._reply(
                request,
                422,
                _error(
                    "TRACKER.CREATE.ERROR",
                    "Missing required parameter.",
                    [{"field": "tracking_code", "message": "cannot be blank"}],
                ),
            )
        with self._lock:
            tracker = self.trackers.get(code) or self._new_tracker(
                code, carrier=(data or {}).get("carrier") or "USPS", shipment_id=None
            )
            return self._reply(request, 200, tracker)

    async def _get_tracker(self, request: Request) -> Response:
        if (early := await self._gate(request, None)) is not None:
            return early
        tid = request.path_params["tid"]
        tracker = next((t for t in self.trackers.values() if t["id"] == tid), None)
        if tracker is None:
            return self._reply(
                request, 404, _error("NOT_FOUND", "The requested resource could not be found.")
            )
        return self._reply(request, 200, tracker)

    async def _label(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(RecordedRequest("GET", request.url.path, {}, None, 200))
            found = self._labels.get(request.path_params["name"])
        if found is None:
            return Response(status_code=404)
        data, mime = found
        return Response(data, media_type=mime)


def _error(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": errors or []}}


def _validate_address(prefix: str, address: Any) -> list[dict[str, str]]:
    if not isinstance(address, dict):
        return [{"field": prefix, "message": "is required"}]
    problems = [
        {"field": f"{prefix}.{name}", "message": "cannot be blank"}
        for name in ("street1", "city", "country")
        if not str(address.get(name) or "").strip()
    ]
    country = str(address.get("country") or "US").upper()
    zip_code = str(address.get("zip") or "").strip()
    if country == "US":
        if not zip_code:
            problems.append({"field": f"{prefix}.zip", "message": "cannot be blank"})
        elif not _ZIP.match(zip_code) or zip_code.startswith("000"):
            problems.append({"field": f"{prefix}.zip", "message": "is not a valid ZIP code"})
        if not str(address.get("state") or "").strip():
            problems.append({"field": f"{prefix}.state", "message": "cannot be blank"})
    return problems


def _label_lines(shipment: dict[str, Any], rate: dict[str, Any]) -> list[str]:
    to = shipment["to_address"]
    frm = shipment["from_address"]
    return [
        f"{rate['carrier']} {rate['service']}",
        f"FROM: {frm.get('name') or frm.get('company') or ''}",
        f"{frm.get('street1', '')}, {frm.get('city', '')} {frm.get('zip', '')}",
        f"TO: {to.get('name') or to.get('company') or ''}",
        str(to.get("street1", "")),
        f"{to.get('city', '')} {to.get('state', '') or ''} {to.get('zip', '')} "
        f"{to.get('country', '')}",
        f"REF: {shipment.get('reference') or ''}",
    ]


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname
    if not is_loopback_host(host):
        raise ValueError(f"the carrier sandbox only delivers to loopback addresses, not {host!r}")
