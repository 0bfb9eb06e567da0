"""Odoo search domains: normalization, validation and evaluation against sandbox rows.

Semantics follow Odoo's ``odoo/osv/expression.py`` translated to Python instead of SQL:

* prefix operators ``&``, ``|``, ``!`` with an implicit ``&`` between consecutive terms; a
  ``!`` is pushed down to the terms and inverts their operator (``distribute_not``), so
  ``['!', ('date_done', '<', d)]`` means ``date_done >= d`` and skips unset dates;
* ``!=``, ``not in``, ``not like`` and ``not ilike`` also match *unset* values (Odoo adds
  ``OR col IS NULL``), while ``<``, ``>``, ``like``… never match an unset value (SQL ``NULL``);
* ``('f', '=', False)`` matches unset values, and for booleans also ``False``;
* a many2one compared with a string matches on the target's display name (Odoo name-searches);
* dotted paths (``partner_id.country_id.code``) follow many2one and x2many links;
* a date-only string compared with a datetime field gets ``00:00:00`` or ``23:59:59`` appended the
  way expression.py does, and datetime strings are parsed leniently, as PostgreSQL would;
* an unknown field raises ``ValueError("Invalid field stock.picking.foo in leaf ('foo', '=', 1)")``
  (reference §1.6); a non-stored field without a search method cannot be filtered (reference §2),
  and the sandbox says so with a ``ValueError`` rather than silently ignoring the leaf.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from .schema import Field

AND, OR, NOT = "&", "|", "!"
TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)

TERM_OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<=",
        "<",
        ">",
        ">=",
        "=?",
        "=like",
        "=ilike",
        "like",
        "not like",
        "ilike",
        "not ilike",
        "in",
        "not in",
        "child_of",
        "parent_of",
        "any",
        "not any",
    }
)
#: ``expression.TERM_OPERATORS_NEGATION``: how ``distribute_not`` inverts a term.
NEGATIONS = {
    "<": ">=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "=": "!=",
    "!=": "=",
    "in": "not in",
    "like": "not like",
    "ilike": "not ilike",
    "not in": "in",
    "not like": "like",
    "not ilike": "ilike",
    "any": "not any",
    "not any": "any",
}
_NEGATIVE = frozenset({"!=", "not in", "not like", "not ilike"})
_LIKE = frozenset({"like", "not like", "ilike", "not ilike", "=like", "=ilike"})

Predicate = Callable[[int], bool]


class DomainSource(Protocol):
    """What the evaluator needs from the ORM."""

    def field(self, model: str, name: str) -> Field | None: ...

    def value(self, model: str, rid: int, field: Field) -> Any: ...

    def display_name(self, model: str, rid: int) -> str: ...

    def model_ids(self, model: str) -> list[int]: ...


def normalize(domain: Sequence[Any] | None) -> list[Any]:
    """``expression.normalize_domain``: explicit ``&`` operators, leaves as tuples."""
    if not domain:
        return [TRUE_LEAF]
    if not isinstance(domain, list | tuple):
        raise ValueError(f"Invalid domain {domain!r}")
    result: list[Any] = []
    expected = 1
    arity = {NOT: 1, AND: 2, OR: 2}
    for token in domain:
        if expected == 0:
            result[0:0] = [AND]
            expected = 1
        if isinstance(token, list | tuple):
            expected -= 1
            token = tuple(token)
        elif token in arity:
            expected += arity[token] - 1
        else:
            raise ValueError(f"Invalid leaf {token!r}")
        result.append(token)
    if expected != 0:
        raise ValueError(f"Domain {list(domain)} is syntactically not correct.")
    return result


@dataclass(frozen=True)
class _Leaf:
    path: tuple[str, ...]
    operator: str
    right: Any
    original: tuple[Any, ...]


class DomainCompiler:
    """Turns a domain into a predicate over record ids of one model."""

    def __init__(self, source: DomainSource) -> None:
        self.source = source

    def compile(self, model: str, domain: Sequence[Any] | None) -> Predicate:
        tokens = normalize(domain)
        predicate, rest = self._parse(model, tokens, 0)
        if rest != len(tokens):
            raise ValueError(f"Domain {list(domain or [])} is syntactically not correct.")
        return predicate

    def _parse(
        self, model: str, tokens: list[Any], pos: int, negate: bool = False
    ) -> tuple[Predicate, int]:
        """Recursive descent over the prefix notation, pushing ``!`` down to the leaves."""
        token = tokens[pos]
        if token == NOT:
            return self._parse(model, tokens, pos + 1, not negate)
        if token in (AND, OR):
            left, pos = self._parse(model, tokens, pos + 1, negate)
            right, pos = self._parse(model, tokens, pos, negate)
            conjunction = (token == AND) != negate  # De Morgan under a negation
            if conjunction:
                return (lambda rid: left(rid) and right(rid)), pos
            return (lambda rid: left(rid) or right(rid)), pos
        return self._leaf(model, token, negate), pos + 1

    def _leaf(self, model: str, leaf: tuple[Any, ...], negate: bool = False) -> Predicate:
        """One term; under ``!`` the operator is inverted as ``distribute_not`` does.

        Operators without an inverse keep a SQL ``NOT``, which, like SQL, is false for an
        unset value.
        """
        if leaf in (TRUE_LEAF, FALSE_LEAF):
            value = (leaf == TRUE_LEAF) != negate
            return lambda rid: value
        if len(leaf) != 3 or not isinstance(leaf[0], str) or not isinstance(leaf[1], str):
            raise ValueError(f"Invalid leaf {leaf}")
        operator = leaf[1].lower()
        operator = {"<>": "!=", "==": "="}.get(operator, operator)
        if operator not in TERM_OPERATORS:
            raise ValueError(f"Invalid operator {leaf[1]!r} in domain term {leaf!r}")
        path = tuple(leaf[0].split("."))
        self._check_path(model, path, leaf)
        sql_not = False
        if negate:
            if operator in NEGATIONS:
                operator = NEGATIONS[operator]
            else:
                sql_not = True
        parsed = _Leaf(path, operator, leaf[2], leaf)
        if operator in ("any", "not any"):
            target = self._field_at(model, path).relation or model
            sub = self.compile(target, leaf[2])
            return self._any(model, parsed, sub)
        if sql_not:
            return lambda rid: (
                self._is_set(model, rid, path) and not self._eval(model, rid, path, parsed)
            )
        return lambda rid: self._eval(model, rid, path, parsed)

    def _is_set(self, model: str, rid: int, path: tuple[str, ...]) -> bool:
        field = self.source.field(model, path[0])
        assert field is not None
        return not _is_unset(self.source.value(model, rid, field))

    def _field_at(self, model: str, path: tuple[str, ...]) -> Field:
        current = model
        field: Field | None = None
        for name in path:
            field = self.source.field(current, name)
            assert field is not None
            current = field.relation or current
        assert field is not None
        return field

    def _check_path(self, model: str, path: tuple[str, ...], leaf: tuple[Any, ...]) -> None:
        current = model
        for index, name in enumerate(path):
            field = self.source.field(current, name)
            if field is None:
                raise ValueError(f"Invalid field {current}.{name} in leaf {leaf}")
            if not field.searchable:
                raise ValueError(f"Non-stored field {field!r} cannot be searched.")
            last = index == len(path) - 1
            if not last:
                if not field.relational:
                    raise ValueError(f"Invalid field {current}.{name} in leaf {leaf}")
                current = field.relation or current

    # -- evaluation ---------------------------------------------------------------------------

    def _any(self, model: str, leaf: _Leaf, sub: Predicate) -> Predicate:
        def predicate(rid: int) -> bool:
            targets = self._targets(model, rid, leaf.path)
            found = any(sub(t) for t in targets)
            return found if leaf.operator == "any" else not found

        return predicate

    def _targets(self, model: str, rid: int, path: tuple[str, ...]) -> list[int]:
        ids = [rid]
        current = model
        for name in path:
            field = self.source.field(current, name)
            assert field is not None
            nxt: list[int] = []
            for i in ids:
                nxt.extend(_as_ids(self.source.value(current, i, field)))
            ids, current = nxt, field.relation or current
        return ids

    def _eval(self, model: str, rid: int, path: tuple[str, ...], leaf: _Leaf) -> bool:
        field = self.source.field(model, path[0])
        assert field is not None
        value = self.source.value(model, rid, field)
        if len(path) > 1:
            targets = _as_ids(value)
            relation = field.relation or model
            return any(self._eval(relation, t, path[1:], leaf) for t in targets)
        return self._compare(field, value, leaf.operator, leaf.right)

    def _compare(self, field: Field, value: Any, operator: str, right: Any) -> bool:
        if operator == "=?":
            if right is None or right is False:
                return True
            operator = "="
        if operator in ("child_of", "parent_of"):
            operator = "in"
        if field.relational and _is_name_operand(right, operator):
            return self._compare_names(field, value, operator, right)
        if field.x2many:
            return _compare_x2many(value, operator, right)
        return _compare_scalar(field, value, operator, right)

    def _compare_names(self, field: Field, value: Any, operator: str, right: Any) -> bool:
        relation = field.relation or ""
        negative = operator in _NEGATIVE
        positive_op = {"!=": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}.get(
            operator, operator
        )
        names = right if isinstance(right, list | tuple) else [right]
        ids = _as_ids(value)
        matched = False
        for target in ids:
            label = self.source.display_name(relation, target)
            if positive_op == "in":
                hit = label in names
            else:
                hit = any(_string_match(label, positive_op, str(n)) for n in names)
            if hit:
                matched = True
                break
        return not matched if negative else matched


def _is_name_operand(right: Any, operator: str) -> bool:
    if operator in _LIKE:
        return isinstance(right, str)
    if isinstance(right, str):
        return True
    if isinstance(right, list | tuple) and right:
        return all(isinstance(r, str) for r in right)
    return False


def _as_ids(value: Any) -> list[int]:
    if value is None or value is False:
        return []
    if isinstance(value, list | tuple):
        return [int(v) for v in value]
    return [int(value)]


def _is_unset(value: Any) -> bool:
    return value is None or value is False or value == ""


def _compare_x2many(value: Any, operator: str, right: Any) -> bool:
    ids = set(_as_ids(value))
    if operator in ("=", "in"):
        if right is False or right is None or right == []:
            return not ids if operator == "=" else False
        wanted = set(_as_ids(right if isinstance(right, list | tuple) else [right]))
        return bool(ids & wanted)
    if operator in ("!=", "not in"):
        if right is False or right is None:
            return bool(ids)
        wanted = set(_as_ids(right if isinstance(right, list | tuple) else [right]))
        return not ids & wanted
    raise ValueError(f"Invalid operator {operator!r} for an x2many field")


def _coerce(field: Field, right: Any, operator: str) -> Any:
    """Bring the domain operand to the field's Python type (SQL would cast it)."""
    if right is None or right is False:
        return right
    if field.type == "datetime":
        if isinstance(right, datetime):
            return right.replace(tzinfo=None)
        if isinstance(right, date):
            return datetime(right.year, right.month, right.day)
        text = str(right)
        if len(text) == 10:
            text += " 23:59:59" if operator in (">", "<=") else " 00:00:00"
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    if field.type == "date":
        if isinstance(right, datetime):
            return right.date()
        if isinstance(right, date):
            return right
        return date.fromisoformat(str(right)[:10])
    if field.type in ("integer", "many2one", "many2one_reference"):
        return int(right)
    if field.type in ("float", "monetary"):
        return float(right)
    if field.type == "boolean":
        return bool(right)
    return right


