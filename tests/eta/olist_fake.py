"""A small synthetic directory in the Olist table formats (made-up orders, no real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

STATES = {"SP": ("01001", -23.55, -46.63), "RJ": ("20010", -22.90, -43.17),
          "MG": ("30110", -19.92, -43.94), "BA": ("40010", -12.97, -38.50),
          "RS": ("90010", -30.03, -51.23)}
SLOW = {"SP": 0.0, "RJ": 3.0, "MG": 2.0, "BA": 7.0, "RS": 5.0}


def write_fake_olist(out: Path, n_orders: int = 600, seed: int = 0) -> Path:
    """Orders over 2017-01 .. 2018-02 whose delivery time depends on the customer's state, the
    weight and the purchase weekday, with Olist-like cautious estimates."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    states = list(STATES)
    purchase = pd.Timestamp("2017-01-02") + pd.to_timedelta(
        np.sort(rng.uniform(0, 420, n_orders)), unit="D")
    purchase = purchase.floor("s")
    cust_state = rng.choice(states, n_orders, p=[0.45, 0.2, 0.15, 0.1, 0.1])
    seller_state = rng.choice(["SP", "MG"], n_orders, p=[0.8, 0.2])
    weight = rng.lognormal(6.5, 1.0, n_orders).round()
    base = 3 + np.array([SLOW[s] for s in cust_state]) + weight / 4000
    days = base * rng.lognormal(0, 0.35, n_orders) + (purchase.day_of_week >= 4) * 1.5
    handed = purchase + pd.to_timedelta(rng.uniform(0.5, 3, n_orders), unit="D")
    delivered = purchase + pd.to_timedelta(np.maximum(days, 0.6) + 1.5, unit="D")
    estimate = (purchase + pd.to_timedelta(base * 2.2 + 8, unit="D")).normalize()
    status = np.where(rng.random(n_orders) < 0.95, "delivered", "shipped")
    fmt = "%Y-%m-%d %H:%M:%S"
    order_ids = [f"o{i:05d}" for i in range(n_orders)]
    orders = pd.DataFrame({
        "order_id": order_ids, "customer_id": [f"c{i:05d}" for i in range(n_orders)],
        "order_status": status,
        "order_purchase_timestamp": purchase.strftime(fmt),
        "order_approved_at": (purchase + pd.Timedelta(minutes=20)).strftime(fmt),
        "order_delivered_carrier_date": handed.strftime(fmt),
        "order_delivered_customer_date": np.where(status == "delivered",
                                                  delivered.strftime(fmt), ""),
        "order_estimated_delivery_date": estimate.strftime(fmt),
    })
    sellers = pd.DataFrame({"seller_id": ["s0", "s1", "s2"],
                            "seller_zip_code_prefix": [STATES["SP"][0], STATES["SP"][0],
                                                       STATES["MG"][0]],
                            "seller_city": ["sao paulo", "sao paulo", "belo horizonte"],
                            "seller_state": ["SP", "SP", "MG"]})
    seller = np.where(seller_state == "MG", "s2", rng.choice(["s0", "s1"], n_orders))
    items = pd.DataFrame({
        "order_id": order_ids, "order_item_id": 1,
        "product_id": [f"p{i % 40:03d}" for i in range(n_orders)], "seller_id": seller,
        "shipping_limit_date": (purchase + pd.Timedelta(days=4)).strftime(fmt),
        "price": rng.uniform(10, 300, n_orders).round(2),
        "freight_value": rng.uniform(5, 60, n_orders).round(2),
    })
    products = pd.DataFrame({
        "product_id": [f"p{i:03d}" for i in range(40)],
        "product_category_name": rng.choice(["beleza_saude", "esporte_lazer"], 40),
        "product_name_lenght": 40, "product_description_lenght": 300, "product_photos_qty": 1,
        "product_weight_g": rng.lognormal(6.5, 1.0, 40).round(),
        "product_length_cm": 20, "product_height_cm": 10, "product_width_cm": 15,
    })
    customers = pd.DataFrame({
        "customer_id": orders["customer_id"], "customer_unique_id": orders["customer_id"],
        "customer_zip_code_prefix": [int(STATES[s][0]) for s in cust_state],
        "customer_city": "city", "customer_state": cust_state,
    })
    categories = pd.DataFrame({"product_category_name": ["beleza_saude", "esporte_lazer"],
                               "product_category_name_english": ["health_beauty",
                                                                 "sports_leisure"]})
    geo = pd.DataFrame({
        "zip_code_prefix_5": [v[0] for v in STATES.values()],
        "zip_code_prefix": [int(v[0]) for v in STATES.values()],
        "lat": [v[1] for v in STATES.values()], "lng": [v[2] for v in STATES.values()],
        "geo_city": "city", "geo_state": list(STATES),
    })
    for name, df in {"olist_orders_dataset.csv": orders,
                     "olist_order_items_dataset.csv": items,
                     "olist_customers_dataset.csv": customers,
                     "olist_sellers_dataset.csv": sellers,
                     "olist_products_dataset.csv": products,
                     "product_category_name_translation.csv": categories,
                     "geolocation_zip_prefix_median.csv": geo}.items():
        df.to_csv(out / name, index=False)
    return out
