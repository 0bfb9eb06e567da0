"""Business logic behind the RPC methods: transfers, shipping, chatter and activities.

The flows follow reference §3.2-§3.4: ``button_validate`` may answer with a backorder wizard,
``send_to_shipper``/``cancel_shipment``/``do_unreserve`` return ``None``, fixed-price and
rule-based carriers cannot cancel a shipment, and marking an activity done posts a message on
the document and then deletes (17.0/18.0) or archives (19.0, or ``keep_done`` types) it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .errors import UserError
from .models import ir_model_id, xmlid_lookup
from .orm import Env, Row, foreign_key_error

__all__ = ["ir_model_id", "xmlid_lookup"]

NO_QUANTITY_ERROR = (
    "You cannot validate a transfer if no quantities are reserved. To force the transfer, "
    "encode quantities."
)
EMPTY_TRANSFER_ERROR = "Please add some items to move."
DONE_MOVE_CANCEL_ERROR = (
    "You cannot cancel a stock move that has been set to 'Done'. Create a return in order to "
    "reverse the moves which took place."
)
BACKORDER_WIZARD_VIEW_ID = 1156
#: Carrier types whose ``<type>_send_shipping`` talks to no carrier (reference §2.3).
OFFLINE_DELIVERY_TYPES = frozenset({"fixed", "base_on_rule", "onsite", "in_store", "gelato"})


def env_ref(env: Env, xmlid: str) -> int:
    """``env.ref(xmlid).id``."""
    found = xmlid_lookup(env, xmlid)
    if found is None:
        raise ValueError(f"External ID not found in the system: {xmlid}")
    return found[1]


# -- fields_get / default_get ----------------------------------------------------------------


def describe_fields(
    env: Env,
    model: str,
    allfields: Sequence[str] | None,
    attributes: Sequence[str] | None,
) -> dict[str, dict[str, Any]]:
    schema = env.db.model(model)
    result: dict[str, dict[str, Any]] = {}
    for name, fld in schema.fields.items():
        if allfields and name not in allfields:
            continue
        desc: dict[str, Any] = {
            "name": name,
            "type": fld.type,
            "string": fld.string,
            "help": "",
            "store": fld.store,
            "readonly": fld.readonly,
            "required": fld.required,
            "searchable": fld.searchable,
            "sortable": fld.sortable,
            "manual": False,
            "company_dependent": False,
            "change_default": False,
            "translate": False,
            "depends": [],
        }
        if fld.type == "selection":
            values = env.selection_values(fld) or ()
            desc["selection"] = [[v, fld.selection_labels.get(v, _label(v))] for v in values]
        if fld.relation:
            desc["relation"] = fld.relation
            desc["context"] = {}
            desc["domain"] = []
        if fld.type == "one2many" and fld.inverse_name:
            desc["relation_field"] = fld.inverse_name
        if fld.model_field:
            desc["model_field"] = fld.model_field
        if fld.related:
            desc["related"] = ".".join(fld.related)
        if fld.groups:
            desc["groups"] = fld.groups
        if attributes:
            desc = {k: v for k, v in desc.items() if k in attributes}
        result[name] = desc
    return result


def _label(value: str) -> str:
    return value.replace("_", " ").title()


def default_get(env: Env, model: str, fields_list: Sequence[str]) -> dict[str, Any]:
    schema = env.db.model(model)
    env.check_fields(model, fields_list)
    values = dict(env.db.behaviour(model).defaults(env, {}))
    for key, value in env.context.items():
        if key.startswith("default_") and key[8:] in schema.fields:
            values[key[8:]] = value
    return {k: v for k, v in values.items() if k in fields_list and v is not None}


# -- chatter ---------------------------------------------------------------------------------


def post_message(
    env: Env,
    model: str,
    res_id: int,
    *,
    body: str,
    subject: str | None = None,
    message_type: str = "notification",
    subtype_xmlid: str | None = None,
    subtype_id: int | None = None,
    author_id: int | None = None,
    email_from: str | None = None,
    parent_id: int | None = None,
    partner_ids: Sequence[int] | None = None,
    attachment_ids: Sequence[int] | None = None,
) -> int:
    """Create the ``mail.message`` of a post; defaults to an internal note (``mail.mt_note``)."""
    del email_from, parent_id, partner_ids
    if subtype_xmlid:
        subtype = env_ref(env, subtype_xmlid)
    elif subtype_id:
        subtype = int(subtype_id)
    else:
        subtype = env_ref(env, "mail.mt_note")
    attachments = [int(a) for a in attachment_ids or ()]
    schema = env.db.model("mail.message")
    for attachment in attachments:
        row = env.row("ir.attachment", attachment)
        if row is None:
            raise foreign_key_error(schema, schema.fields["attachment_ids"])
        if row.get("res_model") == "mail.compose.message" and row.get("create_uid") == env.uid:
            env.write("ir.attachment", [attachment], {"res_model": model, "res_id": res_id})
    vals: dict[str, Any] = {
        "body": body,
        "subject": subject or False,
        "message_type": message_type,
        "model": model,
        "res_id": res_id,
        "subtype_id": subtype,
        "attachment_ids": [(6, 0, attachments)],
    }
    if author_id:
        vals["author_id"] = author_id
    return env.create_one("mail.message", vals)


# -- transfers -------------------------------------------------------------------------------


def _moves(env: Env, picking_id: int) -> list[Row]:
    return [m for m in env.db.store.rows("stock.move") if m.get("picking_id") == picking_id]


def _picking(env: Env, pid: int) -> Row:
    row = env.row("stock.picking", pid)
    assert row is not None
    return row


def action_confirm(env: Env, ids: Sequence[int]) -> bool:
    env.check_record("stock.picking", ids)
    for pid in ids:
        if _picking(env, pid).get("state") != "draft":
            continue
        for move in _moves(env, pid):
            if move.get("state") == "draft":
                env.write("stock.move", [move["id"]], {"state": "confirmed"})
        env.write("stock.picking", [pid], {"state": "confirmed"})
    return True


def action_assign(env: Env, ids: Sequence[int]) -> bool:
    """Reserve everything (the sandbox has unlimited stock); ``state`` becomes ``assigned``."""
    env.check_record("stock.picking", ids)
    action_confirm(env, [p for p in ids if _picking(env, p).get("state") == "draft"])
    todo = [p for p in ids if _picking(env, p).get("state") in ("confirmed", "waiting")]
    open_moves = [
        m
        for p in ids
        for m in _moves(env, p)
        if m.get("state") in ("confirmed", "waiting", "partially_available")
    ]
    if not open_moves and not todo:
        raise UserError("Nothing to check the availability for.")
    for move in open_moves:
        env.write(
            "stock.move",
            [move["id"]],
            {"state": "assigned", "quantity": move.get("product_uom_qty") or 0.0},
        )
    for pid in todo:
        env.write("stock.picking", [pid], {"state": "assigned"})
    return True


def do_unreserve(env: Env, ids: Sequence[int]) -> None:
    env.check_record("stock.picking", ids)
    for pid in ids:
        if _picking(env, pid).get("state") != "assigned":
            continue
        for move in _moves(env, pid):
            if move.get("state") == "assigned":
                env.write("stock.move", [move["id"]], {"state": "confirmed", "quantity": 0.0})
        env.write("stock.picking", [pid], {"state": "confirmed"})


def action_cancel(env: Env, ids: Sequence[int]) -> bool:
    """``action_cancel`` returns ``True``; done moves cannot be cancelled (reference §3.3)."""
    env.check_record("stock.picking", ids)
    for pid in ids:
        moves = _moves(env, pid)
        if any(m.get("state") == "done" for m in moves):
            raise UserError(DONE_MOVE_CANCEL_ERROR)
        for move in moves:
            if move.get("state") != "cancel":
                env.write("stock.move", [move["id"]], {"state": "cancel"})
        if _picking(env, pid).get("state") != "cancel":
            env.write("stock.picking", [pid], {"state": "cancel"})
    return True


def button_validate(env: Env, ids: Sequence[int]) -> Any:
    """``stock.picking.button_validate`` (reference §3.2)."""
    env.check_record("stock.picking", ids)
    pickings = [p for p in ids if _picking(env, p).get("state") != "done"]
    action_confirm(env, [p for p in pickings if _picking(env, p).get("state") == "draft"])
    for pid in pickings:
        for move in _moves(env, pid):
            if (
                not move.get("quantity")
                and move.get("product_uom_qty")
                and move.get("state") not in ("cancel", "done")
                and _picking(env, pid).get("state") == "confirmed"
            ):
                env.write("stock.move", [move["id"]], {"quantity": move["product_uom_qty"]})
    if not env.context.get("skip_sanity_check"):
        for pid in pickings:
            moves = [m for m in _moves(env, pid) if m.get("state") != "cancel"]
            if not moves:
                raise UserError(EMPTY_TRANSFER_ERROR)
            if all(not m.get("quantity") for m in moves):
                raise UserError(NO_QUANTITY_ERROR)
    partial = [pid for pid in pickings if _has_remainder(env, pid)]
    if partial and not env.context.get("skip_backorder"):
        ask = [pid for pid in partial if _backorder_policy(env, pid) == "ask"]
        if ask:
            return _backorder_wizard(pickings, ask)
    keep_remainder_out = set(env.context.get("picking_ids_not_to_backorder") or ())
    for pid in pickings:
        policy = _backorder_policy(env, pid)
        cancel_remainder = pid in keep_remainder_out or policy == "never"
        _action_done(env, pid, create_backorder=not cancel_remainder)
    for pid in pickings:
        _auto_ship(env, pid)
    return True


def _backorder_policy(env: Env, pid: int) -> str:
    ptype = env.row("stock.picking.type", _picking(env, pid).get("picking_type_id") or 0) or {}
    return str(ptype.get("create_backorder") or "ask")


def _has_remainder(env: Env, pid: int) -> bool:
    return any(
        float(m.get("quantity") or 0.0) < float(m.get("product_uom_qty") or 0.0)
        for m in _moves(env, pid)
        if m.get("state") not in ("cancel", "done")
    )


def _backorder_wizard(pickings: Sequence[int], partial: Sequence[int]) -> dict[str, Any]:
    return {
        "name": "Create Backorder?",
        "type": "ir.actions.act_window",
        "res_model": "stock.backorder.confirmation",
        "view_mode": "form",
        "views": [[BACKORDER_WIZARD_VIEW_ID, "form"]],
        "view_id": BACKORDER_WIZARD_VIEW_ID,
        "target": "new",
        "context": {
            "button_validate_picking_ids": list(pickings),
            "default_show_transfers": len(pickings) > 1,
            "default_pick_ids": [[4, pid] for pid in partial],
        },
    }


def _action_done(env: Env, pid: int, *, create_backorder: bool) -> None:
    remainder: list[tuple[Row, float]] = []
    for move in _moves(env, pid):
        if move.get("state") in ("cancel", "done"):
            continue
        done_qty = float(move.get("quantity") or 0.0)
        demand = float(move.get("product_uom_qty") or 0.0)
        if done_qty <= 0:
            remainder.append((move, demand))
            env.write("stock.move", [move["id"]], {"state": "cancel"})
            continue
        if done_qty < demand:
            remainder.append((move, demand - done_qty))
        env.write(
            "stock.move",
            [move["id"]],
            {"state": "done", "picked": True, "product_uom_qty": done_qty},
        )
    env.write("stock.picking", [pid], {"state": "done", "date_done": env.tx.now})
    if remainder and create_backorder:
        _create_backorder(env, pid, remainder)


def _create_backorder(env: Env, pid: int, remainder: list[tuple[Row, float]]) -> int:
    picking = _picking(env, pid)
    keep = (
        "picking_type_id",
        "partner_id",
        "carrier_id",
        "origin",
        "location_id",
        "location_dest_id",
        "sale_id",
        "scheduled_date",
        "priority",
        "move_type",
    )
    vals = {k: picking.get(k) or False for k in keep if k in env.db.model("stock.picking").fields}
    vals.update({"backorder_id": pid, "state": "confirmed"})
    backorder = env.create_one("stock.picking", vals)
    for move, qty in remainder:
        env.create_one(
            "stock.move",
            {
                "picking_id": backorder,
                "product_id": move.get("product_id"),
                "product_uom_qty": qty,
                "product_uom": move.get("product_uom"),
                "state": "confirmed",
            },
        )
    return backorder


def _auto_ship(env: Env, pid: int) -> None:
    """``_send_confirmation_email``: ship through the carrier when the operation type prints
    labels, the carrier integrates ``rate_and_ship`` and no tracking number exists yet."""
    picking = _picking(env, pid)
    carrier = env.row("delivery.carrier", picking.get("carrier_id") or 0)
    ptype = env.row("stock.picking.type", picking.get("picking_type_id") or 0) or {}
    if (
        carrier
        and picking.get("state") == "done"
        and ptype.get("print_label")
        and carrier.get("integration_level") == "rate_and_ship"
        and not picking.get("carrier_tracking_ref")
    ):
        send_to_shipper(env, pid)


# -- shipping --------------------------------------------------------------------------------


def send_shipping(env: Env, carrier: Row, picking: Row) -> dict[str, Any]:
    """``delivery.carrier.send_shipping``: offline types give no tracking number (§2.3); a
    connector type registered with the sandbox issues a deterministic sandbox number."""
    price = float(carrier.get("fixed_price") or 0.0)
    if carrier.get("delivery_type") in OFFLINE_DELIVERY_TYPES:
        return {"exact_price": price, "tracking_number": False}
    number = env.db.next_sequence(f"tracking.{carrier['id']}")
    return {
        "exact_price": price,
        "tracking_number": f"SBX{carrier['id']:03d}{picking['id']:06d}{number:04d}",
    }


def send_to_shipper(env: Env, pid: int) -> None:
    """Reference §3.3: sets the price, appends the tracking number and posts a note."""
    env.check_record("stock.picking", [pid])
    picking = _picking(env, pid)
    carrier = env.row("delivery.carrier", picking.get("carrier_id") or 0)
    if carrier is None:
        raise AttributeError("'delivery.carrier' object has no attribute 'False_send_shipping'")
    result = send_shipping(env, carrier, picking)
    changes: dict[str, Any] = {"carrier_price": result["exact_price"]}
    number = result["tracking_number"]
    if number:
        current = picking.get("carrier_tracking_ref")
        changes["carrier_tracking_ref"] = f"{current},{number}" if current else number
    env.write("stock.picking", [pid], changes)
    picking = _picking(env, pid)
    body = (
        f"Shipment sent to carrier {html.escape(str(carrier['name']))} for shipping with "
        f"tracking number {picking.get('carrier_tracking_ref') or False}<br/>"
        f"Cost: {float(picking.get('carrier_price') or 0.0):.2f} USD"
    )
    post_message(env, "stock.picking", pid, body=body)


def cancel_shipment(env: Env, ids: Sequence[int]) -> None:
    """``cancel_shipment``: ``NotImplementedError`` for fixed/base_on_rule carriers (§3.3)."""
    env.check_record("stock.picking", ids)
    for pid in ids:
        picking = _picking(env, pid)
        carrier = env.row("delivery.carrier", picking.get("carrier_id") or 0)
        if carrier is None:
            raise AttributeError(
                "'delivery.carrier' object has no attribute 'False_cancel_shipment'"
            )
        if carrier.get("delivery_type") in OFFLINE_DELIVERY_TYPES:
            raise NotImplementedError()
        ref = picking.get("carrier_tracking_ref")
        post_message(env, "stock.picking", pid, body=f"Shipment {ref} cancelled")
        env.write("stock.picking", [pid], {"carrier_tracking_ref": False})


# -- activities ------------------------------------------------------------------------------


def activity_feedback(
    env: Env, ids: Sequence[int], feedback: Any, attachment_ids: Sequence[int] | None
) -> int | bool:
    """``action_feedback``: the id of the first posted message, or ``False`` (§3.4)."""
    env.check_record("mail.activity", ids)
    activities = [env.row("mail.activity", i) for i in ids]
    rows = [a for a in activities if a is not None]
    if env.db.version != "17.0":
        rows = [a for a in rows if a.get("active", True)]
    messages: list[int] = []
    for activity in rows:
        res_model, res_id = activity.get("res_model"), activity.get("res_id")
        if res_model in env.db.schema and env.row(str(res_model), int(res_id or 0)) is not None:
            messages.append(
                post_message(
                    env,
                    str(res_model),
                    int(res_id or 0),
                    body=_activity_done_body(env, activity, feedback),
                    message_type="notification",
                    subtype_xmlid="mail.mt_activities",
                    attachment_ids=attachment_ids,
                )
            )
        _close_activity(env, activity, feedback)
    return messages[0] if messages else False


def _close_activity(env: Env, activity: Row, feedback: Any) -> None:
    archive = env.db.version == "19.0"
    if not archive:
        atype = env.row("mail.activity.type", activity.get("activity_type_id") or 0) or {}
        archive = bool(atype.get("keep_done"))
    if archive:
        vals: dict[str, Any] = {"active": False, "date_done": env.tx.now.date()}
        if "feedback" in env.db.model("mail.activity").fields and feedback:
            vals["feedback"] = str(feedback)
        env.write("mail.activity", [activity["id"]], vals)
    else:
        env.unlink("mail.activity", [activity["id"]])


def _activity_done_body(env: Env, activity: Row, feedback: Any) -> str:
    """Rendering of the ``mail.message_activity_done`` template."""
    type_name = env.display_name("mail.activity.type", activity.get("activity_type_id") or 0)
    summary = f": {html.escape(str(activity['summary']))}" if activity.get("summary") else ""
    parts = [f"<div><p>{html.escape(type_name)} done{summary}</p>"]
    if feedback:
        lines = "<br>".join(html.escape(line) for line in str(feedback).split("\n"))
        parts.append(
            f'<div class="o_mail_note_title"><strong>Feedback:</strong></div><p>{lines}</p>'
        )
    if activity.get("note"):
        parts.append(
            '<div class="o_mail_note_title"><strong>Original note:</strong></div>'
            f"<div>{activity['note']}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def mark_ready(env: Env, pid: int) -> bool:
    """Reservation by the scheduler: the picking becomes ``assigned`` (Ready)."""
    picking = env.row("stock.picking", pid)
    if picking is None:
        env.check_record("stock.picking", [pid])
        return False
    if picking.get("state") in ("done", "cancel"):
        raise UserError(f"{picking.get('name')} is {picking.get('state')} and cannot be reserved.")
    if picking.get("state") == "assigned":
        return False
    action_assign(env, [pid])
    return True
