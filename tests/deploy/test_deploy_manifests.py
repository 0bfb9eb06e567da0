"""deploy/: the compose file and Kubernetes manifests parse, run only real ``waybill`` commands,
probe real routes, take every credential from secrets, and scale the workers.

Nothing here needs Docker or a cluster: the files are read as YAML and checked against the
application itself (its CLI, its routes, its settings). The readiness probe's script is run for
real against the app served on loopback.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import fakeredis
import pytest
import typer
import yaml
from auth_support import api_key_for
from pydantic import SecretStr
from security.route_guard import iter_routes, role_guards

from app.carriers.sandbox.runner import serve_asgi
from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.dlq import QUEUES
from app.core.queue import InProcessJobQueue
from app.main import create_app
from app.sync.odoo import OdooClient

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "docker-compose.yml"
WAYBILL_IMAGE = "waybill"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
# Settings that carry credentials: never in a ConfigMap or a literal value.
SECRET_SETTINGS = {
    name
    for name, info in Settings.model_fields.items()
    if "SecretStr" in str(info.annotation) or name in ("database_url", "redis_url")
}
# Refused as placeholders outside dev/test: every Waybill process must be given them.
REQUIRED_IN_PROD = {"api_key_pepper", "odoo_api_key", "odoo_webhook_token", "database_url"}


def _env_name(field: str) -> str:
    return f"WAYBILL_{field.upper()}"


KNOWN_ENV = {_env_name(name): name for name in Settings.model_fields}


# --- loading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    path: Path
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.body.get("kind"))

    @property
    def name(self) -> str:
        return str(self.body.get("metadata", {}).get("name"))

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.kind}/{self.name}"


def k8s_docs() -> list[Doc]:
    docs = []
    for path in sorted(K8S.rglob("*.yaml")):
        for body in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if body is not None:
                docs.append(Doc(path, body))
    return docs


DOCS = k8s_docs()
COMPOSE_DATA: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def of_kind(*kinds: str) -> list[Doc]:
    return [d for d in DOCS if d.kind in kinds]


def pod_spec(doc: Doc) -> dict[str, Any]:
    spec = doc.body["spec"]
    if doc.kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]  # type: ignore[no-any-return]


def containers(doc: Doc) -> Iterator[dict[str, Any]]:
    spec = pod_spec(doc)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def is_waybill(image: str) -> bool:
    return image.rsplit("/", 1)[-1].split(":")[0] == WAYBILL_IMAGE


def waybill_containers() -> list[tuple[Doc, dict[str, Any]]]:
    return [(d, c) for d in of_kind(*WORKLOADS) for c in containers(d) if is_waybill(c["image"])]


def compose_waybill_services() -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in COMPOSE_DATA["services"].items()
        if is_waybill(svc.get("image", ""))
    }


def example_secrets() -> dict[str, set[str]]:
    return {
        d.name: set(d.body.get("stringData", {})) | set(d.body.get("data", {}))
        for d in of_kind("Secret")
    }


# --- the app --------------------------------------------------------------------------------


def cli_root() -> Any:
    """The ``waybill`` command as click sees it (typer may bundle its own copy of click, so
    groups are recognised by what they do, not by class)."""
    from app.cli import cli

    return typer.main.get_command(cli)


def _is_group(command: Any) -> bool:
    return hasattr(command, "get_command") and hasattr(command, "list_commands")


def check_cli(argv: list[str]) -> str:
    """Resolve ``argv`` against the real CLI and parse its options and arguments (nothing runs);
    returns the command path. Fails on an unknown command, option or a bad value."""
    assert argv and argv[0] == "waybill", f"not a waybill command: {argv}"
    command = cli_root()
    args, path = list(argv[1:]), ["waybill"]
    while _is_group(command):
        assert args, f"{' '.join(path)} needs a subcommand"
        name = args.pop(0)
        sub = command.get_command(command.context_class(command), name)
        assert sub is not None, f"{' '.join(path)} has no command {name!r}"
        command, path = sub, [*path, name]
    try:
        command.make_context(" ".join(path), args)
    except Exception as exc:  # click's UsageError/BadParameter, whichever click typer uses
        if not hasattr(exc, "format_message"):
            raise
        raise AssertionError(f"{' '.join(argv)}: {exc.format_message()}") from None
    return " ".join(path)


@pytest.fixture(scope="module")
def app_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    from app.store.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('deploy') / 'waybill.db'}"
    upgrade(url)
    settings = Settings(env="test", database_url=url, odoo_url="http://127.0.0.1:9", _env_file=None)  # type: ignore[call-arg]
    ctx = AppContext(
        settings=settings,
        db=Database(url),
        redis=fakeredis.FakeRedis(),
        queue=InProcessJobQueue(workers=1),
    )
    dead_odoo = OdooClient(
        url="http://127.0.0.1:9", db="x", username="u", api_key="k", retry_attempts=1, timeout=0.3
    )
    ctx.use_odoo(dead_odoo, fast=dead_odoo)
    yield ctx
    ctx.close()


def route_guards(app: Any, path: str, method: str = "GET") -> list[frozenset[str]] | None:
    """The role sets guarding ``method path`` ([] for a public route), None if no such route."""
    for entry in iter_routes(app):
        if entry.path == path and method in entry.methods:
            return [g.allowed for g in role_guards(entry)]
    return None


def readiness_exec(container: dict[str, Any]) -> list[str]:
    probe = container["readinessProbe"]
    assert "exec" in probe, "the API's readiness probe is expected to be an exec probe"
    return list(probe["exec"]["command"])


def api_container() -> dict[str, Any]:
    found = [c for d, c in waybill_containers() if c.get("command", [])[:2] == ["waybill", "serve"]]
    assert len(found) == 1
    return found[0]


# --- files ----------------------------------------------------------------------------------


def test_every_manifest_parses_and_names_its_kind() -> None:
    assert DOCS, "no Kubernetes manifests found"
    for doc in DOCS:
        assert doc.body.get("apiVersion") and doc.body.get("kind"), doc
        if doc.kind != "Kustomization":
            assert doc.body.get("metadata", {}).get("name"), doc
    assert {d.kind for d in DOCS} >= {
        "Deployment", "Service", "ConfigMap", "Secret", "Job", "HorizontalPodAutoscaler",
    }  # fmt: skip


def test_kustomizations_list_every_manifest_but_the_secret_template() -> None:
    listed: set[Path] = set()
    for doc in of_kind("Kustomization"):
        for resource in doc.body["resources"]:
            path = (doc.path.parent / resource).resolve()
            assert path.is_file(), f"{doc}: missing resource {resource}"
            listed.add(path)
        assert doc.body.get("namespace") == "waybill"
        images = {i["name"] for i in doc.body.get("images", [])}
        assert images == {WAYBILL_IMAGE}, doc
    manifests = {d.path.resolve() for d in DOCS if d.kind != "Kustomization"}
    unlisted = {p.name for p in manifests - listed}
    assert unlisted == {"secret.example.yaml"}  # created by hand, never applied with changeme


def test_workload_selectors_match_and_references_resolve() -> None:
    pods = {}
    for doc in of_kind("Deployment", "StatefulSet"):
        labels = doc.body["spec"]["template"]["metadata"]["labels"]
        selector = doc.body["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items(), doc
        pods[doc.name] = labels
    for doc in of_kind("Service", "PodDisruptionBudget"):
        spec = doc.body["spec"]
        selector = spec.get("selector", {})
        selector = selector.get("matchLabels", selector)
        assert any(selector.items() <= labels.items() for labels in pods.values()), doc
    for doc in of_kind("HorizontalPodAutoscaler"):
        target = doc.body["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in pods, doc
    claims = {d.name for d in of_kind("PersistentVolumeClaim")}
    secrets = example_secrets()
    maps = {d.name for d in of_kind("ConfigMap")}
    for doc in of_kind(*WORKLOADS):
        for volume in pod_spec(doc).get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, doc
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, doc
        for container in containers(doc):
            mounts = {m["name"] for m in container.get("volumeMounts", [])}
            assert mounts <= {v["name"] for v in pod_spec(doc).get("volumes", [])}, doc
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in maps, doc


# --- commands -------------------------------------------------------------------------------


def test_every_waybill_container_runs_a_real_cli_command() -> None:
    ran = set()
    for _doc, container in waybill_containers():
        argv = [*container.get("command", []), *container.get("args", [])]
        ran.add(check_cli(argv))
    for name, service in compose_waybill_services().items():
        assert isinstance(service.get("command"), list), f"compose {name}: use the list form"
        ran.add(check_cli(service["command"]))
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd
    ran.add(check_cli(yaml.safe_load(cmd.group(1))))
    assert ran == {"waybill serve", "waybill worker", "waybill sync run", "waybill db upgrade"}


def test_the_cli_check_catches_mistakes() -> None:
    for argv in (
        ["waybill", "serv"],
        ["waybill", "sync"],
        ["waybill", "sync", "forever"],
        ["waybill", "serve", "--port", "eighty"],
        ["waybill", "worker", "--bogus"],
        ["python", "-m", "app"],
    ):
        with pytest.raises(AssertionError):
            check_cli(argv)


def test_workers_consume_every_queue_the_app_uses() -> None:
    commands = [c["command"] for _, c in waybill_containers() if c["command"][1] == "worker"]
    commands += [
        s["command"] for s in compose_waybill_services().values() if s["command"][1] == "worker"
    ]
    assert commands
    for argv in commands:
        queues = argv[2:]
        assert set(queues) == set(QUEUES), argv
        assert queues[0] == "booking", "bookings first: a person is waiting for the label"


# --- probes ---------------------------------------------------------------------------------


def test_probes_call_real_routes_with_the_right_access(app_ctx: AppContext) -> None:
    app = create_app(app_ctx)
    api = api_container()
    port = {p["name"]: p["containerPort"] for p in api["ports"]}
    serve_port = api["command"][api["command"].index("--port") + 1]
    assert port["http"] == int(serve_port)
    for kind in ("startupProbe", "livenessProbe"):
        probe = api[kind]["httpGet"]
        assert probe["port"] in ("http", port["http"])
        assert route_guards(app, probe["path"]) == [], f"{kind} {probe['path']} must be public"
    urls = [a for a in readiness_exec(api) if a.startswith("http://")]
    assert len(urls) == 1
    url = urlsplit(urls[0])
    assert url.hostname == "127.0.0.1" and url.port == port["http"]
    guards = route_guards(app, url.path)
    assert guards, f"readiness path {url.path} is not a guarded route"
    assert all("monitoring" in g for g in guards), "a monitoring key must pass the readiness route"
    for doc in of_kind("Deployment"):
        for container in containers(doc):
            for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                probe = container.get(kind, {})
                if "httpGet" in probe and is_waybill(container["image"]):
                    assert route_guards(app, probe["httpGet"]["path"]) is not None, doc


def test_the_compose_health_check_calls_a_public_route(app_ctx: AppContext) -> None:
    app = create_app(app_ctx)
    test = " ".join(COMPOSE_DATA["services"]["api"]["healthcheck"]["test"])
    paths = re.findall(r"http://127\.0\.0\.1:8000(/[\w/]*)", test)
    assert paths and all(route_guards(app, p) == [] for p in paths)


def _write_key(tmp_path: Path, key: str) -> str:
    path = tmp_path / "api-key"
    path.write_text(key + "\n", encoding="utf-8")
    return str(path)


def _run_probe(argv: list[str], base_url: str, key_file: str) -> subprocess.CompletedProcess[str]:
    assert argv[:2] == ["python", "-c"]
    script, url, _key_file, *rest = argv[2:]
    local = base_url + urlsplit(url).path
    return subprocess.run(
        [sys.executable, "-c", script, local, key_file, *rest],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_readiness_probe_script_against_the_running_app(
    app_ctx: AppContext, tmp_path: Path
) -> None:
    app = create_app(app_ctx)
    argv = readiness_exec(api_container())
    monitoring = _write_key(tmp_path, api_key_for(app_ctx, "monitoring"))
    with serve_asgi(app) as base_url:
        import httpx

        key = Path(monitoring).read_text().strip()
        ready = httpx.get(f"{base_url}/ready", headers={"X-API-Key": key}, timeout=10)
        assert ready.status_code == 503  # Odoo is unreachable in this test...
        result = _run_probe(argv, base_url, monitoring)
        assert result.returncode == 0, result.stderr  # ...and the pod stays in service

        wrong_role = tmp_path / "dispatcher"
        wrong_role.mkdir()
        dispatcher = _write_key(wrong_role, api_key_for(app_ctx, "dispatcher"))
        refused = _run_probe(argv, base_url, dispatcher)
        assert refused.returncode != 0 and "HTTP 403" in refused.stderr

        server = fakeredis.FakeServer()
        server.connected = False
        healthy_redis, app_ctx.redis = app_ctx.redis, fakeredis.FakeRedis(server=server)
        try:
            down = _run_probe(argv, base_url, monitoring)
        finally:
            app_ctx.redis = healthy_redis
        assert down.returncode != 0 and "redis failing" in down.stderr


# --- resources, secrets, scaling --------------------------------------------------------------


def _cpu(value: Any) -> float:
    text = str(value)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _memory(value: Any) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 1e3, "M": 1e6, "G": 1e9}
    text = str(value)
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def test_every_container_has_requests_and_limits() -> None:
    for doc in of_kind(*WORKLOADS):
        for container in containers(doc):
            resources = container.get("resources", {})
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            for name, parse in (("cpu", _cpu), ("memory", _memory)):
                assert name in requests and name in limits, f"{doc} {container['name']}: {name}"
                assert parse(requests[name]) <= parse(limits[name]), doc


def test_pods_run_unprivileged() -> None:
    for doc in of_kind(*WORKLOADS):
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True, doc
        assert spec.get("automountServiceAccountToken") is False, doc
        for container in containers(doc):
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, doc
            assert security["capabilities"]["drop"] == ["ALL"], doc
            assert security.get("readOnlyRootFilesystem") is True, doc


def test_settings_come_from_config_maps_and_credentials_only_from_secrets() -> None:
    secrets = example_secrets()
    for doc in of_kind("ConfigMap"):
        for key in doc.body["data"]:
            assert key in KNOWN_ENV, f"{doc}: {key} is not a Waybill setting"
            assert KNOWN_ENV[key] not in SECRET_SETTINGS, f"{doc}: {key} belongs in a Secret"
    configured = {k for d in of_kind("ConfigMap") for k in d.body["data"]}
    for key in secrets["waybill-secrets"]:
        assert key in KNOWN_ENV and KNOWN_ENV[key] in SECRET_SETTINGS, key
    for doc, container in waybill_containers():
        given = set()
        for entry in container.get("env", []):
            name = entry["name"]
            if not name.startswith("WAYBILL_"):
                continue
            assert name in KNOWN_ENV, f"{doc}: {name} is not a Waybill setting"
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if KNOWN_ENV[name] in SECRET_SETTINGS:
                assert ref is not None, f"{doc}: {name} must come from a Secret"
            if ref is not None:
                assert ref["key"] in secrets.get(ref["name"], set()), f"{doc}: {ref}"
            given.add(KNOWN_ENV[name])
        from_maps = {KNOWN_ENV[k] for k in configured} if container.get("envFrom") else set()
        missing = REQUIRED_IN_PROD - given - from_maps
        assert not missing, f"{doc}: {sorted(missing)} not given; the app refuses to start"


def test_the_secret_template_uses_placeholders_the_app_refuses() -> None:
    for doc in of_kind("Secret"):
        for key, value in doc.body.get("stringData", {}).items():
            assert "changeme" in value or value in ("[]", "{}"), f"{doc}: {key} looks real"
    with pytest.raises(ValueError, match="placeholder credentials"):
        Settings(env="prod", api_key_pepper=SecretStr("changeme"), _env_file=None)  # type: ignore[call-arg]


def test_workers_scale_horizontally_and_the_scheduler_does_not() -> None:
    deployments = {d.name: d for d in of_kind("Deployment")}
    worker = deployments["waybill-worker"]
    assert worker.body["spec"]["replicas"] >= 2
    hpa = {d.body["spec"]["scaleTargetRef"]["name"]: d for d in of_kind("HorizontalPodAutoscaler")}
    spec = hpa["waybill-worker"].body["spec"]
    assert 2 <= spec["minReplicas"] < spec["maxReplicas"]
    assert "waybill-api" in hpa
    scheduler = deployments["waybill-scheduler"].body["spec"]
    assert scheduler["replicas"] == 1 and scheduler["strategy"]["type"] == "Recreate"
    assert "waybill-scheduler" not in hpa
    assert worker.body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60


# --- compose --------------------------------------------------------------------------------


def test_compose_has_every_service_and_consistent_references() -> None:
    services = COMPOSE_DATA["services"]
    assert set(services) >= {"api", "worker", "scheduler", "redis", "postgres", "mlflow"}
    assert services["worker"]["deploy"]["replicas"] >= 2
    declared_secrets = set(COMPOSE_DATA.get("secrets", {}))
    declared_volumes = set(COMPOSE_DATA.get("volumes", {}))
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services and dependency != name, (name, dependency)
        for secret in service.get("secrets", []):
            source = secret["source"] if isinstance(secret, dict) else secret
            assert source in declared_secrets, (name, source)
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in declared_volumes, (name, volume)
    for secret in COMPOSE_DATA["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (DEPLOY / "secrets" / ".gitignore").read_text(encoding="utf-8").split()
    assert "*" in ignored


def test_compose_settings_are_known_and_credentials_are_secret_files() -> None:
    for name, service in compose_waybill_services().items():
        environment = service.get("environment", {})
        for key in environment:
            assert key in KNOWN_ENV, f"compose {name}: {key} is not a Waybill setting"
            # Compose's Redis has no password on its private network; all else is a file.
            plain_ok = SECRET_SETTINGS - {"redis_url"}
            assert KNOWN_ENV[key] not in plain_ok, f"compose {name}: {key} must be a secret"
        files = set()
        for secret in service.get("secrets", []):
            target = secret["target"] if isinstance(secret, dict) else secret
            assert target.upper() in KNOWN_ENV, f"compose {name}: secret {target} is no setting"
            files.add(KNOWN_ENV[target.upper()])
        given = files | {KNOWN_ENV[k] for k in environment}
        missing = REQUIRED_IN_PROD - given
        assert not missing, f"compose {name}: {sorted(missing)} not given"
