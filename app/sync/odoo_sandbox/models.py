"""Per-model behaviour: defaults, computed fields, display names and recomputations.

Everything here reproduces what the Odoo modules do for these models as far as the reference
describes it (section numbers cite ``odoo-external-api.md``). Where Odoo's behaviour depends on
data the sandbox does not model (stock quants, procurement groups, packages) the simplest
consistent value is used and said so.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
from datetime import date
from typing import Any

from .errors import MissingError, ValidationError
from .orm import NOT_COMPUTED, Env, ModelBehaviour, Row
from .schema import Field

WEIGHT_UOM = "kg"


def today(env: Env) -> date:
    """Today in UTC; the sandbox's users have no time zone."""
    return env.tx.now.date()


class MailThread(ModelBehaviour):
    """``mail.thread`` + ``mail.activity.mixin``: chatter, activities, ``activity_state``."""

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        if field.name == "activity_state":
            return activity_state(env, self.model, row["id"])
        return NOT_COMPUTED

    def before_unlink(self, env: Env, rids: list[int]) -> None:
        """Deleting a document deletes its messages and activities (mail.thread ``unlink``)."""
        gone = set(rids)
        for model, key in (("mail.message", "model"), ("mail.activity", "res_model")):
            doomed = [
                r["id"]
                for r in env.db.store.rows(model)
                if r.get(key) == self.model and r.get("res_id") in gone
            ]
            for rid in doomed:
                env.db.store.delete(model, rid)


def check_document_exists(env: Env, model: str, res_id: Any) -> None:
    """What Odoo's access check on a deleted document raises (the write check of ``mail``)."""
    if model in env.db.schema and env.row(model, int(res_id)) is None:
        raise MissingError(
            "One of the documents you are trying to access has been deleted, please "
            "try again after refreshing.\n\n"
            f"(Document type: {model}, Operation: write, "
            f"Records: [{res_id}], User: {env.uid})"
        )


def activity_state(env: Env, model: str, rid: int) -> str | None:
    """``overdue``/``today``/``planned`` from the earliest open activity of the record."""
    deadlines = [
        a["date_deadline"]
        for a in env.db.store.rows("mail.activity")
        if a.get("res_model") == model and a.get("res_id") == rid and a.get("active", True)
    ]
    if not deadlines:
        return None
    earliest = min(deadlines)
    now = today(env)
    if earliest < now:
        return "overdue"
    return "today" if earliest == now else "planned"


class StockPicking(MailThread):
    """Transfers (reference §2.1)."""

    order = "priority desc, scheduled_date asc, id desc"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": "/",
            "state": "draft",
            "move_type": "direct",
            "priority": "0",
            "scheduled_date": env.tx.now,
            "user_id": env.uid,
        }
        if "date" in env.db.model(self.model).fields:
            values["date"] = env.tx.now
        ptype = env.row("stock.picking.type", vals.get("picking_type_id") or 0)
        if ptype is not None:
            values["location_id"] = ptype.get("default_location_src_id")
            values["location_dest_id"] = ptype.get("default_location_dest_id")
            values["company_id"] = ptype.get("company_id")
        return values

    def prepare_create(self, env: Env, vals: dict[str, Any]) -> None:
        """``name`` comes from the operation type's sequence, e.g. ``WH/OUT/00012``."""
        if vals.get("name") in (None, "/"):
            ptype = env.row("stock.picking.type", vals.get("picking_type_id") or 0)
            if ptype is not None:
                warehouse = env.row("stock.warehouse", ptype.get("warehouse_id") or 0)
                prefix = f"{warehouse['code']}/" if warehouse else ""
                number = env.db.next_sequence(f"stock.picking.type.{ptype['id']}")
                vals["name"] = f"{prefix}{ptype['sequence_code']}/{number:05d}"

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        name = field.name
        if name == "carrier_tracking_url":
            return tracking_url(env, row)
        if name in ("shipping_weight", "weight_bulk"):
            # No packages in the sandbox: everything is bulk weight (stock_delivery compute).
            return row.get("weight") or 0.0
        if name == "weight_uom_name":
            return WEIGHT_UOM
        if name == "is_return_picking":
            # Real Odoo looks for moves with ``origin_returned_move_id`` (not modelled here); the
            # return wizard also names the transfer "Return of <picking>", which we key on.
            return bool(
                row.get("carrier_id") and str(row.get("origin") or "").startswith("Return of ")
            )
        if name == "return_label_ids":
            carrier = env.row("delivery.carrier", row.get("carrier_id") or 0)
            prefix = f"LabelReturn-{carrier['delivery_type']}" if carrier else None
            return tuple(
                a["id"]
                for a in env.db.store.rows("ir.attachment")
                if prefix
                and a.get("res_model") == self.model
                and a.get("res_id") == row["id"]
                and str(a.get("name") or "").startswith(prefix)
            )
        if name in ("package_ids", "move_line_ids"):
            return ()
        return super().compute(env, row, field)

    def after_write(self, env: Env, rid: int, old: Row, vals: dict[str, Any]) -> None:
        row = env.row(self.model, rid)
        if row is not None and row.get("state") != old.get("state") and row.get("sale_id"):
            recompute_delivery_status(env, int(row["sale_id"]))

    def before_unlink(self, env: Env, rids: list[int]) -> None:
        moves = [m["id"] for m in env.db.store.rows("stock.move") if m.get("picking_id") in rids]
        if moves:
            env.unlink("stock.move", moves)
        super().before_unlink(env, rids)


