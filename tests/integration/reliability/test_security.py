"""Security end to end, where the local servers allow it.

Redis: the shipped ``deploy/redis/start.sh`` ACL and TLS alone. A worker
logging in as ``anomstream`` (limited to the key prefix and the commands the
worker sends) over ``rediss://`` with a CA file does its whole job — scores,
alerts, dead letters — and Redis refuses it nothing (``ACL LOG`` stays empty),
while the same user can touch nothing outside the prefix.

Kafka: the embedded broker (tansu 0.6.0) cannot serve SASL or TLS (see
``anomstream.embedded.kafka`` and docs/RELIABILITY.md), so the Kafka secrets
are configured but unused here; they, the Redis passwords and the admin's must
still never appear in the worker's logs (at DEBUG), metrics or pages.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import redis
from harness.fleet import Fleet
from harness.kafka_io import produce
from harness.secure_redis import SecureRedis
from harness.tls import make_certificates
from harness.verify import assert_delivered, read_outputs
from harness.workload import MeterWorkload
from pydantic import SecretStr

from schemas.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def test_a_worker_needs_no_more_than_the_prefix_user_over_tls(
    fault_settings: Settings, tmp_path: Path
) -> None:
    certs = make_certificates(tmp_path / "tls")
    prefix = fault_settings.key_prefix
    password, admin, kafka = (f"{name}-{secrets.token_hex(12)}" for name in ("r", "a", "k"))
    with SecureRedis(
        tmp_path / "redis", certs, prefix=prefix, password=password, admin=admin
    ) as server:
        settings = fault_settings.model_copy(
            update={
                "redis_url": SecretStr(server.url),
                "redis_username": "anomstream",
                "redis_password": SecretStr(password),
                "redis_ssl_ca_certs": certs.ca,
                # unused on a PLAINTEXT broker, but held by the worker like any secret
                "kafka_sasl_username": "anomstream",
                "kafka_sasl_password": SecretStr(kafka),
            }
        )
        fleet = Fleet(settings, tmp_path / "workers", log_level="DEBUG")
        try:
            worker = fleet.start("w")
            worker.wait_until_serving(assigned=False)
            workload = MeterWorkload(households=20, n_days=9, seed=11)
            await produce(settings.kafka_bootstrap, settings.topic_readings, workload.messages)
            out = await read_outputs(settings, workload)
            assert_delivered(out, workload, context=worker.tail())
            assert out.alerts

            assert server.admin().acl_log() == []  # the worker was refused nothing
            limited = server.client("anomstream", password)
            assert limited.ping()
            with pytest.raises(redis.exceptions.NoPermissionError):
                limited.set("elsewhere:key", b"1")  # outside the prefix
            with pytest.raises(redis.exceptions.NoPermissionError):
                limited.keys("*")  # a command the worker does not send
            with pytest.raises(redis.exceptions.ConnectionError):
                redis.Redis(port=server.port, socket_timeout=2).ping()  # no plaintext

            shown = {
                "log": fleet.logs(),
                "metrics": worker.metrics(),
                "health": worker.get("/health").decode(),
                "alerts": worker.get("/alerts.json").decode(),
            }
        finally:
            fleet.stop_all()
    assert "worker runtime started" in shown["log"]
    assert '"redis_password": "**********"' in shown["log"]  # the setting is there, masked
    for where, text in shown.items():
        for secret in (password, admin, kafka):
            assert secret not in text, f"a secret in the worker's {where}"
