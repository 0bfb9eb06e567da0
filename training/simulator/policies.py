"""The logging policy: how the historical carrier choice was made, with its propensities.

History is not random: whoever chose the carrier had preferences, and a recommender evaluated
naively on logged outcomes inherits them. The simulator therefore records, per shipment, which
policy chose, and per quote the probability that the logging policy (a mixture) would have
chosen it - enough for inverse-propensity or doubly-robust off-policy estimates, and the full
counterfactual outcomes in ``quotes`` allow exact evaluation on top.

Policies (each restricted to quotes matching the requested level: express requests take express
services, standard requests anything else; if none match, all quotes are allowed):

* ``odoo_default`` - the warehouse's configured default carrier (first eligible of its
  preference list), its cheapest matching service; cheapest overall if none is eligible.
* ``cheapest`` - lowest price.
* ``dispatcher`` - a person weighing price against the promise: softmax of
  ``-price / 6 - 0.7 x promised days + 0.4 if it is the house carrier``.
"""

from __future__ import annotations

import numpy as np

from training.simulator.demand import Shipments
from training.simulator.quotes import LEVELS, Quotes
from training.simulator.world import ServiceLevel, World

POLICIES: tuple[str, ...] = ("odoo_default", "cheapest", "dispatcher")
OUTBOUND_MIX = np.array([0.55, 0.20, 0.25])
RETURN_MIX = np.array([0.80, 0.20, 0.0])


def _segments(ship: np.ndarray, n_ship: int) -> np.ndarray:
    """Start offset of each shipment's quotes (quotes are sorted by shipment)."""
    return np.searchsorted(ship, np.arange(n_ship + 1))


def _argmin_per_group(ship: np.ndarray, key: np.ndarray, n_ship: int) -> np.ndarray:
    order = np.lexsort((key, ship))
    starts = _segments(ship[order], n_ship)[:-1]
    return order[starts]


def choose(world: World, ship: Shipments, q: Quotes, rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chosen quote row per shipment, the policy used, and each quote's logging propensity."""
    sc, qc = ship.cols, q.cols
    n_ship = len(ship)
    s = qc["ship"]
    express = qc["level"] == LEVELS.index(ServiceLevel.EXPRESS)
    valid = np.where(sc["express_requested"][s], express, ~express)
    any_valid = np.bincount(s, weights=valid, minlength=n_ship) > 0
    valid |= ~any_valid[s]
    price = qc["price"]

    # Preference position of each quote's carrier in its warehouse's default list.
    n_c = len(world.carriers)
    pref = np.full((len(world.warehouses), n_c), 99)
    for w, spec in enumerate(world.warehouses):
        for pos, code in enumerate(spec.default_carriers):
            pref[w, world.carrier_codes.index(code)] = pos
    pos = pref[sc["warehouse"][s], qc["carrier"]]

    inf = np.inf
    default_row = _argmin_per_group(s, np.where(valid, pos * 1e6 + price, inf), n_ship)
    cheapest_row = _argmin_per_group(s, np.where(valid, price, inf), n_ship)

    util = -price / 6.0 - 0.7 * qc["promised_days"] + 0.4 * (pos == 0)
    util = np.where(valid, util, -inf)
    starts = _segments(s, n_ship)
    gmax = np.maximum.reduceat(util, starts[:-1])
    w = np.exp(util - gmax[s])
    gsum = np.add.reduceat(w, starts[:-1])
    p_disp = w / gsum[s]

    mix = np.where(sc["is_return"][:, None], RETURN_MIX[None, :], OUTBOUND_MIX[None, :])
    onehot_default = np.zeros(len(s))
    onehot_default[default_row] = 1.0
    onehot_cheapest = np.zeros(len(s))
    onehot_cheapest[cheapest_row] = 1.0
    propensity = (mix[s, 0] * onehot_default + mix[s, 1] * onehot_cheapest
                  + mix[s, 2] * p_disp)

    # Draw the policy, then (for the dispatcher) the quote.
    u = rng.random(n_ship)
    policy = (u[:, None] > np.cumsum(mix, axis=1)).sum(axis=1)
    policy = np.minimum(policy, len(POLICIES) - 1)
    cum = np.cumsum(p_disp)
    offset = np.concatenate([[0.0], cum])[starts[:-1]]
    target = offset + rng.random(n_ship) * (cum[starts[1:] - 1] - offset)
    disp_row = np.minimum(np.searchsorted(cum, target, side="left"), starts[1:] - 1)
    disp_row = np.maximum(disp_row, starts[:-1])
    # Guard against floating-point drift landing on a zero-probability quote.
    bad = ~valid[disp_row]
    disp_row[bad] = cheapest_row[bad]
    chosen = np.select([policy == 0, policy == 1], [default_row, cheapest_row], disp_row)
    return chosen, policy, np.round(propensity, 6)
