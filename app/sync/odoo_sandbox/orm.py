"""The generic ORM: create/read/write/unlink/search with Odoo's validation and read format.

``Database`` owns the schema, the tables and the one lock that turns every call into one
transaction (reference §1.1 "Transaction"). ``Env`` is what a call works with: the caller's uid,
its context and the transaction's timestamp, which Odoo uses for every ``write_date`` of the
transaction (``cr.now()``, reference §5).

Model-specific behaviour (defaults, computed fields, display names, business hooks) lives in
:mod:`.models`; this module only knows the :class:`ModelBehaviour` interface.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .domain import DomainCompiler
from .errors import MissingError, UserError, ValidationError
from .schema import Field, ModelSchema
from .store import Row, Store

SUPERUSER_ID = 1
LOG_ACCESS_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")
MAGIC_COLUMNS = ("id", *LOG_ACCESS_COLUMNS)
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_ORDER_RE = re.compile(
    r"^(\s*(?P<term>[a-z0-9_]+)(\s+(?P<direction>desc|asc))?"
    r"(\s+(?P<nulls>nulls\ first|nulls\ last))?\s*(,|$))+(?<!,)$",
    re.IGNORECASE,
)


class NotComputed:
    """Marker: the behaviour does not compute this field; use the generic rules."""


NOT_COMPUTED = NotComputed()


class ModelBehaviour:
    """Per-model hooks. The base class is the behaviour of a plain Odoo model."""

    #: Odoo's ``_order``; may name ``display_name`` (sorted in Python, like a stored name).
    order = "id"

    def __init__(self, model: str) -> None:
        self.model = model

    def defaults(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        """Default values for fields missing from ``vals`` (``default_get``); no side effects."""
        return {}

    def before_create(self, env: Env, vals: dict[str, Any]) -> None:
        """Adjust the caller's values before conversion (dropped keys, implied records)."""

    def prepare_create(self, env: Env, vals: dict[str, Any]) -> None:
        """Adjust converted stored values just before the insert (sequences, mimetypes…)."""

    def after_create(self, env: Env, rid: int, vals: dict[str, Any]) -> None:
        """Runs after the row and its x2many values exist."""

    def after_write(self, env: Env, rid: int, old: Row, vals: dict[str, Any]) -> None:
        """Runs after a write changed the row (``old`` is the row before)."""

    def before_unlink(self, env: Env, rids: list[int]) -> None:
        """Runs before the rows are deleted (cascades, business refusals)."""

    def after_unlink(self, env: Env, rows: list[Row]) -> None:
        """Runs after the rows are gone (recomputing what depended on them)."""

    def compute(self, env: Env, row: Row, field: Field) -> Any:
        """Raw value of a non-stored computed field, or :data:`NOT_COMPUTED`."""
        return NOT_COMPUTED

    def inverse(self, env: Env, rid: int, field: Field, value: Any) -> None:
        """Persist a write to a non-stored field that has an inverse method."""

    def display_name(self, env: Env, row: Row) -> str:
        """``_rec_name`` is ``name`` when the model has one, else ``"<model>,<id>"``."""
        name = row.get("name")
        if name:
            return str(name)
        return f"{self.model},{row['id']}"


@dataclass
class Transaction:
    """One RPC call's transaction: its timestamp and what to run around the commit."""

    now: datetime
    precommit: list[Callable[[], None]] = field(default_factory=list)
    postcommit: list[Callable[[], None]] = field(default_factory=list)


Watcher = Callable[["Env", str, int, Row | None, Row], None]


