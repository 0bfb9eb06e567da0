"""``waybill keys create|list|revoke``: API keys from the command line.

It needs database access, not a key, so it is how the first admin key of an install is made
(the other way is ``WAYBILL_BOOTSTRAP_ADMIN_KEY`` and ``POST /v1/keys``). ``create`` prints the
key once, alone on stdout (``KEY=$(waybill keys create …)`` works); the details go to stderr.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.core.config import get_settings
from app.core.db import Database
from app.core.errors import WaybillError
from app.core.security import key_tag, security_config
from app.core.security_keys import ALL_ROLES, create_api_key, list_api_keys, revoke_api_key

T = TypeVar("T")

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = "unknown"
    return f"cli:{user}"[:128]


def _database() -> Database:
    return Database(get_settings().database_url)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _run(action: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except WaybillError as exc:
        raise _fail(f"{action} failed: {exc.message}") from None
    except (OperationalError, ProgrammingError) as exc:
        raise _fail(
            f"{action} failed: database not ready ({type(exc).__name__}); "
            "run 'waybill db upgrade' first"
        ) from None


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who or what uses the key, e.g. odoo-prod")],
    role: Annotated[
        list[str], typer.Option("--role", "-r", help=f"Repeatable: {', '.join(sorted(ALL_ROLES))}")
    ],
    expires_in_days: Annotated[int, typer.Option(min=1, max=3650, help="Lifetime")] = 365,
    never_expires: Annotated[bool, typer.Option(help="No expiry (recorded in the audit)")] = False,
    rate_limit: Annotated[
        int | None, typer.Option(min=1, help="Requests per minute (default: the global limit)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print key and details as JSON")] = False,
) -> None:
    """Create a key and print it once."""
    settings = get_settings()
    expires_at = None if never_expires else datetime.now(UTC) + timedelta(days=expires_in_days)
    db = _database()
    try:
        created = _run(
            "create",
            lambda: create_api_key(
                db,
                pepper=security_config(settings).pepper,
                name=name,
                roles=role,
                created_by=_actor(),
                expires_at=expires_at,
                tag=key_tag(settings),
                rate_limit_per_minute=rate_limit,
            ),
        )
    finally:
        db.dispose()
    info = created.info
    if as_json:
        typer.echo(json.dumps({**info.to_dict(), "key": created.key}))
        return
    expiry = info.expires_at.isoformat() if info.expires_at else "never"
    typer.echo(
        f"created key {info.id} ({info.name}) roles={','.join(info.roles)} expires={expiry}\n"
        "the key is shown once, below; store it now",
        err=True,
    )
    typer.echo(created.key)


@keys_app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked and expired")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List keys: id, name, roles, status, dates. Never the keys."""
    db = _database()
    try:
        infos = _run("list", lambda: list_api_keys(db, include_inactive=all_keys))
    finally:
        db.dispose()
    rows = [i.to_dict() for i in infos]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    typer.echo(f"{'id':<14}{'status':<9}{'roles':<28}{'expires':<27}{'last used':<27}name")
    for r in rows:
        typer.echo(
            f"{r['id']:<14}{r['status']:<9}{','.join(r['roles']):<28}"
            f"{r['expires_at'] or 'never':<27}{r['last_used_at'] or '-':<27}{r['name']}"
        )


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (the part after wb_live_)")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit log)")] = None,
) -> None:
    """Revoke a key; requests with it get 401 from now on."""
    db = _database()
    try:
        info = _run("revoke", lambda: revoke_api_key(db, key_id, actor=_actor(), reason=reason))
    finally:
        db.dispose()
    typer.echo(f"revoked {info.id} ({info.name})")
