"""The operator's deployment (docker-compose.yml, compose.override.yml, deploy/)
agrees with the code, without any service running.

- every anomstream service runs an existing ``anomstream`` sub-command, from
  the image built by ``deploy/Dockerfile``;
- every ``ANOMSTREAM_*`` variable it sets is a field of ``Settings``;
- every service has a healthcheck, none runs as root, third-party images are pinned;
- the worker scales (no fixed name, no fixed host port) and Prometheus scrapes
  its metrics port; alert rules and the dashboard use metrics the worker exports;
- ``docker-compose config`` accepts the files (skipped without the binary).

The structural checks parse YAML with PyYAML and skip, saying so, where it is
not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from anomstream.cli import app
from schemas.settings import Settings
from stream.metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
OVERRIDE = ROOT / "compose.override.yml"
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "anomstream.json"
ENV_EXAMPLE = DEPLOY / "env.example"

# Values for the variables docker-compose.yml requires (${VAR:?}); test-only.
REQUIRED_ENV = {"REDIS_PASSWORD": "test-only-redis", "GRAFANA_ADMIN_PASSWORD": "test-only-grafana"}
ROOT_USERS = {"root", "0", "0:0", "root:root"}
SETTINGS_VARS = {f"ANOMSTREAM_{name.upper()}" for name in Settings.model_fields}


def _command_names() -> set[str]:
    names = {
        info.name or info.callback.__name__.lower().replace("_", "-")
        for info in app.registered_commands
        if info.callback is not None
    }
    return names | {group.name for group in app.registered_groups if group.name}


COMMANDS = _command_names()


@cache
def _load(path: Path) -> dict[str, Any]:
    yaml = pytest.importorskip(
        "yaml", reason="PyYAML is not installed: the compose structure checks need it"
    )
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path.name} is not a YAML mapping"
    return loaded


def _services(path: Path = COMPOSE) -> dict[str, dict[str, Any]]:
    services = _load(path)["services"]
    assert isinstance(services, dict)
    return services


def _built_here(service: dict[str, Any]) -> bool:
    return "build" in service


def _ours() -> dict[str, dict[str, Any]]:
    """The services that run the anomstream image."""
    return {name: s for name, s in _services().items() if _built_here(s)}


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def _dockerfile_final_stage() -> list[str]:
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert starts, "deploy/Dockerfile has no FROM"
    return lines[starts[-1] :]


def _instruction(stage: list[str], name: str) -> str | None:
    found = [line.split(None, 1)[1] for line in stage if line.upper().startswith(f"{name} ")]
    return found[-1].strip() if found else None


def _exported_metric_names() -> set[str]:
    names: set[str] = set()
    for family in WorkerMetrics().registry.collect():
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        else:
            names.add(family.name)
    return names


# --- commands, image, settings ------------------------------------------------------


def _argv(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    return command.split() if isinstance(command, str) else [str(a) for a in command or []]


def test_services_run_the_anomstream_entrypoint() -> None:
    assert _instruction(_dockerfile_final_stage(), "ENTRYPOINT") == '["anomstream"]'
    for name, service in _ours().items():
        assert "entrypoint" not in service, f"{name} replaces the anomstream entrypoint"


def test_commands_are_anomstream_subcommands() -> None:
    ours = _ours()
    assert {"worker", "trainer", "trainer-gpu", "sample-producer"} <= set(ours)
    wrong = {
        name: (_argv(service) or ["<none>"])[0]
        for name, service in ours.items()
        if not _argv(service) or _argv(service)[0] not in COMMANDS
    }
    assert not wrong, (
        f"services running no anomstream sub-command: {wrong}; "
        f"anomstream.cli has {', '.join(sorted(COMMANDS))}"
    )


def test_worker_trainer_and_producer_commands() -> None:
    ours = _ours()
    assert _argv(ours["worker"]) == ["worker"]
    assert _argv(ours["trainer"]) == ["trainer"]
    assert _argv(ours["sample-producer"])[:2] == ["replay", "/data/readings_2013.csv.gz"]


def test_images_build_from_deploy_and_third_party_images_are_pinned() -> None:
    for name, service in _services().items():
        if _built_here(service):
            build = service["build"]
            assert build["context"] == ".", name
            assert build["dockerfile"].startswith("deploy/"), name
            assert (ROOT / build["dockerfile"]).is_file(), name
        else:
            image = service.get("image", "")
            assert ":" in image, f"{name}: pin a tag, not the implicit latest"
            assert not image.endswith(":latest"), f"{name}: pin a tag, not latest"


@pytest.mark.parametrize("path", [COMPOSE, OVERRIDE], ids=lambda p: p.name)
def test_anomstream_variables_are_settings(path: Path) -> None:
    for name, service in _services(path).items():
        for key in _environment(service):
            if key.startswith("ANOMSTREAM_"):
                assert key in SETTINGS_VARS, f"{path.name}: {name} sets {key}, not a Setting"


@pytest.mark.parametrize("path", [COMPOSE, OVERRIDE, ENV_EXAMPLE], ids=lambda p: p.name)
def test_interpolated_anomstream_variables_are_settings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{(ANOMSTREAM_[A-Z0-9_]+)", text))
    used |= set(re.findall(r"^#?(ANOMSTREAM_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert used <= SETTINGS_VARS, f"{path.name}: not Settings fields: {used - SETTINGS_VARS}"


def test_required_secrets_fail_fast() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for variable in REQUIRED_ENV:
        assert re.search(rf"\$\{{{variable}:\?[^}}]+\}}", text), f"${{{variable}:?message}}"
    # and no secret has a default value
    assert not re.search(r"\$\{[A-Z_]*PASSWORD:-[^}]", text)


# --- health, users, scaling -----------------------------------------------------------


def _one_shot_jobs() -> set[str]:
    jobs = set()
    for service in _services().values():
        for name, condition in (service.get("depends_on") or {}).items():
            if (
                isinstance(condition, dict)
                and condition.get("condition") == "service_completed_successfully"
            ):
                jobs.add(name)
    return jobs


def test_every_service_has_a_healthcheck() -> None:
    jobs = _one_shot_jobs()
    assert jobs == {"kafka-init"}
    for name, service in _services().items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if check.get("disable"):
            assert name in jobs, f"{name} disables its healthcheck but is not a one-shot job"
            assert service.get("restart") == "no", f"{name}: a one-shot job must not restart"
        else:
            assert check.get("test"), f"{name}: healthcheck without a test"


def test_dependencies_wait_for_health() -> None:
    for name, service in _services().items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: use depends_on with conditions"
        for other, condition in depends.items():
            wanted = (
                "service_completed_successfully" if other in _one_shot_jobs() else "service_healthy"
            )
            assert condition == {"condition": wanted}, f"{name} -> {other}"
    worker = _services()["worker"]["depends_on"]
    assert set(worker) == {"kafka", "kafka-init", "redis"}


def test_no_service_runs_as_root() -> None:
    user = _instruction(_dockerfile_final_stage(), "USER")
    assert user is not None, "deploy/Dockerfile's runtime stage sets no USER"
    assert user not in ROOT_USERS and not user.startswith("0:"), user
    for name, service in _services().items():
        given = service.get("user")
        if given is not None:
            assert str(given) not in ROOT_USERS and not str(given).startswith("0:"), name
        else:
            assert _built_here(service), f"{name}: third-party image without `user:`"


def test_worker_scales() -> None:
    worker = _services()["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker, "no host port in the base file: --scale worker=N"
    for port in _services(OVERRIDE).get("worker", {}).get("ports", []):
        assert ":" not in str(port), f"dev override fixes a host port ({port}): --scale breaks"
    assert "deploy" not in worker or "replicas" not in worker["deploy"]


def test_gpu_trainer_is_opt_in_and_exclusive() -> None:
    services = _services()
    cpu, gpu = services["trainer"], services["trainer-gpu"]
    assert "profiles" not in cpu
    assert gpu["profiles"] == ["gpu"]
    assert gpu["command"] == cpu["command"]
    assert gpu["image"] != cpu["image"], "the CUDA build must not overwrite the CPU image"
    assert "TORCH_INDEX_URL" in gpu["build"]["args"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    # the CPU trainer can be switched off, so one trainer writes the model directory
    assert cpu["deploy"]["replicas"] == "${TRAINER_CPU_REPLICAS:-1}"


def test_model_directory_is_shared_and_read_only_for_workers() -> None:
    services = _services()
    for name in ("worker", "trainer", "trainer-gpu"):
        assert _environment(services[name])["ANOMSTREAM_MODEL_DIR"] == "/models", name
    assert "models:/models:ro" in services["worker"]["volumes"]
    assert "models:/models" in services["trainer"]["volumes"]
    assert "models:/models" in services["trainer-gpu"]["volumes"]


def test_topics_are_created_with_retention_before_workers_start() -> None:
    script = (DEPLOY / "kafka" / "create-topics.sh").read_text(encoding="utf-8")
    scores = (
        r'ensure "\$\{ANOMSTREAM_TOPIC_SCORES:-window-scores\}" "\$partitions" '
        r'"retention\.ms=-1"'
    )
    assert re.search(scores, script), "window-scores must be kept forever (the trainer's data)"
    init = _services()["kafka-init"]
    assert init["volumes"] == ["./deploy/kafka/create-topics.sh:/create-topics.sh:ro"]
    assert "ANOMSTREAM_TOPIC_PARTITIONS" in _environment(init)


def test_redis_keeps_an_append_only_file() -> None:
    config = (DEPLOY / "redis" / "redis.conf").read_text(encoding="utf-8")
    assert re.search(r"^appendonly yes$", config, flags=re.MULTILINE)
    assert re.search(r"^maxmemory-policy noeviction$", config, flags=re.MULTILINE)


# --- monitoring -----------------------------------------------------------------------


def test_prometheus_scrapes_every_worker_on_its_metrics_port() -> None:
    port = int(_environment(_services()["worker"])["ANOMSTREAM_WEB_PORT"])
    assert _instruction(_dockerfile_final_stage(), "EXPOSE") == str(port)
    jobs = {job["job_name"]: job for job in _load(PROMETHEUS)["scrape_configs"]}
    worker_job = jobs["anomstream-worker"]
    assert worker_job.get("metrics_path", "/metrics") == "/metrics"
    (discovery,) = worker_job["dns_sd_configs"]
    assert discovery["names"] == ["worker"]
    assert discovery["type"] == "A"
    assert discovery["port"] == port
    assert _load(PROMETHEUS)["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_alert_rules_use_exported_metrics_and_carry_a_severity() -> None:
    exported = _exported_metric_names()
    rules = [rule for group in _load(ALERTS)["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in rules}
    wanted = {
        "AnomstreamConsumerLagGrowing",
        "AnomstreamDeadLettersHigh",
        "AnomstreamNoWindowsScored",
        "AnomstreamModelRefused",
        "AnomstreamWorkerDown",
        "AnomstreamNoWorkers",
    }
    assert wanted <= names
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        used = set(re.findall(r"\banomstream_[a-z_]+", rule["expr"]))
        assert used <= exported, f"{rule['alert']}: unknown metrics {used - exported}"


def test_dashboard_uses_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"\banomstream_[a-z_]+", expr)}
    exported = _exported_metric_names()
    assert used <= exported, f"unknown metrics: {used - exported}"
    for needed in (
        "anomstream_events_in_total",
        "anomstream_consumer_lag",
        "anomstream_open_windows",
        "anomstream_windows_closed_total",
        "anomstream_scoring_seconds_bucket",
        "anomstream_alerts_total",
        "anomstream_dead_letters_total",
        "anomstream_model_info",
    ):
        assert needed in used, f"the dashboard has no panel on {needed}"


# --- docker-compose config ----------------------------------------------------------


def _compose_binary() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        found = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if found.returncode == 0:
            return ["docker", "compose"]
    return None


def _compose(
    files: list[Path], env: dict[str, str], env_file: Path
) -> subprocess.CompletedProcess[str]:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    for name in REQUIRED_ENV:
        clean.pop(name, None)
    args = [*binary, "--env-file", str(env_file), "--project-directory", str(ROOT)]
    for path in files:
        args += ["-f", str(path)]
    return subprocess.run(
        [*args, "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**clean, **env},
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "files", [[COMPOSE], [COMPOSE, OVERRIDE]], ids=["production", "with-dev-override"]
)
def test_docker_compose_config_accepts_the_files(files: list[Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    done = _compose(files, REQUIRED_ENV, empty)
    assert done.returncode == 0, done.stderr


def test_docker_compose_refuses_a_missing_password(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    done = _compose([COMPOSE], {"GRAFANA_ADMIN_PASSWORD": "test-only-grafana"}, empty)
    assert done.returncode != 0
    assert "REDIS_PASSWORD" in done.stderr
