"""Seeded demo database: a US warehouse shipping to customers in ten countries.

Deterministic for a given seed and clock: the same ``OdooSandbox(seed=…, clock=…)`` always
holds the same rows. Ids of the base records follow Odoo's usual ones (company partner 1,
OdooBot uid 1 / partner 2, admin uid 2 / partner 3) so fixtures read naturally.

Content: the standard reference records a fresh database has (activity types and message
subtypes with their XML ids, ``ir.model`` rows, picking types), five delivery methods, ~20
customers, 30+ sales orders with outgoing transfers in every state (most of them Ready), a few
backorders, and receipts, which a client must filter out with ``picking_type_code``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .business import action_assign
from .models import recompute_delivery_status
from .orm import Env

COUNTRIES: tuple[tuple[int, str, str], ...] = (
    (233, "United States", "US"),
    (57, "Germany", "DE"),
    (75, "France", "FR"),
    (165, "Netherlands", "NL"),
    (231, "United Kingdom", "GB"),
    (31, "Brazil", "BR"),
    (38, "Canada", "CA"),
    (21, "Belgium", "BE"),
    (68, "Spain", "ES"),
    (109, "Italy", "IT"),
)
STATES: tuple[tuple[str, str, str], ...] = (
    ("US", "CA", "California"),
    ("US", "NY", "New York"),
    ("US", "TX", "Texas"),
    ("US", "WA", "Washington"),
    ("US", "IL", "Illinois"),
    ("US", "GA", "Georgia"),
    ("US", "MA", "Massachusetts"),
    ("BR", "SP", "São Paulo"),
    ("BR", "RJ", "Rio de Janeiro"),
    ("CA", "ON", "Ontario"),
    ("CA", "QC", "Quebec"),
)
#: name | street | city | zip | state code | country code | phone
_CUSTOMER_TABLE = """
Deco Addict | 77 Santa Barbara Rd | Pleasant Hill | 94523 | CA | US | +1 925-555-0142
Lumen Home Goods | 410 W 42nd St | New York | 10036 | NY | US | +1 212-555-0187
Lone Star Outfitters | 2100 Ross Ave | Dallas | 75201 | TX | US | +1 214-555-0123
Rainier Coffee Supply | 1201 2nd Ave | Seattle | 98101 | WA | US | +1 206-555-0166
Windy City Cycles | 233 S Wacker Dr | Chicago | 60606 | IL | US | +1 312-555-0119
Peachtree Paper Co. | 191 Peachtree St NE | Atlanta | 30303 | GA | US | +1 404-555-0175
Harbor Lights Books | 100 Cambridge St | Boston | 02114 | MA | US | +1 617-555-0131
Bergmann Werkzeuge GmbH | Friedrichstraße 68 | Berlin | 10117 | | DE | +49 30 5550172
Kaffeerösterei Hansen | Großer Burstah 31 | Hamburg | 20457 | | DE | +49 40 5550148
Alpenblick Sport | Leopoldstraße 42 | München | 80802 | | DE | +49 89 5550193
Atelier Moreau | 18 Rue de Rivoli | Paris | 75004 | | FR | +33 1 55 50 01 27
Maison Lefèvre | 7 Quai Saint-Antoine | Lyon | 69002 | | FR | +33 4 55 50 01 64
De Vries Fietsen | Damrak 70 | Amsterdam | 1012 LM | | NL | +31 20 555 0138
Rotterdam Design Studio | Coolsingel 40 | Rotterdam | 3011 AD | | NL | +31 10 555 0152
Thornbury Tea Merchants | 22 Long Acre | London | WC2E 9LY | | GB | +44 20 7946 0321
Pennine Outdoor Ltd | 14 Deansgate | Manchester | M3 2EY | | GB | +44 161 496 0457
Casa Verde Decorações | Av. Paulista 1578 | São Paulo | 01310-200 | SP | BR | +55 11 5555-0134
Copacabana Surf Shop | Av. Atlântica 1702 | Rio de Janeiro | 22021-001 | RJ | BR | +55 21 5555-0178
Maple Leaf Crafts | 220 Yonge St | Toronto | M5B 2H1 | ON | CA | +1 416-555-0148
Boréal Plein Air | 1250 Rue Sainte-Catherine O | Montréal | H3G 1P1 | QC | CA | +1 514-555-0161
Chocolaterie Peeters | Grote Markt 1 | Antwerpen | 2000 | | BE | +32 3 555 01 29
Taller Ruiz | Calle de Alcalá 45 | Madrid | 28014 | | ES | +34 915 550 143
Bottega Romano | Via del Corso 120 | Roma | 00186 | | IT | +39 06 5555 0196
"""


def _customers() -> tuple[tuple[str, str, str, str, str | None, str, str], ...]:
    rows = []
    for line in _CUSTOMER_TABLE.strip().splitlines():
        name, street, city, zip_code, state, country, phone = (p.strip() for p in line.split("|"))
        rows.append((name, street, city, zip_code, state or None, country, phone))
    return tuple(rows)


CUSTOMERS = _customers()
FIRST_NAMES = ("Ana", "Ben", "Chloé", "Daan", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas")
LAST_NAMES = ("Almeida", "Becker", "Clarke", "Dubois", "Evans", "Fischer", "Janssen", "Rossi")
#: default_code, name, weight in kg
PRODUCTS: tuple[tuple[str, str, float], ...] = (
    ("FURN_0001", "Desk Lamp", 1.2),
    ("FURN_0002", "Office Chair", 12.5),
    ("FURN_0003", "Bookshelf", 18.0),
    ("ACC_0001", "Ceramic Mug", 0.35),
    ("ACC_0002", "Notebook A5", 0.25),
    ("ELEC_0001", "USB-C Hub", 0.15),
    ("ELEC_0002", "Wireless Keyboard", 0.6),
    ("TEXT_0001", "Wool Blanket", 1.8),
    ("GARD_0001", "Garden Hose 25 m", 3.2),
    ("KIT_0001", "Cast Iron Skillet", 2.4),
)
#: name, delivery_type, price, tracking link template (18.0+)
CARRIERS: tuple[tuple[str, str, float, str | None], ...] = (
    ("UPS Ground", "fixed", 12.5, "https://www.ups.com/track?tracknum=<shipmenttrackingnumber>"),
    (
        "FedEx Home Delivery",
        "fixed",
        14.9,
        "https://www.fedex.com/fedextrack/?trknbr=<shipmenttrackingnumber>",
    ),
    (
        "DHL Express Worldwide",
        "base_on_rule",
        39.0,
        "https://www.dhl.com/en/express/tracking.html?AWB=<shipmenttrackingnumber>",
    ),
    (
        "USPS Priority Mail",
        "fixed",
        9.85,
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=<shipmenttrackingnumber>",
    ),
    ("Standard Delivery", "fixed", 5.0, None),
)
#: xml id suffix, name, category, extra values
ACTIVITY_TYPES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("mail_activity_data_email", "Email", "default", {"icon": "fa-envelope"}),
    ("mail_activity_data_call", "Call", "phonecall", {"icon": "fa-phone"}),
    ("mail_activity_data_meeting", "Meeting", "default", {"icon": "fa-users"}),
    ("mail_activity_data_todo", "To-Do", "default", {"icon": "fa-check"}),
    ("mail_activity_data_upload_document", "Upload Document", "upload_file", {"icon": "fa-upload"}),
    (
        "mail_activity_data_warning",
        "Exception",
        "default",
        {"icon": "fa-warning", "decoration_type": "warning", "active": False},
    ),
)
MODEL_MODULES = {
    "stock": "stock",
    "delivery": "delivery",
    "sale": "sale",
    "mail": "mail",
    "product": "product",
    "uom": "uom",
}
#: Outgoing transfer states and their weights in the seeded data.
PICKING_STATES = (
    ("assigned", 50),
    ("confirmed", 14),
    ("waiting", 5),
    ("done", 20),
    ("cancel", 6),
    ("draft", 5),
)
TRACKING_PREFIX = {"UPS": "1Z999AA1", "FedEx": "7946", "DHL": "JD0146", "USPS": "9400"}


@dataclass
class DemoIds:
    customers: list[int]
    products: list[int]
    carriers: list[int]
    vendors: list[int]


class DemoData:
    """Builds the demo rows; kept by the sandbox to create more transfers later."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids = DemoIds([], [], [], [])

    # -- reference data -------------------------------------------------------------------

    def seed_base(self, env: Env, *, login: str) -> None:
        """Records every database has, with their Odoo XML ids."""
        self._seed_countries(env)
        self._partner(
            env,
            1,
            name="Waybill Demo Co.",
            is_company=True,
            street="1 Market St",
            city="San Francisco",
            zip="94105",
            state="CA",
            country="US",
            phone="+1 415-555-0100",
            email="shipping@waybill-demo.example",
        )
        self._insert(env, "res.company", 1, {"name": "Waybill Demo Co.", "partner_id": 1})
        self._partner(env, 2, name="OdooBot", email="odoobot@waybill-demo.example")
        self._partner(env, 3, name="Mitchell Admin", email="admin@waybill-demo.example")
        groups = []
        for rid, name, xmlid in (
            (1, "Internal User", "group_user"),
            (2, "Access Rights", "group_erp_manager"),
            (3, "Settings", "group_system"),
        ):
            self._insert(env, "res.groups", rid, {"name": name})
            self._xmlid(env, "base", xmlid, "res.groups", rid)
            groups.append(rid)
        users_fields = env.db.model("res.users").fields
        group_field = "group_ids" if "group_ids" in users_fields else "groups_id"
        for rid, user_login, partner, active in ((1, "__system__", 2, False), (2, login, 3, True)):
            env.create_one(
                "res.users",
                {"login": user_login, "partner_id": partner, "active": active},
            )
            if rid == 2:
                env.write("res.users", [2], {group_field: [(6, 0, groups)]})
        self._xmlid(env, "base", "user_root", "res.users", 1)
        self._xmlid(env, "base", "user_admin", "res.users", 2)
        self._xmlid(env, "base", "main_company", "res.company", 1)
        self._xmlid(env, "base", "main_partner", "res.partner", 1)
        self._xmlid(env, "base", "partner_root", "res.partner", 2)
        self._xmlid(env, "base", "partner_admin", "res.partner", 3)
        for rid, name in ((1, "Units"), (12, "kg")):
            self._insert(env, "uom.uom", rid, {"name": name})
        self._xmlid(env, "uom", "product_uom_unit", "uom.uom", 1)
        self._xmlid(env, "uom", "product_uom_kgm", "uom.uom", 12)
        for rid, name, complete, usage, xmlid in (
            (4, "Vendors", "Partners/Vendors", "supplier", "stock_location_suppliers"),
            (5, "Customers", "Partners/Customers", "customer", "stock_location_customers"),
            (8, "Stock", "WH/Stock", "internal", "stock_location_stock"),
        ):
            self._insert(
                env,
                "stock.location",
                rid,
                {"name": name, "complete_name": complete, "usage": usage},
            )
            self._xmlid(env, "stock", xmlid, "stock.location", rid)
        self._insert(
            env,
            "stock.warehouse",
            1,
            {"name": "San Francisco", "code": "WH", "partner_id": 1, "company_id": 1},
        )
        self._xmlid(env, "stock", "warehouse0", "stock.warehouse", 1)
        for name, code, seq, src, dest, xmlid in (
            ("Receipts", "incoming", "IN", 4, 8, "picking_type_in"),
            ("Delivery Orders", "outgoing", "OUT", 8, 5, "picking_type_out"),
            ("Internal Transfers", "internal", "INT", 8, 8, "picking_type_internal"),
        ):
            rid = env.create_one(
                "stock.picking.type",
                {
                    "name": name,
                    "code": code,
                    "sequence_code": seq,
                    "warehouse_id": 1,
                    "default_location_src_id": src,
                    "default_location_dest_id": dest,
                },
            )
            self._xmlid(env, "stock", xmlid, "stock.picking.type", rid)
        for name, internal, xmlid in (
            ("Discussions", False, "mt_comment"),
            ("Note", True, "mt_note"),
            ("Activities", False, "mt_activities"),
        ):
            rid = env.create_one("mail.message.subtype", {"name": name, "internal": internal})
            self._xmlid(env, "mail", xmlid, "mail.message.subtype", rid)
        self._seed_models(env)
        type_fields = env.db.model("mail.activity.type").fields
        for xmlid, name, category, extra in ACTIVITY_TYPES:
            if xmlid == "mail_activity_data_upload_document" and env.db.version == "19.0":
                name = "Document"
            vals = {"name": name, "category": category, **extra}
            if "keep_done" in type_fields:
                vals["keep_done"] = False
            rid = env.create_one("mail.activity.type", vals)
            self._xmlid(env, "mail", xmlid, "mail.activity.type", rid)

    def _seed_models(self, env: Env) -> None:
        for name in sorted(env.db.schema):
            schema = env.db.schema[name]
            rid = env.create_one(
                "ir.model", {"model": name, "name": schema.description, "state": "base"}
            )
            module = MODEL_MODULES.get(name.split(".")[0], "base")
            self._xmlid(env, module, f"model_{name.replace('.', '_')}", "ir.model", rid)

    def _insert(self, env: Env, model: str, rid: int, vals: dict[str, Any]) -> None:
        """A row with a fixed id (Odoo's usual ids for base records)."""
        schema = env.db.model(model)
        row: dict[str, Any] = {
            f.name: env._empty(f) for f in schema.fields.values() if f.column and f.name != "id"
        }
        row.update(vals)
        now = env.tx.now
        row.update(create_uid=1, create_date=now, write_uid=1, write_date=now)
        env.db.store.insert(model, row, rid=rid)

    def _xmlid(self, env: Env, module: str, name: str, model: str, res_id: int) -> None:
        env.create_one(
            "ir.model.data",
            {"module": module, "name": name, "model": model, "res_id": res_id, "noupdate": True},
        )

    def _country(self, env: Env, code: str) -> int:
        for row in env.db.store.rows("res.country"):
            if row.get("code") == code:
                return int(row["id"])
        raise KeyError(code)

    def _state(self, env: Env, country: str, code: str | None) -> int | None:
        if code is None:
            return None
        country_id = self._country(env, country)
        for row in env.db.store.rows("res.country.state"):
            if row.get("code") == code and row.get("country_id") == country_id:
                return int(row["id"])
        return None

    def _partner(self, env: Env, rid: int | None, **values: Any) -> int:
        country = values.pop("country", None)
        state = values.pop("state", None)
        vals = dict(values)
        if country:
            vals["country_id"] = self._country(env, country)
            vals["state_id"] = self._state(env, country, state) or False
        created = env.create_one("res.partner", vals)
        if rid is not None and created != rid:
            raise RuntimeError(f"res.partner {rid} expected, got {created}")
        return created

    def _seed_countries(self, env: Env) -> None:
        for rid, name, code in COUNTRIES:
            self._insert(env, "res.country", rid, {"name": name, "code": code})
            self._xmlid(env, "base", code.lower(), "res.country", rid)
        for country, code, name in STATES:
            rid = env.create_one(
                "res.country.state",
                {"name": name, "code": code, "country_id": self._country(env, country)},
            )
            self._xmlid(
                env, "base", f"state_{country.lower()}_{code.lower()}", "res.country.state", rid
            )

    # -- business data ----------------------------------------------------------------------

    def seed_business(self, env: Env, *, customers: int = 20, orders: int = 32) -> None:
        rng = self.rng
        for code, name, weight in PRODUCTS:
            pid = env.create_one(
                "product.product",
                {"name": name, "default_code": code, "type": "consu", "weight": weight,
                 "uom_id": 1},
            )  # fmt: skip
            self.ids.products.append(pid)
        carrier_fields = env.db.model("delivery.carrier").fields
        for name, delivery_type, price, url in CARRIERS:
            product = env.create_one(
                "product.product", {"name": name, "type": "service", "uom_id": 1}
            )
            vals: dict[str, Any] = {
                "name": name,
                "delivery_type": delivery_type,
                "product_id": product,
                "fixed_price": price,
                "integration_level": "rate_and_ship",
            }
            if "tracking_url" in carrier_fields and url:
                vals["tracking_url"] = url
            self.ids.carriers.append(env.create_one("delivery.carrier", vals))
        pool = list(CUSTOMERS)
        rng.shuffle(pool)
        for name, street, city, zip_code, state, country, phone in pool[:customers]:
            words = [w for w in name.lower().split() if w not in ("gmbh", "ltd", "co.")]
            slug = "".join(ch for ch in "".join(words[:2]) if ch.isascii() and ch.isalnum())
            company = self._partner(
                env,
                None,
                name=name,
                is_company=True,
                street=street,
                city=city,
                zip=zip_code,
                state=state,
                country=country,
                phone=phone,
                email=f"orders@{slug}.example",
            )
            self.ids.customers.append(company)
            if rng.random() < 0.3:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                contact = self._partner(
                    env,
                    None,
                    name=f"{first} {last}",
                    parent_id=company,
                    type="delivery",
                    street=street,
                    city=city,
                    zip=zip_code,
                    state=state,
                    country=country,
                    phone=phone,
                    email=f"{first.lower()}.{last.lower()}@{slug}.example",
                )
                self.ids.customers.append(contact)
        for name, city, country in (
            ("Holzwerk Schmidt KG", "Stuttgart", "DE"),
            ("Pacific Ceramics Inc.", "Oakland", "US"),
        ):
            self.ids.vendors.append(
                self._partner(
                    env, None, name=name, is_company=True, city=city, country=country,
                    state="CA" if country == "US" else None,
                )
            )  # fmt: skip
        states = [s for s, _w in PICKING_STATES]
        weights = [w for _s, w in PICKING_STATES]
        done_orders: list[int] = []
        for _ in range(orders):
            state = rng.choices(states, weights)[0]
            picking = self.new_outgoing_order(env, state=state, age_days=rng.uniform(0.5, 20))
            if state == "done":
                done_orders.append(picking)
        for picking in done_orders[:2]:
            self._backorder(env, picking)
        for index in range(6):
            self._receipt(env, index)
        self._seed_activities(env)

    def new_outgoing_order(self, env: Env, *, state: str = "confirmed", age_days: float = 0) -> int:
        """A sales order with its delivery order; returns the picking id."""
        rng = self.rng
        now = env.tx.now
        created = now - timedelta(days=age_days) if age_days else now
        created = created.replace(microsecond=0)
        customer = rng.choice(self.ids.customers)
        carrier = rng.choice(self.ids.carriers) if rng.random() < 0.7 else None
        commitment = created + timedelta(days=rng.randint(2, 7)) if rng.random() < 0.4 else False
        order = env.create_one(
            "sale.order",
            {
                "partner_id": customer,
                "partner_shipping_id": customer,
                "state": "sale",
                "date_order": created,
                "carrier_id": carrier or False,
                "commitment_date": commitment,
                "client_order_ref": f"PO-{rng.randint(10000, 99999)}"
                if rng.random() < 0.5
                else False,
            },
        )
        order_row = env.row("sale.order", order) or {}
        lines = rng.sample(self.ids.products, k=rng.randint(1, 4))
        moves = []
        for product in lines:
            qty = float(rng.randint(1, 5))
            product_row = env.row("product.product", product) or {}
            env.create_one(
                "sale.order.line",
                {"order_id": order, "product_id": product, "name": product_row.get("name"),
                 "product_uom_qty": qty},
            )  # fmt: skip
            moves.append((0, 0, {"product_id": product, "product_uom_qty": qty}))
        picking = env.create_one(
            "stock.picking",
            {
                "picking_type_id": self._picking_type(env, "outgoing"),
                "partner_id": customer,
                "carrier_id": carrier or False,
                "origin": order_row.get("name"),
                "sale_id": order,
                "scheduled_date": created + timedelta(days=rng.randint(1, 3)),
                "priority": "1" if rng.random() < 0.1 else "0",
                "move_ids": moves,
            },
        )
        self._set_state(env, picking, state, created)
        recompute_delivery_status(env, order)
        self._backdate(env, "sale.order", order, created, created + timedelta(minutes=5))
        return picking

    def _picking_type(self, env: Env, code: str) -> int:
        for row in env.db.store.rows("stock.picking.type"):
            if row.get("code") == code:
                return int(row["id"])
        raise KeyError(code)

    def _set_state(self, env: Env, picking: int, state: str, created: datetime) -> None:
        rng = self.rng
        moves = [m["id"] for m in env.db.store.rows("stock.move") if m.get("picking_id") == picking]
        if state == "draft":
            pass
        elif state in ("confirmed", "waiting"):
            env.write("stock.move", moves, {"state": state})
            env.write("stock.picking", [picking], {"state": state})
        elif state == "assigned":
            env.write("stock.picking", [picking], {"state": "confirmed"})
            env.write("stock.move", moves, {"state": "confirmed"})
            action_assign(env, [picking])
        elif state == "cancel":
            env.write("stock.move", moves, {"state": "cancel"})
            env.write("stock.picking", [picking], {"state": "cancel"})
        elif state == "done":
            for move in moves:
                row = env.row("stock.move", move) or {}
                env.write(
                    "stock.move",
                    [move],
                    {"state": "done", "picked": True, "quantity": row.get("product_uom_qty")},
                )
            done_at = created + timedelta(hours=rng.randint(4, 48))
            done_at = min(done_at, env.tx.now - timedelta(minutes=10))
            vals: dict[str, Any] = {"state": "done", "date_done": done_at}
            row = env.row("stock.picking", picking) or {}
            carrier = env.row("delivery.carrier", row.get("carrier_id") or 0)
            if carrier is not None:
                prefix = next(
                    (p for k, p in TRACKING_PREFIX.items() if str(carrier["name"]).startswith(k)),
                    "SBX",
                )
                vals["carrier_tracking_ref"] = f"{prefix}{rng.randint(10**9, 10**10 - 1)}"
                vals["carrier_price"] = carrier.get("fixed_price") or 0.0
            env.write("stock.picking", [picking], vals)
        written = created + timedelta(minutes=rng.randint(1, 600))
        self._backdate(env, "stock.picking", picking, created, min(written, env.tx.now))
        for move in moves:
            self._backdate(env, "stock.move", move, created, created)

    def _backdate(
        self, env: Env, model: str, rid: int, created: datetime, written: datetime
    ) -> None:
        env.db.store.update(model, rid, {"create_date": created, "write_date": written})

    def _backorder(self, env: Env, picking: int) -> None:
        row = env.row("stock.picking", picking) or {}
        product = self.rng.choice(self.ids.products)
        backorder = env.create_one(
            "stock.picking",
            {
                "picking_type_id": row.get("picking_type_id"),
                "partner_id": row.get("partner_id"),
                "carrier_id": row.get("carrier_id") or False,
                "origin": row.get("origin"),
                "sale_id": row.get("sale_id") or False,
                "backorder_id": picking,
                "move_ids": [(0, 0, {"product_id": product, "product_uom_qty": 1.0})],
            },
        )
        created = row.get("date_done") or env.tx.now
        self._set_state(env, backorder, "confirmed", created)
        if row.get("sale_id"):
            recompute_delivery_status(env, int(row["sale_id"]))

    def _receipt(self, env: Env, index: int) -> None:
        rng = self.rng
        vendor = self.ids.vendors[index % len(self.ids.vendors)]
        created = (env.tx.now - timedelta(days=rng.uniform(1, 15))).replace(microsecond=0)
        products = rng.sample(self.ids.products, k=2)
        picking = env.create_one(
            "stock.picking",
            {
                "picking_type_id": self._picking_type(env, "incoming"),
                "partner_id": vendor,
                "origin": f"P{index + 1:05d}",
                "scheduled_date": created + timedelta(days=2),
                "move_ids": [
                    (0, 0, {"product_id": p, "product_uom_qty": float(rng.randint(10, 40))})
                    for p in products
                ],
            },
        )
        self._set_state(env, picking, "done" if index % 2 else "assigned", created)

    def _seed_activities(self, env: Env) -> None:
        ready = env.search(
            "stock.picking",
            [("picking_type_code", "=", "outgoing"), ("state", "=", "assigned")],
            limit=2,
            order="id asc",
        )
        todo = next(
            r["res_id"]
            for r in env.db.store.rows("ir.model.data")
            if r["name"] == "mail_activity_data_todo"
        )
        model_id = next(
            r["id"] for r in env.db.store.rows("ir.model") if r["model"] == "stock.picking"
        )
        for offset, picking in enumerate(ready):
            env.create_one(
                "mail.activity",
                {
                    "res_model_id": model_id,
                    "res_id": picking,
                    "activity_type_id": todo,
                    "summary": "Check the delivery address",
                    "date_deadline": (env.tx.now + timedelta(days=offset)).date(),
                    "user_id": 2,
                },
            )


def default_api_key(seed: int) -> str:
    """40 hex characters, like ``binascii.hexlify(os.urandom(20))`` (reference §1.4)."""
    return f"{random.Random(f'api-key:{seed}').getrandbits(160):040x}"