def tracking_url(env: Env, row: Row) -> str | None:
    """``carrier_tracking_url`` (reference §2.1): fixed/base_on_rule carriers have no link in 17.0;
    from 18.0 the carrier's ``tracking_url`` template gets the reference substituted."""
    ref = row.get("carrier_tracking_ref")
    carrier = env.row("delivery.carrier", row.get("carrier_id") or 0)
    if not ref or carrier is None:
        return None
    template = carrier.get("tracking_url")
    if env.db.version == "17.0" or not template:
        return None
    return str(template).replace("<shipmenttrackingnumber>", str(ref))


def recompute_delivery_status(env: Env, order_id: int) -> None:
    """``sale.order.delivery_status`` (stored compute) from the order's outgoing transfers."""
    pickings = [
        p
        for p in env.db.store.rows("stock.picking")
        if p.get("sale_id") == order_id and p.get("state") != "cancel"
    ]
    if not pickings:
        status = None
    elif all(p.get("state") == "done" for p in pickings):
        status = "full"
    elif any(p.get("state") == "done" for p in pickings):
        status = "partial"
    else:
        status = "pending"
    env.update_computed("sale.order", order_id, {"delivery_status": status})


def recompute_picking_weight(env: Env, picking_id: int) -> None:
    """``stock.picking.weight``: stored compute, the sum of the weights of its live moves."""
    total = sum(
        float(m.get("weight") or 0.0)
        for m in env.db.store.rows("stock.move")
        if m.get("picking_id") == picking_id and m.get("state") != "cancel"
    )
    env.update_computed("stock.picking", picking_id, {"weight": round(total, 4)})


class StockMove(ModelBehaviour):
    """Moves of a transfer (reference §2.2); ``weight`` feeds the picking's ``weight``."""

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        product = env.row("product.product", vals.get("product_id") or 0)
        values: dict[str, Any] = {"state": "draft", "picked": False}
        if product is not None:
            values["product_uom"] = product.get("uom_id")
            if "name" in env.db.model(self.model).fields:
                values["name"] = product.get("name")
        picking = env.row("stock.picking", vals.get("picking_id") or 0)
        if picking is not None:
            values["origin"] = picking.get("origin")
        return values

    def _refresh(self, env: Env, rid: int, old_picking: int | None) -> None:
        row = env.row(self.model, rid)
        if row is None:
            return
        product = env.row("product.product", row.get("product_id") or 0)
        unit = float(product.get("weight") or 0.0) if product else 0.0
        weight = round(unit * float(row.get("product_uom_qty") or 0.0), 4)
        env.update_computed(self.model, rid, {"weight": weight})
        for picking_id in {old_picking, row.get("picking_id")}:
            if picking_id:
                recompute_picking_weight(env, int(picking_id))

    def after_create(self, env: Env, rid: int, vals: dict[str, Any]) -> None:
        self._refresh(env, rid, None)

    def after_write(self, env: Env, rid: int, old: Row, vals: dict[str, Any]) -> None:
        if {"product_id", "product_uom_qty", "picking_id", "state"} & set(vals):
            self._refresh(env, rid, old.get("picking_id"))

    def after_unlink(self, env: Env, rows: list[Row]) -> None:
        for picking_id in {r.get("picking_id") for r in rows}:
            if picking_id and env.row("stock.picking", int(picking_id)) is not None:
                recompute_picking_weight(env, int(picking_id))

    def display_name(self, env: Env, row: Row) -> str:
        """17.0 ``stock.move._compute_display_name``: ``origin/code: source>destination``."""
        picking = env.row("stock.picking", row.get("picking_id") or 0) or {}
        product = env.row("product.product", row.get("product_id") or 0) or {}
        source = env.row("stock.location", picking.get("location_id") or 0) or {}
        dest = env.row("stock.location", picking.get("location_dest_id") or 0) or {}
        origin = f"{picking['origin']}/" if picking.get("origin") else ""
        code = f"{product['default_code']}: " if product.get("default_code") else ""
        return f"{origin}{code}{source.get('name', '')}>{dest.get('name', '')}"


