"""In-memory tables with per-call transactions.

Odoo runs every RPC call in one database transaction that commits on success and rolls back on
any exception (reference §1.1 "Transaction", §5). The store mirrors that with an undo journal:
the first change to a row inside a transaction saves the row's previous version, and a rollback
puts every saved version back. This keeps a call cheap no matter how large the tables are.

Rows are plain dicts of *stored* column values (datetimes as naive UTC ``datetime``, many2many
as tuples of ids). Callers must not mutate a row returned by :meth:`Store.row`; they go through
:meth:`Store.update` so the journal sees the change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

Row = dict[str, Any]

_MISSING = object()


class Store:
    """All tables of one sandbox database."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[int, Row]] = {}
        self._next_id: dict[str, int] = {}
        self._journal: dict[tuple[str, int], Any] | None = None
        self._saved_next_id: dict[str, int] = {}

    # -- transactions -------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._journal is not None

    def begin(self) -> None:
        if self._journal is not None:
            raise RuntimeError("transaction already open")
        self._journal = {}
        self._saved_next_id = dict(self._next_id)

    def commit(self) -> None:
        self._journal = None
        self._saved_next_id = {}

    def rollback(self) -> None:
        journal, self._journal = self._journal, None
        if journal is None:
            return
        for (model, rid), previous in journal.items():
            table = self._tables.setdefault(model, {})
            if previous is _MISSING:
                table.pop(rid, None)
            else:
                table[rid] = previous
        self._next_id = self._saved_next_id
        self._saved_next_id = {}

    def _remember(self, model: str, rid: int) -> None:
        if self._journal is None:
            raise RuntimeError("changes need an open transaction")
        key = (model, rid)
        if key not in self._journal:
            current = self._tables.get(model, {}).get(rid)
            self._journal[key] = _MISSING if current is None else current

    # -- rows ---------------------------------------------------------------------------------

    def table(self, model: str) -> dict[int, Row]:
        return self._tables.setdefault(model, {})

    def ids(self, model: str) -> list[int]:
        return sorted(self._tables.get(model, {}))

    def rows(self, model: str) -> Iterator[Row]:
        table = self._tables.get(model, {})
        for rid in sorted(table):
            yield table[rid]

    def row(self, model: str, rid: int) -> Row | None:
        return self._tables.get(model, {}).get(rid)

    def exists(self, model: str, rid: int) -> bool:
        return rid in self._tables.get(model, {})

    def count(self, model: str) -> int:
        return len(self._tables.get(model, {}))

    def next_id(self, model: str) -> int:
        table = self._tables.get(model, {})
        start = max(self._next_id.get(model, 1), max(table, default=0) + 1)
        return next(i for i in itertools.count(start) if i not in table)

    def insert(self, model: str, row: Row, rid: int | None = None) -> int:
        if rid is None:
            rid = self.next_id(model)
        elif self.exists(model, rid):
            raise KeyError(f"{model}({rid},) already exists")
        self._remember(model, rid)
        stored = dict(row)
        stored["id"] = rid
        self.table(model)[rid] = stored
        self._next_id[model] = max(self._next_id.get(model, 1), rid + 1)
        return rid

    def update(self, model: str, rid: int, changes: Row) -> None:
        current = self.row(model, rid)
        if current is None:
            raise KeyError(f"{model}({rid},) does not exist")
        self._remember(model, rid)
        updated = dict(current)
        updated.update(changes)
        self.table(model)[rid] = updated

    def delete(self, model: str, rid: int) -> None:
        if not self.exists(model, rid):
            return
        self._remember(model, rid)
        del self.table(model)[rid]
