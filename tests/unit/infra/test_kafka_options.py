"""infra.kafka: aiokafka options from the settings, security included."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from harness.settings import make_settings
from pydantic import SecretStr

from infra import (
    TopicSetupError,
    ensure_topics,
    kafka_client_options,
    kafka_group_options,
    kafka_ssl_context,
)
from schemas.settings import KafkaSecurityProtocol, SaslMechanism

KEY_PASSWORD = "key-pass-for-tests"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A self-signed certificate and its key, encrypted with KEY_PASSWORD."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert), "-passout", f"pass:{KEY_PASSWORD}"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return {"cert": cert, "key": key}


def test_plaintext_has_only_servers_and_protocol() -> None:
    options = kafka_client_options(make_settings(kafka_bootstrap="k1:9092, k2:9093,"))
    assert options == {
        "bootstrap_servers": ["k1:9092", "k2:9093"],
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_ssl_scram_carries_credentials_and_a_verifying_context() -> None:
    settings = make_settings(
        kafka_security_protocol=KafkaSecurityProtocol.SASL_SSL,
        kafka_sasl_mechanism=SaslMechanism.SCRAM_SHA_256,
        kafka_sasl_username="worker",
        kafka_sasl_password=SecretStr("a-real-secret"),
    )
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert options["sasl_plain_username"] == "worker"
    assert options["sasl_plain_password"] == "a-real-secret"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_sasl_plaintext_has_no_tls_context() -> None:
    settings = make_settings(
        kafka_security_protocol=KafkaSecurityProtocol.SASL_PLAINTEXT,
        kafka_sasl_username="worker",
        kafka_sasl_password=SecretStr("a-real-secret"),
    )
    options = kafka_client_options(settings)
    assert "ssl_context" not in options
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"


def test_tls_files_are_loaded(tls_files: dict[str, Path]) -> None:
    settings = make_settings(
        kafka_security_protocol=KafkaSecurityProtocol.SSL,
        kafka_ssl_cafile=tls_files["cert"],
        kafka_ssl_certfile=tls_files["cert"],
        kafka_ssl_keyfile=tls_files["key"],
        kafka_ssl_key_password=SecretStr(KEY_PASSWORD),
    )
    context = kafka_ssl_context(settings)
    assert context is not None
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "localhost"),),)]


def test_a_wrong_key_password_fails_loudly(tls_files: dict[str, Path]) -> None:
    settings = make_settings(
        kafka_security_protocol=KafkaSecurityProtocol.SSL,
        kafka_ssl_certfile=tls_files["cert"],
        kafka_ssl_keyfile=tls_files["key"],
        kafka_ssl_key_password=SecretStr("not-the-key-password"),
    )
    with pytest.raises(ssl.SSLError):
        kafka_ssl_context(settings)


def test_plaintext_ignores_tls_files(tls_files: dict[str, Path]) -> None:
    settings = make_settings(kafka_ssl_cafile=tls_files["cert"])
    assert kafka_ssl_context(settings) is None


async def test_aiokafka_accepts_the_options() -> None:
    settings = make_settings(
        kafka_security_protocol=KafkaSecurityProtocol.SASL_SSL,
        kafka_sasl_username="worker",
        kafka_sasl_password=SecretStr("a-real-secret"),
    )
    producer = AIOKafkaProducer(**kafka_client_options(settings))
    consumer = AIOKafkaConsumer("topic", **kafka_client_options(settings), group_id="g")
    await producer.stop()
    await consumer.stop()


async def test_ensure_topics_fails_clearly_without_leaking_the_password() -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = make_settings(
        kafka_bootstrap=f"127.0.0.1:{port}",
        kafka_security_protocol=KafkaSecurityProtocol.SASL_PLAINTEXT,
        kafka_sasl_username="worker",
        kafka_sasl_password=SecretStr("do-not-print-me"),
    )
    with pytest.raises(TopicSetupError, match=f"127.0.0.1:{port}") as caught:
        await ensure_topics(settings, {"t": 1}, max_wait_s=5)
    assert "do-not-print-me" not in str(caught.value)


def test_group_options_are_milliseconds() -> None:
    settings = make_settings(
        kafka_session_timeout_seconds=2.5,
        kafka_heartbeat_interval_seconds=0.25,
        kafka_rebalance_timeout_seconds=10,
    )
    assert kafka_group_options(settings) == {
        "session_timeout_ms": 2500,
        "heartbeat_interval_ms": 250,
        "rebalance_timeout_ms": 10000,
    }
