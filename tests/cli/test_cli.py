"""The command line: migrations, one intake cycle, and the demo a newcomer runs first."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.core.context import set_context
from app.core.security import DEV_API_KEY
from app.store.migrate import current_heads, head_revision
from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("WAYBILL_DATABASE_URL", url)
    monkeypatch.setenv("WAYBILL_LOG_JSON", "false")
    monkeypatch.setenv("WAYBILL_AUTO_BOOK", "false")
    get_settings.cache_clear()
    set_context(None)
    yield url
    get_settings.cache_clear()
    set_context(None)


def test_db_upgrade(env_settings: str) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert current_heads(env_settings) == [head_revision()]


def test_sync_once_polls_odoo(env_settings: str, monkeypatch: pytest.MonkeyPatch) -> None:
    box = OdooSandbox(version="18.0", seed=5)
    with run_sandbox_server(box, host="127.0.0.1", port=0) as url:
        for key, value in {
            "ODOO_URL": url,
            "ODOO_DB": box.db,
            "ODOO_USERNAME": box.login,
            "ODOO_API_KEY": box.api_key,
            "ODOO_PROTOCOL": "xmlrpc",
        }.items():
            monkeypatch.setenv(f"WAYBILL_{key}", value)
        get_settings.cache_clear()
        runner = CliRunner()
        assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
        result = runner.invoke(cli, ["sync", "once"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output.strip().splitlines()[-1])
        assert report["outcomes"]["created"] > 0
        again = json.loads(runner.invoke(cli, ["sync", "once"]).output.strip().splitlines()[-1])
        assert "created" not in again["outcomes"]


def test_worker_refuses_embedded_redis(env_settings: str) -> None:
    result = CliRunner().invoke(cli, ["worker", "--burst"])
    assert result.exit_code == 2
    assert "WAYBILL_REDIS_URL" in result.output


DEMO_KEY = {"X-API-Key": DEV_API_KEY}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_books_sandbox_pickings_end_to_end(tmp_path: Path) -> None:
    """The README's run command: pickings flow from the Odoo sandbox to booked labels."""
    port, odoo_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "demo",
            "--port",
            str(port),
            "--odoo-port",
            str(odoo_port),
            "--release-every",
            "1",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        states: dict[str, int] = {}
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                page = httpx.get(
                    f"http://127.0.0.1:{port}/v1/shipments?limit=500", timeout=5, headers=DEMO_KEY
                )
            except httpx.TransportError:
                continue
            states = {}
            for item in page.json()["items"]:
                states[item["state"]] = states.get(item["state"], 0) + 1
            attachments = httpx.get(
                f"http://127.0.0.1:{odoo_port}/sandbox/records/ir.attachment", timeout=5
            ).json()
            labels = [a for a in attachments if a["name"].startswith("LabelShipping-")]
            if states.get("booked", 0) >= 3 and labels:
                break
        assert states.get("booked", 0) >= 3, states
        assert labels, "labels never reached the Odoo picking"
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5, headers=DEMO_KEY)
        assert ready.status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.redis
def test_worker_runs_queued_jobs_on_real_redis(
    env_settings: str, redis_conn: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.queue import JobSpec, RQJobQueue

    kwargs = redis_conn.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    url = f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"
    monkeypatch.setenv("WAYBILL_REDIS_URL", url)
    get_settings.cache_clear()
    queue = RQJobQueue(redis_conn)  # type: ignore[arg-type]
    queue.enqueue(JobSpec("app.store.migrate.current_heads", (env_settings,), job_id="heads-1"))
    result = CliRunner().invoke(cli, ["worker", "default", "--burst"])
    assert result.exit_code == 0, result.output
    from rq.job import Job

    job = Job.fetch("heads-1", connection=redis_conn)  # type: ignore[arg-type]
    assert job.is_finished