def _compare_boolean(value: Any, operator: str, right: Any) -> bool:
    """Booleans: an unset column reads and compares as ``False`` (Odoo adds ``OR col IS NULL``)."""
    current = bool(value)
    if operator in ("in", "not in"):
        items = list(right) if isinstance(right, list | tuple) else [right]
        hit = current in [bool(i) for i in items]
        return hit if operator == "in" else not hit
    if operator in ("=", "!="):
        hit = current == bool(right)
        return hit if operator == "=" else not hit
    raise ValueError(f"Invalid operator {operator!r} for a boolean field")


def _compare_scalar(field: Field, value: Any, operator: str, right: Any) -> bool:
    if field.type == "boolean" and operator not in _LIKE:
        return _compare_boolean(value, operator, right)
    unset = _is_unset(value)
    if operator in ("in", "not in"):
        items = list(right) if isinstance(right, list | tuple) else [right]
        has_false = any(i is False or i is None for i in items)
        wanted = [_coerce(field, i, "=") for i in items if i is not False and i is not None]
        hit = (unset and has_false) or (not unset and value in wanted)
        if operator == "in":
            return hit
        return not hit
    if operator in ("=", "!="):
        if right is False or right is None:
            match = unset
        else:
            match = not unset and value == _coerce(field, right, operator)
        if operator == "=":
            return match
        if right is False or right is None:
            return not match
        return unset or not match
    if operator in _LIKE:
        if operator.startswith("not"):
            if unset:
                return True
            return not _string_match(str(value), operator[4:], _text(right))
        if unset:
            return False
        return _string_match(str(value), operator, _text(right))
    # <, <=, >, >=
    if unset:
        return False
    operand = _coerce(field, right, operator)
    if operand is None or operand is False:
        return False
    if operator == "<":
        return bool(value < operand)
    if operator == "<=":
        return bool(value <= operand)
    if operator == ">":
        return bool(value > operand)
    return bool(value >= operand)


def _text(right: Any) -> str:
    if right is None or right is False:
        return ""
    return str(right)


def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    out: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(out), flags)


def _string_match(value: str, operator: str, pattern: str) -> bool:
    """``like``/``ilike`` wrap the operand in ``%…%``; ``=like``/``=ilike`` use it as is."""
    if operator in ("like", "ilike"):
        pattern = f"%{pattern}%"
    ignore_case = operator in ("ilike", "=ilike")
    if operator == "=":
        return value == pattern
    return _like_regex(pattern, ignore_case).fullmatch(value) is not None
