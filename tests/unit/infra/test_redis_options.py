"""infra.redis: client options from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.settings import make_settings
from pydantic import SecretStr
from redis.asyncio.retry import Retry

from infra import InfraConfigError, redis_client, redis_client_options


def test_defaults_are_bytes_bounded_timeouts_and_retries() -> None:
    options = redis_client_options(make_settings())
    assert options["decode_responses"] is False
    assert options["socket_timeout"] == 5.0
    assert options["socket_connect_timeout"] == 5.0
    assert options["health_check_interval"] == 30
    assert isinstance(options["retry"], Retry)
    assert options["retry"].get_retries() == 8
    assert "password" not in options
    assert not any(key.startswith("ssl") for key in options)


def test_acl_user_and_password_come_from_the_settings() -> None:
    settings = make_settings(redis_username="worker", redis_password=SecretStr("a-real-secret"))
    options = redis_client_options(settings)
    assert options["username"] == "worker"
    assert options["password"] == "a-real-secret"


def test_tls_files_need_a_rediss_url(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    plain = make_settings(redis_url=SecretStr("redis://cache:6379/0"), redis_ssl_ca_certs=ca)
    with pytest.raises(InfraConfigError, match=r"rediss://"):
        redis_client_options(plain)

    tls = make_settings(
        redis_url=SecretStr("rediss://cache:6380/0"),
        redis_ssl_ca_certs=ca,
        redis_ssl_certfile=tmp_path / "client.pem",
        redis_ssl_keyfile=tmp_path / "client.key",
    )
    options = redis_client_options(tls)
    assert options["ssl_ca_certs"] == str(ca)
    assert options["ssl_certfile"] == str(tmp_path / "client.pem")
    assert options["ssl_keyfile"] == str(tmp_path / "client.key")


async def test_client_targets_the_url_and_explicit_credentials_win() -> None:
    settings = make_settings(
        redis_url=SecretStr("redis://old-user:old-secret@cache.internal:6390/3"),
        redis_username="worker",
        redis_password=SecretStr("new-secret"),
    )
    client = redis_client(settings)
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.internal", 6390, 3)
        assert (kwargs["username"], kwargs["password"]) == ("worker", "new-secret")
        assert kwargs["decode_responses"] is False
    finally:
        await client.aclose()


async def test_url_credentials_are_used_when_no_explicit_ones() -> None:
    settings = make_settings(redis_url=SecretStr("redis://user:from-url@cache:6379/0"))
    client = redis_client(settings)
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["username"], kwargs["password"]) == ("user", "from-url")
    finally:
        await client.aclose()
