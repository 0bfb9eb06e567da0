"""Methods callable over RPC, with Odoo's signatures, and the rules deciding which are exposed.

Each method is a plain function whose first parameter is the :class:`Records` the call targets
and whose other parameters have the names Odoo's own methods have, so keyword calls, JSON-2's
named parameters (``inspect.signature(...).bind``) and argument errors behave the same way.

Exposure (reference §1.5): 17.0 refuses names matching ``^(_.*|init)$``; 18.0 refuses
underscore names and ``@api.private`` methods; 19.0 makes more ORM methods private.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import business
from .errors import AccessError
from .orm import Env, recordset_repr
from .schema import private_method_names


class Records:
    """A recordset: what ``self`` is inside an Odoo method."""

    def __init__(self, env: Env, model: str, ids: Sequence[int]) -> None:
        self.env = env
        self.model = model
        self.ids = [int(i) for i in ids]

    def ensure_one(self) -> int:
        if len(self.ids) != 1:
            raise ValueError(f"Expected singleton: {self!r}")
        return self.ids[0]

    def __repr__(self) -> str:
        return recordset_repr(self.model, self.ids)

    __str__ = __repr__


@dataclass(frozen=True)
class Method:
    """How ``call_kw`` treats one method."""

    name: str
    func: Callable[..., Any]
    model_level: bool = False
    #: ``@api.returns(..., lambda value: value.id)``: 17.0/18.0 return the id (e.g. message_post).
    returns_id: bool = False


# -- generic ORM methods ---------------------------------------------------------------------


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool):
        raise ValueError(f"Invalid record ids {value!r}")
    if isinstance(value, int):
        return [value]
    if isinstance(value, list | tuple):
        return [int(v) for v in value]
    raise ValueError(f"Invalid record ids {value!r}")


def search(
    self: Records,
    domain: Any,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
) -> list[int]:
    return self.env.search(self.model, domain, offset=offset, limit=limit, order=order)


def search_read(
    self: Records,
    domain: Any = None,
    fields: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
    order: str | None = None,
    **read_kwargs: Any,
) -> list[dict[str, Any]]:
    if fields:
        self.env.check_fields(self.model, fields)
    ids = self.env.search(self.model, domain or [], offset=offset, limit=limit, order=order)
    return read(Records(self.env, self.model, ids), fields, **read_kwargs)


def search_count(self: Records, domain: Any, limit: int | None = None) -> int:
    return len(self.env.search(self.model, domain, limit=limit))


def read(
    self: Records, fields: Sequence[str] | None = None, load: str | None = "_classic_read"
) -> list[dict[str, Any]]:
    return self.env.read(self.model, self.ids, fields, load)


def create(self: Records, vals_list: Any) -> Records:
    """``@api.model_create_multi``: a dict or a list of dicts; the caller shapes the result."""
    items = [vals_list] if isinstance(vals_list, dict) else vals_list
    if not isinstance(items, list | tuple):
        raise ValueError(f"Invalid values {vals_list!r} for {self.model}.create()")
    return Records(self.env, self.model, self.env.create(self.model, items))


def write(self: Records, vals: dict[str, Any]) -> bool:
    return self.env.write(self.model, self.ids, vals)


def unlink(self: Records) -> bool:
    return self.env.unlink(self.model, self.ids)


def fields_get(
    self: Records, allfields: Sequence[str] | None = None, attributes: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    return business.describe_fields(self.env, self.model, allfields, attributes)


def _name_search(
    self: Records, name: str, domain: Any, operator: str, limit: int | None
) -> list[list[Any]]:
    full = list(domain or [])
    if name:
        full = ["&", ("display_name", operator, name), *(full or [(1, "=", 1)])]
    ids = self.env.search(self.model, full, limit=limit)
    return [[rid, self.env.display_name(self.model, rid)] for rid in ids]


def name_search_17(
    self: Records, name: str = "", args: Any = None, operator: str = "ilike", limit: int = 100
) -> list[list[Any]]:
    return _name_search(self, name, args, operator, limit)


def name_search(
    self: Records, name: str = "", domain: Any = None, operator: str = "ilike", limit: int = 100
) -> list[list[Any]]:
    return _name_search(self, name, domain, operator, limit)


def default_get(self: Records, fields_list: Sequence[str]) -> dict[str, Any]:
    return business.default_get(self.env, self.model, fields_list)


def check_access_rights(self: Records, operation: str, raise_exception: bool = True) -> bool:
    return True


def exists(self: Records) -> Records:
    return Records(self.env, self.model, [i for i in self.ids if self.env.row(self.model, i)])


def ensure_one(self: Records) -> Records:
    self.ensure_one()
    return self


def browse(self: Records, ids: Any = ()) -> Records:
    return Records(self.env, self.model, _ids(ids) if ids else [])


def sudo(self: Records, flag: bool = True) -> Records:
    return self


def with_context(self: Records, *args: Any, **kwargs: Any) -> Records:
    return self


# -- mail.thread / mail.activity.mixin -------------------------------------------------------


def message_post(
    self: Records,
    *,
    body: str = "",
    subject: str | None = None,
    message_type: str = "notification",
    email_from: str | None = None,
    author_id: int | None = None,
    parent_id: int | bool = False,
    subtype_xmlid: str | None = None,
    subtype_id: int | bool = False,
    partner_ids: Sequence[int] | None = None,
    attachments: Any = None,
    attachment_ids: Sequence[int] | None = None,
    body_is_html: bool = False,
    **kwargs: Any,
) -> Records:
    """``mail.thread.message_post`` (reference §2.9): a plain body is HTML-escaped unless
    ``body_is_html``; returns the new message (17.0/18.0: its id, 19.0: ``[id]``)."""
    self.ensure_one()
    if message_type == "user_notification":
        raise ValueError(
            "Posting a message should be done on a business document. Use message_notify to "
            "send a notification to an user."
        )
    if "model" in kwargs or "res_id" in kwargs:
        raise ValueError(
            "message_post does not support model and res_id parameters anymore. Please call "
            "message_post on record."
        )
    if "subtype" in kwargs:
        raise ValueError(
            "message_post does not support subtype parameter anymore. Please give a valid "
            "subtype_id or subtype_xmlid value instead."
        )
    self.env.check_exist(self.model, self.ids, "write")
    text = body if body_is_html else html.escape(body or "", quote=False)
    message_id = business.post_message(
        self.env,
        self.model,
        self.ids[0],
        body=text,
        subject=subject,
        message_type=message_type,
        subtype_xmlid=subtype_xmlid,
        subtype_id=subtype_id or None,
        author_id=author_id,
        email_from=email_from,
        parent_id=parent_id or None,
        partner_ids=partner_ids,
        attachment_ids=attachment_ids,
    )
    return Records(self.env, "mail.message", [message_id])


def activity_schedule(
    self: Records,
    act_type_xmlid: str = "",
    date_deadline: Any = None,
    summary: str = "",
    note: str = "",
    **act_values: Any,
) -> Records:
    """``mail.activity.mixin.activity_schedule`` (reference §3.4): returns a recordset, which
    17.0/18.0 cannot send back over XML-RPC (fault after commit)."""
    env = self.env
    if act_type_xmlid:
        found = business.env_ref(env, act_type_xmlid)
        type_id: int | None = found
    else:
        type_id = act_values.get("activity_type_id") or None
    activity_type = env.row("mail.activity.type", type_id or 0) or {}
    if not date_deadline:
        delay = int(activity_type.get("delay_count") or 0)
        date_deadline = env.tx.now.date() + timedelta(days=delay)
    model_id = business.ir_model_id(env, self.model)
    vals_list = []
    for rid in self.ids:
        vals = {
            "activity_type_id": type_id or False,
            "summary": summary or activity_type.get("summary") or False,
            "automated": True,
            "note": note or activity_type.get("default_note") or False,
            "date_deadline": date_deadline,
            "res_model_id": model_id,
            "res_id": rid,
        }
        vals.update(act_values)
        if not vals.get("user_id"):
            vals["user_id"] = activity_type.get("default_user_id") or env.uid
        vals_list.append(vals)
    return Records(env, "mail.activity", env.create("mail.activity", vals_list))


def message_subscribe(
    self: Records, partner_ids: Sequence[int] | None = None, subtype_ids: Any = None
) -> bool:
    self.env.check_exist(self.model, self.ids, "write")
    return True


# -- stock.picking ---------------------------------------------------------------------------


def button_validate(self: Records) -> Any:
    return business.button_validate(self.env, self.ids)


def action_cancel(self: Records) -> bool:
    return business.action_cancel(self.env, self.ids)


def action_confirm(self: Records) -> bool:
    return business.action_confirm(self.env, self.ids)


def action_assign(self: Records) -> bool:
    return business.action_assign(self.env, self.ids)


def do_unreserve(self: Records) -> None:
    business.do_unreserve(self.env, self.ids)


def send_to_shipper(self: Records) -> None:
    business.send_to_shipper(self.env, self.ensure_one())


def cancel_shipment(self: Records) -> None:
    business.cancel_shipment(self.env, self.ids)


# -- mail.activity ---------------------------------------------------------------------------


def action_feedback(
    self: Records, feedback: Any = False, attachment_ids: Sequence[int] | None = None
) -> int | bool:
    return business.activity_feedback(self.env, self.ids, feedback, attachment_ids)


def action_done(self: Records) -> int | bool:
    return business.activity_feedback(self.env, self.ids, False, None)


def action_feedback_schedule_next(
    self: Records, feedback: Any = False, attachment_ids: Sequence[int] | None = None
) -> bool:
    business.activity_feedback(self.env, self.ids, feedback, attachment_ids)
    return False


# -- ir.model.data / res.users ---------------------------------------------------------------


def check_object_reference(
    self: Records, module: str, xml_id: str, raise_on_access_error: bool = False
) -> tuple[str, int | bool]:
    """``[model, res_id]``, or ``[model, False]`` when a plain ``search`` cannot see the target
    (an archived record such as ``mail.mail_activity_data_warning``; reference §2.8, §2.11)."""
    found = business.xmlid_lookup(self.env, f"{module}.{xml_id}")
    if found is None:
        raise ValueError(f"External ID not found in the system: {module}.{xml_id}")
    model, res_id = found
    if self.env.search(model, [("id", "=", res_id)]):
        return model, res_id
    if raise_on_access_error:
        raise AccessError(f"Not enough access rights on the external ID '{module}.{xml_id}'")
    return model, False


def context_get(self: Records) -> dict[str, Any]:
    return {"lang": "en_US", "tz": "UTC", "uid": self.env.uid}


# -- registry --------------------------------------------------------------------------------

_GENERIC: tuple[Method, ...] = (
    Method("search", search, model_level=True),
    Method("search_read", search_read, model_level=True),
    Method("search_count", search_count, model_level=True),
    Method("read", read),
    Method("create", create, model_level=True),
    Method("write", write),
    Method("unlink", unlink),
    Method("fields_get", fields_get, model_level=True),
    Method("default_get", default_get, model_level=True),
    Method("check_access_rights", check_access_rights, model_level=True),
    Method("exists", exists),
    Method("browse", browse, model_level=True),
    Method("ensure_one", ensure_one),
    Method("sudo", sudo),
    Method("with_context", with_context),
)
_MAIL_THREAD: tuple[Method, ...] = (
    Method("message_post", message_post, returns_id=True),
    Method("activity_schedule", activity_schedule),
    Method("message_subscribe", message_subscribe),
)
_PER_MODEL: dict[str, tuple[Method, ...]] = {
    "stock.picking": (
        Method("button_validate", button_validate),
        Method("action_cancel", action_cancel),
        Method("action_confirm", action_confirm),
        Method("action_assign", action_assign),
        Method("do_unreserve", do_unreserve),
        Method("send_to_shipper", send_to_shipper),
        Method("cancel_shipment", cancel_shipment),
    ),
    "mail.activity": (
        Method("action_feedback", action_feedback),
        Method("action_done", action_done),
        Method("action_feedback_schedule_next", action_feedback_schedule_next),
    ),
    "ir.model.data": (Method("check_object_reference", check_object_reference, model_level=True),),
    "res.users": (Method("context_get", context_get, model_level=True),),
}

#: 18.0 ``@api.private`` ORM methods (reference §1.5).
API_PRIVATE_18 = frozenset(
    {
        "init",
        "ensure_one",
        "with_env",
        "sudo",
        "with_user",
        "with_company",
        "with_context",
        "with_prefetch",
        "mapped",
        "filtered",
        "grouped",
        "filtered_domain",
        "sorted",
        "flush_model",
        "flush_recordset",
        "new",
        "concat",
        "union",
        "invalidate_model",
        "invalidate_recordset",
    }
)
#: 19.0 adds these (reference §1.5).
API_PRIVATE_19 = API_PRIVATE_18 | {
    "search_fetch",
    "fetch",
    "check_access",
    "exists",
    "browse",
    "lock_for_update",
    "try_lock_for_update",
    "update",
    "modified",
}
#: Underscore methods that exist on Odoo models; 18.0+ answers AccessError for these and
#: AttributeError for underscore names that exist nowhere.
KNOWN_PRIVATE = frozenset(
    {
        "_xmlid_to_res_id",
        "_xmlid_to_res_model_res_id",
        "_xmlid_lookup",
        "_read_format",
        "_search",
        "_name_search",
        "_action_done",
        "_action_cancel",
        "_action_confirm",
        "_action_assign",
        "_check_credentials",
        "_compute_display_name",
        "_send_confirmation_email",
        "_sanity_check",
        "_pre_action_done_hook",
        "_check_backorder",
        "_create_backorder",
        "_message_log",
        "_message_create",
        "_get",
        "_apply_margins",
        "_add_delivery_cost_to_so",
        "_get_without_quantities_error_message",
        "_filter_access_rules",
        "_check_access_assignation",
        "_get_delivery_label_prefix",
        "_write",
        "_create",
        "_validate_fields",
        "_compute_field_value",
        "_check_uid_passwd",
    }
)
_PRIVATE_17 = re.compile(r"^(_.*|init)$")


def model_methods(model: str, has_thread: bool, version: str) -> dict[str, Method]:
    methods = {m.name: m for m in _GENERIC}
    methods["name_search"] = Method(
        "name_search", name_search_17 if version == "17.0" else name_search, model_level=True
    )
    if has_thread:
        methods.update({m.name: m for m in _MAIL_THREAD})
    methods.update({m.name: m for m in _PER_MODEL.get(model, ())})
    return methods


def check_method_name_17(name: str) -> None:
    """17.0 ``check_method_name``, run before the model is even looked up."""
    if _PRIVATE_17.match(name):
        raise AccessError(f"Private methods (such as {name}) cannot be called remotely.")


def get_public_method(version: str, model: str, name: str, methods: dict[str, Method]) -> Method:
    """17.0 ``getattr`` in ``call_kw``; 18.0+ ``get_public_method`` (reference §1.5)."""
    if version == "17.0":
        method = methods.get(name)
        if method is None:
            raise AttributeError(f"The method '{name}' does not exist on the model '{model}'")
        return method
    private = API_PRIVATE_18 if version == "18.0" else API_PRIVATE_19
    known_private = name in KNOWN_PRIVATE or name in private_method_names(version)
    method = methods.get(name)
    if method is None and not (known_private or name in private):
        raise AttributeError(f"The method '{model}.{name}' does not exist")
    if name.startswith("_") or name in private:
        raise AccessError(f"Private methods (such as '{model}.{name}') cannot be called remotely.")
    assert method is not None
    return method