class StockPickingType(ModelBehaviour):
    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {
            "active": True,
            "create_backorder": "ask",
            "company_id": 1,
            "print_label": False,
        }

    def display_name(self, env: Env, row: Row) -> str:
        """``Warehouse: Operation type`` (stock ``_compute_display_name``)."""
        warehouse = env.row("stock.warehouse", row.get("warehouse_id") or 0)
        if warehouse:
            return f"{warehouse['name']}: {row.get('name')}"
        return str(row.get("name") or "")


class DeliveryCarrier(ModelBehaviour):
    """Shipping methods (reference §2.3)."""

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {
            "active": True,
            "delivery_type": "fixed",
            "integration_level": "rate_and_ship",
            "invoice_policy": "estimated",
            "prod_environment": False,
        }

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        if field.name == "can_generate_return":
            return False
        return super().compute(env, row, field)


class SaleOrder(MailThread):
    """Sales orders (reference §2.4)."""

    order = "date_order desc, id desc"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "state": "draft",
            "date_order": env.tx.now,
            "company_id": 1,
            "warehouse_id": 1,
        }
        if vals.get("partner_id"):
            values["partner_shipping_id"] = vals["partner_id"]
        return values

    def prepare_create(self, env: Env, vals: dict[str, Any]) -> None:
        if vals.get("name") in (None, "/", "New"):
            vals["name"] = f"S{env.db.next_sequence('sale.order'):05d}"

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        if field.name == "expected_date":
            return row.get("commitment_date") or row.get("date_order")
        if field.name == "delivery_count":
            return sum(
                1 for p in env.db.store.rows("stock.picking") if p.get("sale_id") == row["id"]
            )
        return super().compute(env, row, field)


class ResPartner(MailThread):
    """Contacts (reference §2.5)."""

    order = "display_name asc, id desc"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {"type": "contact", "is_company": False}

    def display_name(self, env: Env, row: Row) -> str:
        """``Company, Contact`` for a person under a company (``_get_complete_name``)."""
        name = str(row.get("name") or "")
        parent = env.row("res.partner", row.get("parent_id") or 0)
        if parent is not None and not row.get("is_company"):
            return f"{parent.get('name') or ''}, {name}" if name else str(parent.get("name"))
        return name

    def after_create(self, env: Env, rid: int, vals: dict[str, Any]) -> None:
        self._commercial(env, rid)

    def after_write(self, env: Env, rid: int, old: Row, vals: dict[str, Any]) -> None:
        if "parent_id" in vals or "is_company" in vals:
            self._commercial(env, rid)

    def _commercial(self, env: Env, rid: int) -> None:
        row = env.row(self.model, rid)
        if row is None:
            return
        target = rid
        parent = env.row(self.model, row.get("parent_id") or 0)
        if parent is not None and not row.get("is_company"):
            target = parent.get("commercial_partner_id") or parent["id"]
        if row.get("commercial_partner_id") != target:
            env.db.store.update(self.model, rid, {"commercial_partner_id": target})


