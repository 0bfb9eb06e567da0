"""Regenerate ``odoo_fields.json`` from the Odoo field reference.

The reference field list (``odoo-schema.json``, shape ``{version: {model: {field: {...}}}}``) lives
outside the project, so the sandbox ships a trimmed copy: only the models it serves and only the
field attributes it uses. Run from the repository root::

    python -m app.sync.odoo_sandbox.schema.build ../shared/reference/odoo-schema.json

Two additions are made on top of the reference, both recorded in the output:

* the magic fields every Odoo model has (``id``, ``display_name``, ``create_uid``, ``create_date``,
  ``write_uid``, ``write_date``; reference §2 preamble) when the reference list omits them;
* a few *auxiliary* models that the served models point at (countries, products, locations…).
  They carry only the handful of standard fields needed to resolve many2one display names and
  addresses, and are marked ``"origin": "sandbox"`` because the reference does not describe them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("odoo_fields.json")

VERSIONS = ("17.0", "18.0", "19.0")

SERVED_MODELS = (
    "stock.picking",
    "stock.move",
    "stock.picking.type",
    "delivery.carrier",
    "sale.order",
    "res.partner",
    "ir.attachment",
    "mail.activity",
    "mail.activity.type",
    "mail.message",
    "ir.model",
    "ir.model.data",
    "res.users",
)

KEPT_ATTRIBUTES = (
    "type",
    "store",
    "readonly",
    "required",
    "selection",
    "selection_labels",
    "relation",
    "inverse_name",
    "related",
    "compute",
    "inverse_method",
    "search",
    "groups",
    "model_field",
)


def _field(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "store": True, "readonly": False, **extra}


MAGIC_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "store": True, "readonly": True},
    "display_name": {
        "type": "char",
        "store": False,
        "readonly": True,
        "compute": "_compute_display_name",
        "search": "_search_display_name",
    },
    "create_uid": {"type": "many2one", "relation": "res.users", "store": True, "readonly": True},
    "create_date": {"type": "datetime", "store": True, "readonly": True},
    "write_uid": {"type": "many2one", "relation": "res.users", "store": True, "readonly": True},
    "write_date": {"type": "datetime", "store": True, "readonly": True},
}

AUXILIARY_MODELS: dict[str, dict[str, dict[str, Any]]] = {
    "res.company": {
        "name": _field("char", required=True),
        "partner_id": _field("many2one", relation="res.partner", required=True),
    },
    "res.country": {
        "name": _field("char", required=True),
        "code": _field("char"),
    },
    "res.country.state": {
        "name": _field("char", required=True),
        "code": _field("char", required=True),
        "country_id": _field("many2one", relation="res.country", required=True),
    },
    "res.groups": {
        "name": _field("char", required=True),
    },
    "uom.uom": {
        "name": _field("char", required=True),
    },
    "product.product": {
        "name": _field("char", required=True),
        "default_code": _field("char"),
        "type": _field("char"),
        "weight": _field("float"),
        "uom_id": _field("many2one", relation="uom.uom"),
    },
    "stock.warehouse": {
        "name": _field("char", required=True),
        "code": _field("char", required=True),
        "partner_id": _field("many2one", relation="res.partner"),
        "company_id": _field("many2one", relation="res.company", required=True),
    },
    "stock.location": {
        "name": _field("char", required=True),
        "complete_name": _field("char"),
        "usage": _field("char"),
    },
    "mail.message.subtype": {
        "name": _field("char", required=True),
        "internal": _field("boolean"),
    },
    "sale.order.line": {
        "order_id": _field("many2one", relation="sale.order", required=True),
        "product_id": _field("many2one", relation="product.product"),
        "name": _field("text"),
        "product_uom_qty": _field("float"),
    },
}


def trim(reference: dict[str, Any]) -> dict[str, Any]:
    """Keep the served models and the attributes the sandbox reads, then add the extras."""
    out: dict[str, Any] = {
        "generated_from": "odoo-schema.json (Odoo field reference)",
        "versions": {},
    }
    for version in VERSIONS:
        models: dict[str, Any] = {}
        for model in SERVED_MODELS:
            fields: dict[str, Any] = {}
            for name, spec in reference[version][model].items():
                fields[name] = {k: spec[k] for k in KEPT_ATTRIBUTES if k in spec}
            for name, spec in MAGIC_FIELDS.items():
                fields.setdefault(name, dict(spec))
            models[model] = {"origin": "reference", "fields": fields}
        for model, aux_fields in AUXILIARY_MODELS.items():
            fields = {name: dict(spec) for name, spec in aux_fields.items()}
            for name, spec in MAGIC_FIELDS.items():
                fields.setdefault(name, dict(spec))
            models[model] = {"origin": "sandbox", "fields": fields}
        out["versions"][version] = models
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="path to odoo-schema.json")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    reference = json.loads(args.reference.read_text(encoding="utf-8"))
    trimmed = trim(reference)
    args.output.write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
