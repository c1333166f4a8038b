"""Throwaway TLS material, made by ``openssl`` at test time (no key is ever committed).

A CA, and a server certificate it signs for ``localhost`` and ``127.0.0.1``;
RSA 2048, valid for a day, all in a temporary directory.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Certificates", "make_certificates"]


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not on PATH: no throwaway certificates")
    directory.mkdir(parents=True, exist_ok=True)
    days = ("-days", "1")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", *days, "-subj", "/CN=anomstream test CA", cwd=directory)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=localhost", cwd=directory)  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", *days, "-extfile", "san.ext",
             cwd=directory)  # fmt: skip
    for name in ("ca.key", "server.key"):
        (directory / name).chmod(0o600)
    return Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