class IrAttachment(ModelBehaviour):
    """Attachments (reference §2.6): content held in ``db_datas``; size, checksum and mimetype
    are derived on create, and values passed in for them are dropped."""

    order = "id desc"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {"type": "binary", "public": False}

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        for key in ("file_size", "checksum", "store_fname"):
            vals.pop(key, None)

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        content: bytes | None = row.get("db_datas")
        if field.name == "datas":
            return base64.b64encode(content).decode("ascii") if content else None
        if field.name == "raw":
            return content or None
        return super().compute(env, row, field)

    def inverse(self, env: Env, rid: int, field: Field, value: Any) -> None:
        if field.name == "datas":
            raw = base64.b64decode(value) if value else b""
        else:
            raw = value.encode() if isinstance(value, str) else bytes(value or b"")
        env.db.store.update(
            self.model,
            rid,
            {
                "db_datas": raw,
                "file_size": len(raw),
                "checksum": hashlib.sha1(raw).hexdigest() if raw else None,
            },
        )

    def after_create(self, env: Env, rid: int, vals: dict[str, Any]) -> None:
        row = env.row(self.model, rid)
        if row is not None and not row.get("mimetype"):
            env.db.store.update(self.model, rid, {"mimetype": guess_mimetype(row)})


def guess_mimetype(row: Row) -> str:
    """``_compute_mimetype``: from the name, else the url, else the content."""
    for source in (row.get("name"), row.get("url")):
        if source:
            guessed = mimetypes.guess_type(str(source))[0]
            if guessed:
                return guessed
    content: bytes = row.get("db_datas") or b""
    signatures = (
        (b"%PDF", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
    )
    for magic, mimetype in signatures:
        if content.startswith(magic):
            return mimetype
    return "application/octet-stream"


class MailActivity(ModelBehaviour):
    """Activities (reference §2.7)."""

    order = "date_deadline asc, id asc"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "user_id": env.uid,
            "date_deadline": today(env),
            "active": True,
            "automated": False,
        }
        todo = xmlid_res_id(env, "mail.mail_activity_data_todo")
        todo_row = env.row("mail.activity.type", todo or 0)
        if todo_row is not None and todo_row.get("active", True):
            values["activity_type_id"] = todo
        res_model = env.context.get("default_res_model")
        if res_model and "res_model_id" not in vals:
            values["res_model_id"] = ir_model_id(env, str(res_model))
        return values

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        """``res_model`` is a readonly related field: a value passed in is dropped in 17.0/18.0
        (only ``res_model_id`` or the ``default_res_model`` context set the model). 19.0 made
        ``res_model_id`` optional and resolves it from ``res_model``."""
        res_model = vals.pop("res_model", None)
        if env.db.version == "19.0" and res_model and not vals.get("res_model_id"):
            vals["res_model_id"] = ir_model_id(env, str(res_model))

    def after_create(self, env: Env, rid: int, vals: dict[str, Any]) -> None:
        row = env.row(self.model, rid)
        assert row is not None
        if not row.get("res_id"):
            raise ValidationError(
                "The operation cannot be completed: Activities have to be linked to records "
                "with a not null res_id."
            )
        self._check_document(env, row)
        self._refresh_name(env, rid)

    def after_write(self, env: Env, rid: int, old: Row, vals: dict[str, Any]) -> None:
        row = env.row(self.model, rid)
        if row is not None and ({"res_id", "res_model_id"} & set(vals)):
            self._check_document(env, row)
            self._refresh_name(env, rid)

    def _check_document(self, env: Env, row: Row) -> None:
        res_model = row.get("res_model")
        if res_model:
            check_document_exists(env, str(res_model), row["res_id"])

    def _refresh_name(self, env: Env, rid: int) -> None:
        row = env.row(self.model, rid)
        if row is None:
            return
        res_model = row.get("res_model")
        name = env.display_name(res_model, int(row["res_id"])) if res_model else None
        env.db.store.update(self.model, rid, {"res_name": name or None})

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        if field.name == "state":
            if not row.get("active", True):
                return "done"
            deadline = row.get("date_deadline")
            if deadline is None:
                return None
            now = today(env)
            if deadline < now:
                return "overdue"
            return "today" if deadline == now else "planned"
        return super().compute(env, row, field)

    def display_name(self, env: Env, row: Row) -> str:
        if row.get("summary"):
            return str(row["summary"])
        return env.display_name("mail.activity.type", row.get("activity_type_id") or 0)


class MailActivityType(ModelBehaviour):
    order = "sequence, id"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {
            "category": "default",
            "delay_unit": "days",
            "delay_from": "previous_activity",
            "chaining_type": "suggest",
            "active": True,
            "sequence": 10,
        }


