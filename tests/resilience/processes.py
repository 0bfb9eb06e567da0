"""Real processes for fault injection: a private redis-server the test may restart, and
``waybill`` subprocesses (workers, the API) pointed at it. Plain helpers; fixtures live in
``conftest``. (A module named ``conftest`` cannot be imported reliably from tests: every test
folder has one.)

The private Redis runs **without persistence** (no RDB snapshots, no AOF): a restart loses every
queued job, lock, circuit and rate-limit bucket. That is the harshest restart there is, and the
one that proves the design — the database holds every intent, and the sweeper rebuilds the queue
from it. (With AOF the jobs would survive and the sweeper would have nothing to prove.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

SPARE_PORTS = range(6391, 6400)


REPO = Path(__file__).resolve().parents[2]


HERE = Path(__file__).resolve().parent


def free_port(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(predicate: object, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(step)
    return False


class RedisServer:
    """One ``redis-server`` on a spare loopback port, started and stopped by the test."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        conn = self.client()
        ok = wait_for(lambda: _ping(conn), 10)
        conn.close()
        if not ok:
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # no shutdown save: whatever was in memory is gone
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1


def _ping(conn: redis.Redis) -> bool:
    try:
        return bool(conn.ping())
    except redis.RedisError:
        return False


class Process:
    """A ``python -m <module> …`` subprocess in its own process group (so a kill takes the RQ
    work-horse and scheduler with it, as an OOM kill or a lost container would).

    Workers run as ``python -m app.core.worker`` — the function behind ``waybill worker`` — so
    these tests do not depend on every CLI sub-app importing."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=str(log.parent),
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill_group(self) -> None:
        """SIGKILL the process and every descendant. RQ puts each work-horse in a process group
        of its own, so a group kill alone would leave the horse finishing the job — a container
        or host loss takes it down too, and that is the case worth testing."""
        victims = [self.proc.pid, *_descendants(self.proc.pid)]
        for pid in victims:  # freeze first, so nothing reacts to a sibling's death
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill_group()
        self._log.close()


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def subprocess_env(**values: str) -> dict[str, str]:
    """The parent's environment minus WAYBILL_* (each test says what its processes use)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["PYTHONUNBUFFERED"] = "1"  # a killed process's last log lines are evidence
    env.update({f"WAYBILL_{k.upper()}": v for k, v in values.items()})
    return env
