"""``waybill`` command line: serve, worker, demo, sync, db — thin wrappers over services."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from app.core.config import get_settings
from app.core.logging import configure_logging
from app.security_cli import keys_app
from app.sync.alerts.cli import alerts_app
from app.sync.manifest.cli import manifest_app
from training.cli import export_app, models_app, recommend_app, simulate_app, train_app
from training.eta.cli import eta_app
from training.triage.cli import triage_app

cli = typer.Typer(help="Waybill: Odoo ⇄ carrier integration service.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
sync_cli = typer.Typer(help="Odoo intake.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(sync_cli, name="sync")
events_cli = typer.Typer(help="The replayable event log.", no_args_is_help=True)
cli.add_typer(events_cli, name="events")
dlq_cli = typer.Typer(help="Dead-lettered jobs.", no_args_is_help=True)
cli.add_typer(dlq_cli, name="dlq")


def _dead_letters() -> Any:
    from app.core.context import get_context
    from app.core.dlq import dead_letters_for

    return dead_letters_for(get_context().queue)


@dlq_cli.command("list")
def dlq_list() -> None:
    """Every dead letter: id, queue, job, attempts, reason."""
    for item in _dead_letters().list():
        typer.echo(json.dumps(item.to_body(), default=str))


@dlq_cli.command("show")
def dlq_show(dead_id: str) -> None:
    typer.echo(json.dumps(_dead_letters().show(dead_id).to_body(), default=str, indent=2))


@dlq_cli.command("replay")
def dlq_replay(dead_id: str) -> None:
    """Queue the job again once its cause is fixed; jobs are idempotent."""
    typer.echo(json.dumps({"replayed": dead_id, "job_id": _dead_letters().replay(dead_id)}))


@dlq_cli.command("discard")
def dlq_discard(dead_id: str) -> None:
    _dead_letters().discard(dead_id)
    typer.echo(json.dumps({"discarded": dead_id}))


cli.add_typer(simulate_app, name="simulate", help="Synthetic shipment history.")
cli.add_typer(keys_app, name="keys", help="API keys.")
cli.add_typer(train_app, name="train", help="Train a model and log it to MLflow.")
cli.add_typer(models_app, name="models", help="Registered models: list, evaluate, promote.")
cli.add_typer(export_app, name="export", help="Export Waybill's history for training.")
cli.add_typer(recommend_app, name="recommend", help="Batch carrier recommendation.")
cli.add_typer(triage_app, name="triage", help="Exception triage: evaluate, classify.")
cli.add_typer(eta_app, name="eta", help="Delivery-time prediction: evaluate, predict.")
cli.add_typer(alerts_app, name="alerts", help="Predictive alerting: list, ack, resolve, evaluate.")
cli.add_typer(manifest_app, name="manifest", help="End-of-day manifest and close-out.")


def _setup_logging() -> None:
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations to WAYBILL_DATABASE_URL."""
    from app.store.migrate import upgrade

    _setup_logging()
    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes")] = 1,
) -> None:
    """Run the API (``app.main:app``)."""
    import uvicorn

    _setup_logging()
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=get_settings().access_log,
        timeout_graceful_shutdown=20,
    )


@cli.command()
def worker(
    queues: Annotated[list[str] | None, typer.Argument(help="Queues, in priority order")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queues are empty")] = False,
    fork: Annotated[
        bool | None,
        typer.Option(
            "--fork/--no-fork",
            help="A forked work-horse per job (default: WAYBILL_WORKER_FORK_PER_JOB, true), or "
            "every job in this process: faster, less isolated",
        ),
    ] = None,
) -> None:
    """Run an RQ worker against WAYBILL_REDIS_URL. SIGTERM finishes the job in hand, then exits;
    a killed worker's job is retried once its heartbeat lapses (WAYBILL_WORKER_* settings)."""
    from app.core.worker import work_from_settings

    code = work_from_settings(queues or ["default"], burst=burst, fork_per_job=fork)
    if code:
        typer.echo("worker needs a Redis server: set WAYBILL_REDIS_URL", err=True)
        raise typer.Exit(code)


@sync_cli.command("once")
def sync_once() -> None:
    """One intake cycle: poll Odoo for ready pickings and settle stored webhook hints."""
    from app.sync.intake.jobs import poll_pickings

    _setup_logging()
    typer.echo(json.dumps(poll_pickings()))


@sync_cli.command("run")
def sync_run() -> None:
    """Poll Odoo forever, every WAYBILL_POLL_INTERVAL_SECONDS."""
    from app.sync.scheduler import run_forever

    _setup_logging()
    run_forever()


@events_cli.command("replay")
def events_replay(
    since: Annotated[str, typer.Option(help="Stream id (1700000000000-0) or ISO time")] = "-",
    until: Annotated[str, typer.Option(help="Stream id or ISO time")] = "+",
) -> None:
    """Re-apply tracking events to shipments (idempotent: states converge to the same result)."""
    from app.core.context import get_context
    from app.core.events import EventLog, stream_id
    from app.sync.tracking.jobs import build_projector

    _setup_logging()
    ctx = get_context()
    projector = build_projector(ctx)
    count = EventLog(ctx.redis).replay(projector, since=stream_id(since), until=stream_id(until))
    projector.flush()
    typer.echo(json.dumps({"replayed": count}))


@cli.command()
def demo(
    port: Annotated[int, typer.Option(help="API port")] = 8000,
    odoo_port: Annotated[int, typer.Option(help="Odoo sandbox port")] = 8069,
    odoo_version: Annotated[str, typer.Option(help="17.0, 18.0 or 19.0")] = "17.0",
    release_every: Annotated[float, typer.Option(help="Seconds between new ready pickings")] = 5,
) -> None:
    """Everything embedded: API, jobs, Odoo sandbox, demo data. Open /docs and watch the logs."""
    from app.demo import run_demo

    run_demo(port=port, odoo_port=odoo_port, odoo_version=odoo_version, release_every=release_every)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