class MailMessage(ModelBehaviour):
    order = "id desc"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        user = env.row("res.users", env.uid) or {}
        return {
            "message_type": "comment",
            "date": env.tx.now,
            "author_id": user.get("partner_id"),
            "body": "",
        }

    def after_create(self, env: Env, rid: int, vals: dict[str, Any]) -> None:
        """Creating a message on a document needs access to it (``mail.message`` access
        rules, "create"): a deleted document fails the whole ``create``."""
        row = env.row(self.model, rid) or {}
        if row.get("model") and row.get("res_id"):
            check_document_exists(env, str(row["model"]), row["res_id"])

    def display_name(self, env: Env, row: Row) -> str:
        if row.get("subject"):
            return str(row["subject"])
        if row.get("model") and row.get("res_id"):
            return env.display_name(str(row["model"]), int(row["res_id"]))
        return f"mail.message,{row['id']}"


class IrModel(ModelBehaviour):
    order = "model"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {"state": "base", "transient": False}


class IrModelData(ModelBehaviour):
    order = "module, model, name"

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        if field.name == "complete_name":
            return f"{row.get('module')}.{row.get('name')}"
        return super().compute(env, row, field)

    def display_name(self, env: Env, row: Row) -> str:
        return f"{row.get('module')}.{row.get('name')}"


class ResUsers(ModelBehaviour):
    """Users delegate ``name``/``email`` to their partner (``_inherits``, reference §2.12)."""

    order = "display_name, login"

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return {"active": True, "company_id": 1, "company_ids": [1], "share": False}

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        if not vals.get("partner_id"):
            name = vals.get("name") or vals.get("login")
            vals["partner_id"] = env.create_one(
                "res.partner", {"name": name, "email": vals.get("email") or False}
            )

    def display_name(self, env: Env, row: Row) -> str:
        return env.display_name("res.partner", row.get("partner_id") or 0)


class ProductProduct(ModelBehaviour):
    order = "default_code, name, id"

    def display_name(self, env: Env, row: Row) -> str:
        code = row.get("default_code")
        return f"[{code}] {row.get('name')}" if code else str(row.get("name") or "")


class CountryState(ModelBehaviour):
    order = "name"

    def display_name(self, env: Env, row: Row) -> str:
        """``California (US)`` (17.0 ``res.country.state._compute_display_name``)."""
        country = env.row("res.country", row.get("country_id") or 0) or {}
        return f"{row.get('name')} ({country.get('code', '')})"


class Country(ModelBehaviour):
    order = "name"


class StockLocation(ModelBehaviour):
    order = "complete_name, id"

    def display_name(self, env: Env, row: Row) -> str:
        return str(row.get("complete_name") or row.get("name") or "")


class SaleOrderLine(ModelBehaviour):
    def display_name(self, env: Env, row: Row) -> str:
        order = env.row("sale.order", row.get("order_id") or 0) or {}
        return f"{order.get('name', '')} - {row.get('name') or ''}"


BEHAVIOURS: dict[str, type[ModelBehaviour]] = {
    "stock.picking": StockPicking,
    "stock.move": StockMove,
    "stock.picking.type": StockPickingType,
    "delivery.carrier": DeliveryCarrier,
    "sale.order": SaleOrder,
    "res.partner": ResPartner,
    "ir.attachment": IrAttachment,
    "mail.activity": MailActivity,
    "mail.activity.type": MailActivityType,
    "mail.message": MailMessage,
    "ir.model": IrModel,
    "ir.model.data": IrModelData,
    "res.users": ResUsers,
    "product.product": ProductProduct,
    "res.country": Country,
    "res.country.state": CountryState,
    "stock.location": StockLocation,
    "sale.order.line": SaleOrderLine,
}


def xmlid_res_id(env: Env, xmlid: str) -> int | None:
    """``ir.model.data._xmlid_to_res_id`` (raw lookup, no access check)."""
    found = xmlid_lookup(env, xmlid)
    return found[1] if found else None


def xmlid_lookup(env: Env, xmlid: str) -> tuple[str, int] | None:
    module, _, name = xmlid.partition(".")
    for row in env.db.store.rows("ir.model.data"):
        if row.get("module") == module and row.get("name") == name:
            return str(row["model"]), int(row["res_id"])
    return None


def ir_model_id(env: Env, model: str) -> int | None:
    """``ir.model._get(model).id``."""
    for row in env.db.store.rows("ir.model"):
        if row.get("model") == model:
            return int(row["id"])
    return None
