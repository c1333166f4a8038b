"""Settings: read from ANOMSTREAM_* once, flags override, secrets never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from anomstream.logs import configure_logging, secret_values
from schemas.settings import KafkaSecurityProtocol, Settings, load_settings, mask_url_password


def test_contract_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("ANOMSTREAM_"):
            monkeypatch.delenv(name)
    s = load_settings()
    assert s.kafka_bootstrap == "localhost:9092"
    assert s.redis_url.get_secret_value() == "redis://localhost:6379/0"
    assert s.timezone == "UTC"
    assert (s.topic_readings, s.topic_sales, s.topic_anomalies, s.topic_scores) == (
        "meter-readings",
        "ticket-sales",
        "anomalies",
        "window-scores",
    )
    assert s.topic_dead_letters == "dead-letters"
    assert s.window_grace_seconds == 7200
    assert s.device == "auto"


def test_environment_is_read_and_flags_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANOMSTREAM_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("ANOMSTREAM_TIMEZONE", "Europe/London")
    monkeypatch.setenv("ANOMSTREAM_WINDOW_GRACE_SECONDS", "60")
    monkeypatch.setenv("ANOMSTREAM_TOPIC_ANOMALIES", "alerts-prod")
    s = load_settings(timezone="America/New_York", redis_url=None)  # None: flag not given
    assert s.kafka_bootstrap == "k1:9092,k2:9092"
    assert s.timezone == "America/New_York"
    assert s.window_grace_seconds == 60
    assert s.topic_anomalies == "alerts-prod"


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.timezone = "UTC"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"redis_url": "http://x"}, "redis_url"),
        ({"window_grace_seconds": -1}, "window_grace_seconds"),
        ({"device": "tpu"}, "device"),
        ({"key_prefix": "has space"}, "key_prefix"),
    ],
)
def test_invalid_values_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(**values)  # type: ignore[arg-type]


def test_sasl_needs_credentials_and_refuses_placeholders() -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_username"):
        Settings(kafka_security_protocol=KafkaSecurityProtocol.SASL_SSL)
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(
            kafka_security_protocol=KafkaSecurityProtocol.SASL_SSL,
            kafka_sasl_username="anomstream",
            kafka_sasl_password="changeme",  # type: ignore[arg-type]
        )


def test_secrets_are_masked_everywhere_they_could_be_shown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("ANOMSTREAM_KAFKA_SASL_PASSWORD", "kafka-s3cret-value")
    monkeypatch.setenv("ANOMSTREAM_REDIS_URL", "redis://svc:redis-s3cret-value@redis:6379/0")
    monkeypatch.setenv("ANOMSTREAM_REDIS_PASSWORD", "acl-s3cret-value")
    monkeypatch.setenv("ANOMSTREAM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ANOMSTREAM_KAFKA_SASL_USERNAME", "anomstream")
    s = load_settings()
    shown = [repr(s), str(s), str(s.safe_dump()), s.model_dump_json()]
    for text in shown:
        for secret in ("kafka-s3cret-value", "redis-s3cret-value", "acl-s3cret-value"):
            assert secret not in text
    assert s.safe_dump()["redis_url"] == "redis://svc:***@redis:6379/0"
    assert set(secret_values(s)) >= {"kafka-s3cret-value", "redis-s3cret-value", "acl-s3cret-value"}

    # the log renderer scrubs them even when a library logs them verbatim
    configure_logging(s.model_copy(update={"log_format": "json"}))
    logging.getLogger("some.library").warning("connecting with %s", "kafka-s3cret-value")
    err = capsys.readouterr().err
    assert "kafka-s3cret-value" not in err
    assert "**********" in err
    logging.getLogger().handlers.clear()


def test_mask_url_password_leaves_urls_without_one() -> None:
    assert mask_url_password("redis://localhost:6379/0") == "redis://localhost:6379/0"
    assert mask_url_password("rediss://u:p@h:1/2") == "rediss://u:***@h:1/2"