class Database:
    """One sandbox database: schema, rows, sequences, and the transaction lock."""

    def __init__(
        self,
        *,
        name: str,
        version: str,
        schema: Mapping[str, ModelSchema],
        behaviours: Mapping[str, Callable[[str], ModelBehaviour]],
        clock: Callable[[], datetime],
        subsecond_write_dates: bool = False,
    ) -> None:
        self.name = name
        self.version = version
        self.schema = dict(schema)
        self.behaviours = {
            model: behaviours.get(model, ModelBehaviour)(model) for model in self.schema
        }
        self.clock = clock
        self.subsecond_write_dates = subsecond_write_dates
        self.store = Store()
        self.lock = threading.RLock()
        self.sequences: dict[str, int] = {}
        self.watchers: list[Watcher] = []
        self._tx: Transaction | None = None

    def model(self, name: str) -> ModelSchema:
        schema = self.schema.get(name)
        if schema is None:
            raise UserError(f"Object {name} doesn't exist")
        return schema

    def behaviour(self, model: str) -> ModelBehaviour:
        behaviour = self.behaviours.get(model)
        if behaviour is None:
            behaviour = self.behaviours[model] = ModelBehaviour(model)
        return behaviour

    def next_sequence(self, key: str) -> int:
        value = self.sequences.get(key, 0) + 1
        self.sequences[key] = value
        return value

    def now(self) -> datetime:
        """``cr.now()``: the UTC start time of the transaction."""
        current = self.clock()
        if current.tzinfo is not None:
            current = current.replace(tzinfo=None)
        return current if self.subsecond_write_dates else current.replace(microsecond=0)

    @contextmanager
    def transaction(self, uid: int, context: Mapping[str, Any] | None = None) -> Iterator[Env]:
        """One call = one transaction: commit on success, roll everything back on error."""
        with self.lock:
            tx = Transaction(now=self.now())
            saved_sequences = dict(self.sequences)
            self.store.begin()
            self._tx = tx
            try:
                env = Env(self, uid, dict(context or {}), tx)
                yield env
                for hook in tx.precommit:
                    hook()
            except BaseException:
                self.store.rollback()
                self.sequences = saved_sequences
                raise
            finally:
                self._tx = None
            self.store.commit()
            for hook in tx.postcommit:
                hook()


