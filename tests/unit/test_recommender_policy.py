"""The recommender as booking policy: confident choices book, the rest ask a dispatcher."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from app.models import Money, Rate, ShipmentRequest
from app.sync.booking.directory import CarrierChoice
from app.sync.booking.policy import AutoBookRules, RecommenderPolicy
from app.triage.recommender import Ranking, ScoredQuote

ADDRESS = {"name": "A", "street1": "1 Main", "city": "X", "country_code": "US"}
REQUEST = ShipmentRequest(
    reference="R", shipper=ADDRESS, recipient=ADDRESS, parcels=[{"weight": 1}]
)
RATES = [
    Rate(
        carrier="c",
        carrier_account=f"acct{i}",
        service="s",
        total=Money(amount=Decimal(price), currency="USD"),
        transit_days=days,
    )
    for i, (price, days) in enumerate([("8.40", 3), ("10.50", 2), ("7.90", 5)])
]


def scored(rate: Rate, p_on_time: float, rank: int) -> ScoredQuote:
    price = float(rate.total.amount)
    return ScoredQuote(
        carrier=rate.carrier,
        carrier_account=rate.carrier_account,
        service=rate.service,
        price=price,
        currency="USD",
        p_on_time=p_on_time,
        p_exception=0.02,
        expected_late_cost=1.0,
        expected_exception_cost=0.5,
        expected_total_cost=price + 1.5,
        eligible=True,
        rank=rank,
    )


class FakeRecommender:
    source = "registry"

    def __init__(self, choice_index: int, p_on_time: float) -> None:
        self.choice_index, self.p = choice_index, p_on_time
        self.seen: list[dict[str, Any]] = []

    def rank(self, quotes: list[dict[str, Any]], context: dict[str, Any]) -> Ranking:
        self.seen.append(context)
        choice = scored(RATES[self.choice_index], self.p, 1)
        return Ranking(
            shipment_id="x",
            choice=choice,
            cheapest=scored(RATES[2], 0.7, 3),
            fastest=scored(RATES[1], 0.97, 2),
            quotes=[choice],
            explanation="Book c s: $8.40, 96 % on time, saves $2.10 expected",
            source="registry",
        )


def test_confident_choice_books_itself() -> None:
    policy = RecommenderPolicy(lambda: FakeRecommender(0, 0.96))
    decision = policy.choose(REQUEST, RATES, preferred=None)
    assert decision.rate is RATES[0] and not decision.needs_approval
    assert decision.reason.startswith("Book c s: $8.40")


def test_low_odds_or_expensive_choice_asks_a_dispatcher() -> None:
    assert (
        RecommenderPolicy(lambda: FakeRecommender(0, 0.6))
        .choose(REQUEST, RATES, preferred=None)
        .needs_approval
    )
    strict = RecommenderPolicy(lambda: FakeRecommender(1, 0.99), AutoBookRules(max_price_delta=1.0))
    assert strict.choose(REQUEST, RATES, preferred=None).needs_approval  # 2.60 above cheapest


def test_odoo_choice_and_missing_model_use_the_default_policy() -> None:
    rec = FakeRecommender(1, 0.99)
    policy = RecommenderPolicy(lambda: rec)
    chosen = policy.choose(REQUEST, RATES, preferred=CarrierChoice("acct0"))
    assert chosen.rate is RATES[0] and rec.seen == []
    assert RecommenderPolicy(lambda: None).choose(REQUEST, RATES, preferred=None).rate is RATES[2]


def test_service_prices_risk_with_the_configured_costs(tmp_path: Path) -> None:
    """The booking policy's recommender uses ``WAYBILL_RECOMMENDER_COSTS``, not the defaults."""
    import fakeredis

    from app.core.config import Settings
    from app.core.context import AppContext
    from app.core.db import Database
    from app.core.queue import InProcessJobQueue
    from app.sync.booking.jobs import recommender_policy

    costs = '{"currency": "USD", "tiers": {"standard": {"late": 7, "exception": 9}}}'
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        recommender_costs=costs,
        _env_file=None,  # type: ignore[call-arg]
    )
    db = Database(settings.database_url)
    ctx = AppContext(
        settings=settings, db=db, redis=fakeredis.FakeRedis(), queue=InProcessJobQueue(workers=1)
    )
    try:
        recommender = recommender_policy(ctx).recommender()
        assert recommender is not None
        assert recommender.costs.currency == "USD"
        assert recommender.costs.tiers["standard"].late == 7
        assert recommender.costs.tiers["vip"].late == 60  # tiers not given keep the defaults
    finally:
        ctx.queue.close()
        db.dispose()
