"""Configuration of every anomstream process, read once at the entry point.

Variables use the ``ANOMSTREAM_`` prefix (see ``shared/CONTRACT.md``); CLI flags
override them by passing keyword arguments to :func:`load_settings`. The object
is frozen and passed down; nothing below the entry point reads ``os.environ``.
Secrets are :class:`~pydantic.SecretStr`: masked in ``repr``, logs and
``safe_dump``.
"""

from __future__ import annotations

import zoneinfo
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = [
    "KafkaSecurityProtocol",
    "SaslMechanism",
    "Settings",
    "explicit_settings",
    "load_settings",
]

# Values that mean "someone forgot to set this"; refused rather than used.
_PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "changethis", "password", "secret", "xxx"}
)


class KafkaSecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


def _refuse_placeholder(value: SecretStr | None, name: str) -> None:
    if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
        raise ValueError(f"{name}: a placeholder secret is not accepted; set a real one")


def mask_url_password(url: str) -> str:
    """``redis://user:pw@host/0`` -> ``redis://user:***@host/0`` (for logs and banners)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class Settings(BaseSettings):
    """Everything a worker, the trainer or a CLI command may need."""

    model_config = SettingsConfigDict(
        env_prefix="ANOMSTREAM_",
        frozen=True,
        extra="ignore",
        case_sensitive=False,
    )

    # --- services -----------------------------------------------------------
    kafka_bootstrap: str = "localhost:9092"
    # A SecretStr because a URL may carry a password (redis://user:pw@host).
    redis_url: SecretStr = SecretStr("redis://localhost:6379/0")

    # --- time and windows ---------------------------------------------------
    timezone: str = "UTC"
    window_grace_seconds: int = Field(default=7200, ge=0)
    # After day end + grace + lateness (event time) a day is final: its values
    # are dropped from Redis and later readings for it go to dead-letters.
    window_lateness_seconds: int = Field(default=172800, ge=0)
    # Partitions that brought nothing for this long (wall clock) no longer hold
    # the watermark back; all idle means all sent data arrived.
    watermark_idle_seconds: float = Field(default=30.0, gt=0)
    # A worker that claimed a window for scoring and died: after this long any
    # worker re-claims it (and re-publishes an unacknowledged outbox).
    claim_lease_seconds: float = Field(default=30.0, gt=0)

    # --- topics -------------------------------------------------------------
    topic_readings: str = "meter-readings"
    topic_sales: str = "ticket-sales"
    topic_anomalies: str = "anomalies"
    topic_scores: str = "window-scores"
    topic_dead_letters: str = "dead-letters"
    topic_model_updates: str = "model-updates"
    topic_partitions: int = Field(default=4, ge=1)
    consumer_group: str = "anomstream-worker"
    # Idempotent producing (acks=all always). The embedded broker (tansu) has no
    # InitProducerId; set false there. Apache Kafka: keep true.
    kafka_idempotent_producer: bool = True
    # Group membership timings (Faust/aiokafka). Shorter means faster failover
    # and faster joins; tests use a few seconds.
    kafka_session_timeout_seconds: float = Field(default=30.0, gt=0)
    kafka_heartbeat_interval_seconds: float = Field(default=3.0, gt=0)
    kafka_rebalance_timeout_seconds: float = Field(default=60.0, gt=0)

    # --- model --------------------------------------------------------------
    device: Literal["auto", "cpu", "cuda"] = "auto"
    model_dir: Path = Path("models")
    # Holiday calendar (CSV, ISO date first) for the model's holiday condition;
    # None: the shipped UK bank holidays. Trainer and workers must use the same.
    holidays_path: Path | None = None

    # --- trainer ------------------------------------------------------------
    # How often the trainer reads new window-scores and decides whether to train.
    train_check_seconds: float = Field(default=10.0, gt=0)
    # Retrain on this schedule, when anything arrived since the last training...
    train_interval_seconds: float = Field(default=3600.0, gt=0)
    # ...or sooner, once this many windows arrived (or were revised) since then.
    train_min_new_windows: int = Field(default=1000, ge=1)
    # No training below this many windows of a kind (a fifth of them, at least,
    # must fall on the held-out latest days); the first model comes as soon as
    # a kind reaches it.
    train_min_windows: int = Field(default=250, ge=10)
    # Upper bound on epochs (early stopping usually ends a run sooner).
    train_max_epochs: int = Field(default=300, ge=1)
    # CPU threads for training: the model is too small to gain from more, and
    # the trainer shares the machine with workers. None: torch's default.
    train_cpu_threads: int | None = Field(default=1, ge=1)

    # --- state --------------------------------------------------------------
    # Every Redis key starts with this, so an ACL like ~anomstream:* suffices.
    key_prefix: str = Field(default="anomstream", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    # Entities are spread over this many Redis Cluster hash tags; fixed for a deployment.
    redis_shards: int = Field(default=64, ge=1, le=16384)
    # Micro-batching of the consumer side: at most this many records, or what
    # arrived within batch_wait_seconds. 10 ms: a worker catching up fills
    # batch_max long before, and at a steady 5,000 readings/s it costs 0.07 Redis
    # round trips per reading while taking ~40 ms off p50 (docs/BENCHMARKS.md).
    batch_max: int = Field(default=5000, ge=1)
    batch_wait_seconds: float = Field(default=0.01, gt=0)

    # --- operations ---------------------------------------------------------
    web_host: str = "0.0.0.0"  # noqa: S104 - the worker's metrics/health endpoint is meant to be scraped
    web_port: int = Field(default=6066, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "console"

    # --- Kafka security (SASL/SCRAM over TLS) --------------------------------
    kafka_security_protocol: KafkaSecurityProtocol = KafkaSecurityProtocol.PLAINTEXT
    kafka_sasl_mechanism: SaslMechanism = SaslMechanism.SCRAM_SHA_512
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None

    # --- Redis security (ACL user, TLS) --------------------------------------
    redis_username: str | None = None
    redis_password: SecretStr | None = None
    redis_ssl_ca_certs: Path | None = None
    redis_ssl_certfile: Path | None = None
    redis_ssl_keyfile: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"timezone: {value!r} is not an IANA time zone name") from exc
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        scheme = urlsplit(value.get_secret_value()).scheme
        if scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("redis_url: scheme must be redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _security_is_consistent(self) -> Settings:
        _refuse_placeholder(self.kafka_sasl_password, "kafka_sasl_password")
        _refuse_placeholder(self.kafka_ssl_key_password, "kafka_ssl_key_password")
        _refuse_placeholder(self.redis_password, "redis_password")
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "kafka_sasl_username and kafka_sasl_password are required "
                f"with kafka_security_protocol={self.kafka_security_protocol}"
            )
        return self

    # --- derived views --------------------------------------------------------
    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def kafka_uses_tls(self) -> bool:
        return self.kafka_security_protocol in {
            KafkaSecurityProtocol.SSL,
            KafkaSecurityProtocol.SASL_SSL,
        }

    def safe_dump(self) -> dict[str, Any]:
        """A dict fit for logs and banners: secrets masked, URL passwords hidden."""
        dumped = self.model_dump(mode="json")
        dumped["redis_url"] = mask_url_password(self.redis_url.get_secret_value())
        for name, value in dumped.items():
            if isinstance(getattr(self, name), SecretStr) and name != "redis_url":
                dumped[name] = "**********" if value else None
        return dumped


def load_settings(**overrides: Any) -> Settings:
    """Read the environment once; ``overrides`` (CLI flags) win over it.

    ``None`` overrides are dropped so an unset flag never hides a variable.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)


class _ExplicitSettings(Settings):
    """:class:`Settings` that reads no environment variables and no ``.env`` file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def explicit_settings(**values: Any) -> Settings:
    """Settings from ``values`` alone, with the same validation: for tests and
    benchmarks, which must not see the ``ANOMSTREAM_*`` of a developer's shell."""
    return _ExplicitSettings(**values)