class Env:
    """The environment of one call: database, uid, context and transaction."""

    def __init__(self, db: Database, uid: int, context: dict[str, Any], tx: Transaction) -> None:
        self.db = db
        self.uid = uid
        self.context = context
        self.tx = tx
        self._compiler = DomainCompiler(self)

    def with_context(self, **overrides: Any) -> Env:
        return Env(self.db, self.uid, {**self.context, **overrides}, self.tx)

    # -- DomainSource ---------------------------------------------------------------------------

    def field(self, model: str, name: str) -> Field | None:
        schema = self.db.schema.get(model)
        return schema.fields.get(name) if schema else None

    def model_ids(self, model: str) -> list[int]:
        return self.db.store.ids(model)

    def value(self, model: str, rid: int, field: Field) -> Any:
        """Raw value of a field: ids for relations, ``None`` when unset."""
        row = self.db.store.row(model, rid)
        if row is None:
            return None
        return self.raw(model, row, field)

    def display_name(self, model: str, rid: int) -> str:
        row = self.db.store.row(model, rid)
        if row is None:
            return ""
        return self.db.behaviour(model).display_name(self, row)

    # -- values -------------------------------------------------------------------------------

    def row(self, model: str, rid: int) -> Row | None:
        return self.db.store.row(model, rid)

    def raw(self, model: str, row: Row, field: Field) -> Any:
        if field.name == "display_name":
            return self.db.behaviour(model).display_name(self, row)
        if field.column:
            return row.get(field.name)
        computed = self.db.behaviour(model).compute(self, row, field)
        if not isinstance(computed, NotComputed):
            return computed
        if field.related:
            return self._related_value(model, row, field.related)
        if field.type == "one2many" and field.relation and field.inverse_name:
            return tuple(self.inverse_ids(field, row["id"], model))
        if field.x2many:
            return ()
        return None

    def _related_value(self, model: str, row: Row, path: Sequence[str]) -> Any:
        current_model, current = model, row
        for index, name in enumerate(path):
            fld = self.field(current_model, name)
            if fld is None:
                return None
            value = self.raw(current_model, current, fld)
            if index == len(path) - 1:
                return value
            if not value or not fld.relation:
                return None
            target = value[0] if isinstance(value, tuple) else value
            nxt = self.db.store.row(fld.relation, int(target))
            if nxt is None:
                return None
            current_model, current = fld.relation, nxt
        return None

    def resolvable(self, model: str, path: Sequence[str]) -> bool:
        current = model
        for index, name in enumerate(path):
            fld = self.field(current, name)
            if fld is None:
                return False
            if index < len(path) - 1:
                if not fld.relation:
                    return False
                current = fld.relation
        return True

    def inverse_ids(self, field: Field, rid: int, model: str) -> list[int]:
        """Ids of a one2many: comodel rows whose inverse field points at ``rid``."""
        comodel = field.relation or ""
        inverse = self.field(comodel, field.inverse_name or "")
        if inverse is None:
            return []
        model_key = inverse.model_field if inverse.type == "many2one_reference" else None
        schema = self.db.schema.get(comodel)
        active_test = self.context.get("active_test", True)
        ids = []
        for row in self.db.store.rows(comodel):
            if row.get(inverse.name) != rid:
                continue
            if model_key and row.get(model_key) != model:
                continue
            if schema and schema.has_active and active_test and row.get("active") is False:
                continue
            if comodel == "mail.message" and row.get("message_type") == "user_notification":
                continue
            ids.append(row["id"])
        return self.sort(comodel, ids, None)

    # -- reading ------------------------------------------------------------------------------

    def check_fields(self, model: str, names: Iterable[str]) -> None:
        schema = self.db.model(model)
        for name in names:
            if name not in schema.fields:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")

    def read(
        self,
        model: str,
        ids: Sequence[int],
        fields: Sequence[str] | None = None,
        load: str | None = "_classic_read",
    ) -> list[dict[str, Any]]:
        """``read()``: missing ids are dropped silently (reference §1.6)."""
        schema = self.db.model(model)
        names = list(fields) if fields else list(schema.fields)
        self.check_fields(model, names)
        if "id" not in names:
            names.insert(0, "id")
        result = []
        for rid in ids:
            row = self.db.store.row(model, rid)
            if row is None:
                continue
            record: dict[str, Any] = {}
            for name in names:
                fld = schema.fields[name]
                record[name] = self.format(fld, self.raw(model, row, fld), load)
            result.append(record)
        return result

    def format(self, field: Field, raw: Any, load: str | None = "_classic_read") -> Any:
        """``convert_to_read``: many2one ``[id, name]``, x2many id lists, unset ``False``."""
        kind = field.type
        if kind == "many2one":
            if not raw:
                return False
            if load == "_classic_read":
                return [int(raw), self.display_name(field.relation or "", int(raw))]
            return int(raw)
        if kind in ("one2many", "many2many"):
            return list(raw or ())
        if kind in ("integer", "many2one_reference"):
            return int(raw or 0)
        if kind in ("float", "monetary"):
            return float(raw or 0.0)
        if kind == "boolean":
            return bool(raw)
        if raw is None or raw is False:
            return False
        return raw

    # -- searching ----------------------------------------------------------------------------

    def search(
        self,
        model: str,
        domain: Sequence[Any] | None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        schema = self.db.model(model)
        full = list(domain or [])
        if schema.has_active and self.context.get("active_test", True):
            mentioned = any(isinstance(t, list | tuple) and t and t[0] == "active" for t in full)
            if not mentioned:
                full = ["&", ("active", "=", True), *(full or [(1, "=", 1)])]
        predicate = self._compiler.compile(model, full)
        ids = [rid for rid in self.db.store.ids(model) if predicate(rid)]
        ids = self.sort(model, ids, order)
        start = int(offset or 0)
        if limit is None or limit is False:
            return ids[start:]
        return ids[start : start + int(limit)]

    def filter(self, model: str, ids: Iterable[int], domain: Sequence[Any]) -> list[int]:
        predicate = self._compiler.compile(model, domain)
        return [rid for rid in ids if self.db.store.exists(model, rid) and predicate(rid)]

    def sort(self, model: str, ids: list[int], order: str | None) -> list[int]:
        schema = self.db.model(model)
        spec = order or self.db.behaviour(model).order
        internal = not order
        if not _ORDER_RE.match(spec):
            raise UserError(
                f'Invalid "order" specified ({spec}). A valid "order" specification is a '
                "comma-separated list of valid field names (optionally followed by asc/desc "
                "for the direction)"
            )
        terms: list[tuple[Field, bool, bool]] = []
        for part in spec.split(","):
            words = part.split()
            name = words[0]
            fld = schema.fields.get(name)
            if fld is None:
                raise ValueError(f"Invalid field {name!r} on model {model!r}")
            if not fld.sortable and not (internal and name == "display_name"):
                raise ValueError(f"Cannot convert {fld!r} to SQL because it is not stored")
            desc = len(words) > 1 and words[1].lower() == "desc"
            nulls_first = desc
            if "nulls" in (w.lower() for w in words):
                nulls_first = words[-1].lower() == "first"
            terms.append((fld, desc, nulls_first))
        rows = {rid: self.db.store.row(model, rid) or {"id": rid} for rid in ids}
        keys = {rid: [self._sort_value(model, rows[rid], t[0]) for t in terms] for rid in ids}

        def compare(a: int, b: int) -> int:
            for index, (_fld, desc, nulls_first) in enumerate(terms):
                va, vb = keys[a][index], keys[b][index]
                if va == vb:
                    continue
                if va is None or vb is None:
                    first = va is None
                    return (-1 if first else 1) * (1 if nulls_first else -1)
                result = -1 if va < vb else 1
                return -result if desc else result
            return -1 if a < b else (1 if a > b else 0)

        return sorted(ids, key=functools.cmp_to_key(compare))

    def _sort_value(self, model: str, row: Row, field: Field) -> Any:
        raw = self.raw(model, row, field)
        if field.type == "many2one":
            return self.display_name(field.relation or "", int(raw)).casefold() if raw else None
        if field.type == "boolean":
            return bool(raw)
        if raw is None or raw is False or raw == "":
            return None
        if isinstance(raw, str):
            return raw.casefold()
        return raw

    # -- existence ----------------------------------------------------------------------------

    def missing(self, model: str, ids: Iterable[int]) -> list[int]:
        return [rid for rid in ids if not self.db.store.exists(model, rid)]

    def check_exist(self, model: str, ids: Sequence[int], operation: str) -> None:
        """``check_access_rule``: a write or button on a deleted id is a ``MissingError``."""
        missing = self.missing(model, ids)
        if missing:
            raise MissingError(
                "One of the documents you are trying to access has been deleted, please try "
                "again after refreshing.\n\n"
                f"(Document type: {model}, Operation: {operation}, Records: {missing[:6]}, "
                f"User: {self.uid})"
            )

    def check_record(self, model: str, ids: Sequence[int]) -> None:
        """Field access on a deleted record (17.0 ``odoo/fields.py:1189``)."""
        missing = self.missing(model, ids)
        if missing:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {recordset_repr(model, missing)}, User: {self.uid})"
            )

    # -- conversion ---------------------------------------------------------------------------

    def convert(self, model: str, fld: Field, value: Any) -> Any:
        """``convert_to_cache``: validate and normalize a written value."""
        kind = fld.type
        if kind in ("one2many", "many2many"):
            return value
        if kind == "boolean":
            return bool(value)
        if kind == "integer":
            return int(value or 0)
        if kind in ("float", "monetary"):
            return float(value or 0.0)
        if value is None or value is False:
            return None
        if kind in ("char", "text", "html"):
            return value if isinstance(value, str) else str(value)
        if kind == "selection":
            allowed = self.selection_values(fld)
            if allowed is not None and value not in allowed:
                raise ValueError(f"Wrong value for {fld!r}: {value!r}")
            return value
        if kind == "many2one":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, list | tuple) and value and isinstance(value[0], int):
                    return int(value[0])
                raise ValueError(f"Wrong value for {fld!r}: {value!r}")
            return value
        if kind == "many2one_reference":
            return int(value)
        if kind == "date":
            return to_date(value)
        if kind == "datetime":
            return to_datetime(value)
        return value

    def selection_values(self, fld: Field) -> tuple[str, ...] | None:
        if fld.selection is not None:
            return fld.selection
        if fld.dynamic_selection and fld.name == "res_model":
            return tuple(r["model"] for r in self.db.store.rows("ir.model"))
        return None

    def check_required(self, model: str, values: Mapping[str, Any]) -> None:
        schema = self.db.model(model)
        for fld in schema.fields.values():
            if fld.required and fld.column and values.get(fld.name) in (None, False, ""):
                if fld.type in ("boolean", "integer", "float", "monetary"):
                    continue
                raise not_null_error(schema, fld)

    def check_foreign_keys(self, model: str, values: Mapping[str, Any]) -> None:
        schema = self.db.model(model)
        for name, value in values.items():
            fld = schema.fields.get(name)
            if fld is None or fld.type != "many2one" or not value or not fld.relation:
                continue
            if fld.relation in self.db.schema and not self.db.store.exists(fld.relation, value):
                raise foreign_key_error(schema, fld)

    # -- create -------------------------------------------------------------------------------

    def create(self, model: str, vals_list: Sequence[Mapping[str, Any]]) -> list[int]:
        return [self.create_one(model, vals) for vals in vals_list]

    def create_one(self, model: str, vals: Mapping[str, Any]) -> int:
        schema = self.db.model(model)
        if not isinstance(vals, Mapping):
            raise ValueError(f"Invalid values {vals!r} for {model}.create()")
        values = {k: v for k, v in vals.items() if k not in MAGIC_COLUMNS}
        self.check_fields(model, values)
        for key, value in self.context.items():
            if key.startswith("default_") and key[8:] in schema.fields:
                values.setdefault(key[8:], value)
        behaviour = self.db.behaviour(model)
        for key, value in behaviour.defaults(self, values).items():
            values.setdefault(key, value)
        behaviour.before_create(self, values)
        stored: dict[str, Any] = {}
        deferred: list[tuple[Field, Any]] = []
        for name, value in values.items():
            fld = schema.fields[name]
            if fld.column and fld.type != "many2many":
                stored[name] = self.convert(model, fld, value)
            elif fld.persists_writes or fld.x2many:
                deferred.append((fld, value))
        for fld in schema.fields.values():
            if fld.column and fld.name not in stored and fld.name not in MAGIC_COLUMNS:
                stored[fld.name] = self._empty(fld)
        behaviour.prepare_create(self, stored)
        self.check_required(model, stored)
        self.check_foreign_keys(model, stored)
        now = self.tx.now
        stored.update(create_uid=self.uid, create_date=now, write_uid=self.uid, write_date=now)
        stored = {k: v for k, v in stored.items() if k in schema.fields or k.startswith("db_")}
        rid = self.db.store.insert(model, stored)
        for fld, value in deferred:
            self._write_deferred(model, rid, fld, value)
        self._recompute_related(model, rid)
        behaviour.after_create(self, rid, values)
        row = self.db.store.row(model, rid)
        assert row is not None
        for watcher in self.db.watchers:
            watcher(self, model, rid, None, row)
        return rid

    def _empty(self, fld: Field) -> Any:
        if fld.type == "many2many":
            return ()
        if fld.type == "boolean":
            return False
        if fld.type == "integer":
            return 0
        if fld.type in ("float", "monetary"):
            return 0.0
        return None

    # -- write --------------------------------------------------------------------------------

    def write(self, model: str, ids: Sequence[int], vals: Mapping[str, Any]) -> bool:
        schema = self.db.model(model)
        if not isinstance(vals, Mapping):
            raise ValueError(f"Invalid values {vals!r} for {model}.write()")
        ids = list(ids)
        if not ids:
            return True
        values = {k: v for k, v in vals.items() if k not in MAGIC_COLUMNS}
        self.check_fields(model, values)
        self.check_exist(model, ids, "write")
        stored: dict[str, Any] = {}
        deferred: list[tuple[Field, Any]] = []
        for name, value in values.items():
            fld = schema.fields[name]
            if fld.column and fld.type != "many2many":
                stored[name] = self.convert(model, fld, value)
            elif fld.persists_writes or fld.x2many:
                deferred.append((fld, value))
        required = {k: v for k, v in stored.items() if schema.fields[k].required}
        for name, value in required.items():
            if value in (None, ""):
                raise not_null_error(schema, schema.fields[name])
        self.check_foreign_keys(model, stored)
        behaviour = self.db.behaviour(model)
        for rid in ids:
            old = self.db.store.row(model, rid)
            assert old is not None
            self.db.store.update(
                model, rid, {**stored, "write_uid": self.uid, "write_date": self.tx.now}
            )
            for fld, value in deferred:
                self._write_deferred(model, rid, fld, value)
            self._recompute_related(model, rid)
            behaviour.after_write(self, rid, old, values)
            new = self.db.store.row(model, rid)
            assert new is not None
            for watcher in self.db.watchers:
                watcher(self, model, rid, old, new)
        return True

    def update_computed(self, model: str, rid: int, changes: Mapping[str, Any]) -> None:
        """Store recomputed values; like Odoo's ``_write`` this bumps ``write_date``.

        Only a real change counts, so recomputing an unchanged value leaves the record alone.
        """
        row = self.db.store.row(model, rid)
        if row is None:
            return
        delta = {k: v for k, v in changes.items() if row.get(k) != v}
        if not delta:
            return
        self.db.store.update(
            model, rid, {**delta, "write_uid": self.uid, "write_date": self.tx.now}
        )
        new = self.db.store.row(model, rid)
        assert new is not None
        for watcher in self.db.watchers:
            watcher(self, model, rid, row, new)

    def _recompute_related(self, model: str, rid: int) -> None:
        schema = self.db.model(model)
        row = self.db.store.row(model, rid)
        if row is None:
            return
        changes: dict[str, Any] = {}
        for fld in schema.fields.values():
            if fld.related and fld.column and self.resolvable(model, fld.related):
                value = self._related_value(model, row, fld.related)
                if fld.type == "many2one" and isinstance(value, tuple):
                    value = value[0] if value else None
                if value is not None and row.get(fld.name) != value:
                    changes[fld.name] = value
        if changes:
            self.db.store.update(model, rid, changes)

    def _write_deferred(self, model: str, rid: int, fld: Field, value: Any) -> None:
        if fld.type == "many2many":
            self._write_many2many(model, rid, fld, value)
        elif fld.type == "one2many":
            self._write_one2many(model, rid, fld, value)
        elif fld.inverse_method:
            self.db.behaviour(model).inverse(self, rid, fld, self.convert(model, fld, value))
        elif fld.related and not fld.readonly:
            self._write_related(model, rid, fld, value)

    def _write_related(self, model: str, rid: int, fld: Field, value: Any) -> None:
        assert fld.related is not None
        row = self.db.store.row(model, rid)
        current_model, current = model, row
        for name in fld.related[:-1]:
            link = self.field(current_model, name)
            if current is None or link is None or not link.relation or not current.get(name):
                return
            current_model = link.relation
            current = self.db.store.row(current_model, int(current[name]))
        if current is not None:
            self.write(current_model, [current["id"]], {fld.related[-1]: value})

    def _commands(self, value: Any) -> list[tuple[Any, ...]]:
        if value is None or value is False:
            return [(5,)]
        if not isinstance(value, list | tuple):
            raise ValueError(f"Wrong value for x2many field: {value!r}")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return [(6, 0, list(value))]
        commands = []
        for command in value:
            if not isinstance(command, list | tuple) or not command:
                raise ValueError(f"Invalid x2many command {command!r}")
            commands.append(tuple(command))
        return commands

    def _link_check(self, fld: Field, ids: Iterable[int]) -> None:
        relation = fld.relation or ""
        if relation not in self.db.schema:
            return
        for target in ids:
            if not self.db.store.exists(relation, int(target)):
                raise foreign_key_error(self.db.model(fld.model), fld)

    def _write_many2many(self, model: str, rid: int, fld: Field, value: Any) -> None:
        row = self.db.store.row(model, rid)
        current = list(row.get(fld.name) or ()) if row else []
        relation = fld.relation or ""
        for command in self._commands(value):
            code = command[0]
            if code == 0:
                current.append(self.create_one(relation, command[2]))
            elif code == 1:
                self.write(relation, [command[1]], command[2])
            elif code == 2:
                self.unlink(relation, [command[1]])
                current = [i for i in current if i != command[1]]
            elif code == 3:
                current = [i for i in current if i != command[1]]
            elif code == 4:
                self._link_check(fld, [command[1]])
                if command[1] not in current:
                    current.append(int(command[1]))
            elif code == 5:
                current = []
            elif code == 6:
                ids = [int(i) for i in command[2]]
                self._link_check(fld, ids)
                current = list(dict.fromkeys(ids))
            else:
                raise ValueError(f"Invalid x2many command {command!r}")
        self.db.store.update(model, rid, {fld.name: tuple(current)})

    def _write_one2many(self, model: str, rid: int, fld: Field, value: Any) -> None:
        comodel = fld.relation or ""
        inverse = self.field(comodel, fld.inverse_name or "")
        if inverse is None:
            return
        link: dict[str, Any] = {inverse.name: rid}
        if inverse.type == "many2one_reference" and inverse.model_field:
            link[inverse.model_field] = model
        unlink_vals: dict[str, Any] = {inverse.name: False}
        for command in self._commands(value):
            code = command[0]
            if code == 0:
                self.create_one(comodel, {**command[2], **link})
            elif code == 1:
                self.write(comodel, [command[1]], command[2])
            elif code in (2, 3):
                if code == 2 or inverse.required:
                    self.unlink(comodel, [command[1]])
                else:
                    self.write(comodel, [command[1]], unlink_vals)
            elif code == 4:
                self._link_check(fld, [command[1]])
                self.write(comodel, [command[1]], link)
            elif code in (5, 6):
                keep = [int(i) for i in command[2]] if code == 6 else []
                self._link_check(fld, keep)
                for child in self.inverse_ids(fld, rid, model):
                    if child not in keep:
                        if inverse.required:
                            self.unlink(comodel, [child])
                        else:
                            self.write(comodel, [child], unlink_vals)
                if keep:
                    self.write(comodel, keep, link)
            else:
                raise ValueError(f"Invalid x2many command {command!r}")

    # -- unlink -------------------------------------------------------------------------------

    def unlink(self, model: str, ids: Sequence[int]) -> bool:
        """Deleted ids are skipped: unlinking twice is not an error (reference §1.6).

        References follow SQL ``ondelete``: a required many2one restricts the delete (Odoo turns
        ``set null`` into ``restrict`` on required fields), any other many2one is set to null and
        many2many links are dropped.
        """
        self.db.model(model)
        existing = [rid for rid in dict.fromkeys(ids) if self.db.store.exists(model, rid)]
        if not existing:
            return True
        self.db.behaviour(model).before_unlink(self, existing)
        existing = [rid for rid in existing if self.db.store.exists(model, rid)]
        gone = set(existing)
        for other in self.db.schema.values():
            for fld in other.fields.values():
                if fld.relation != model or not fld.column:
                    continue
                for row in list(self.db.store.rows(other.name)):
                    if other.name == model and row["id"] in gone:
                        continue
                    if fld.type == "many2one" and row.get(fld.name) in gone:
                        if fld.required:
                            raise foreign_key_error(other, fld)
                        self.db.store.update(other.name, row["id"], {fld.name: None})
                    elif fld.type == "many2many" and gone.intersection(row.get(fld.name) or ()):
                        kept = tuple(i for i in row[fld.name] if i not in gone)
                        self.db.store.update(other.name, row["id"], {fld.name: kept})
        rows = [dict(self.db.store.row(model, rid) or {}) for rid in existing]
        for rid in existing:
            self.db.store.delete(model, rid)
        self.db.behaviour(model).after_unlink(self, rows)
        return True


def recordset_repr(model: str, ids: Sequence[int]) -> str:
    """``repr(recordset)``: ``stock.picking(1, 2)`` and ``stock.picking(7,)``."""
    return f"{model}{tuple(ids)!r}"


def not_null_error(schema: ModelSchema, fld: Field) -> ValidationError:
    """17.0/18.0 ``_as_validation_error`` for a ``NotNullViolation`` (reference §1.6)."""
    return ValidationError(
        "The operation cannot be completed:\n"
        "- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. If possible, archive it "
        "instead.\n\n"
        f"Model: {schema.description} ({schema.name})\n"
        f"Field: {fld.string} ({fld.name})\n"
    )


def foreign_key_error(schema: ModelSchema, fld: Field) -> ValidationError:
    """``_as_validation_error`` for a ``ForeignKeyViolation`` raised by the insert or update."""
    table = schema.name.replace(".", "_")
    return ValidationError(
        "The operation cannot be completed: another model requires the record being deleted. "
        "If possible, archive it instead.\n\n"
        f"Model: {schema.description} ({schema.name})\n"
        f"Constraint: {table}_{fld.name}_fkey\n"
    )


def to_date(value: Any) -> date:
    """``fields.Date.to_date``: ``'YYYY-MM-DD'`` (longer strings are cut)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.strptime(str(value)[:10], DATE_FORMAT).date()


def to_datetime(value: Any) -> datetime:
    """``fields.Datetime.to_datetime``: naive UTC, ``'YYYY-MM-DD HH:MM:SS'`` or a date."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError(f"Datetime field expects a naive datetime: {value}")
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value)
    return datetime.strptime(text, DATETIME_FORMAT[: len(text) - 2])
