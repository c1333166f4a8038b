"""A directory of versioned models, one ``CURRENT-<kind>`` pointer per kind.

::

    <model_dir>/
        meter-20130301T0000-1.safetensors   weights only (safetensors: a JSON header
        meter-20130301T0000-1.json          + raw tensor bytes; no pickle, no code)
        meter-20130302T0000-2.safetensors   everything else, as JSON (core.metadata),
        meter-20130302T0000-2.json          with the sha256 of the weights file
        CURRENT-meter                       "meter-20130302T0000-2\\n"

**Version names** are ``<kind>-<YYYYmmddTHHMM>-<n>``: the UTC instant the
training data ends (the end of the last training day, so a version says how
fresh its data is and a replay of 2013 gets 2013 names), then a sequence
number, one more than the kind's highest so far, which makes names unique and
orders them even when two runs used the same data.

**Writes are atomic**: each file is written to a temporary name in the same
directory, flushed, then ``os.replace``-d. The ``.json`` is written after the
weights, so a version is listed only once complete, and ``CURRENT-<kind>`` is
moved only after the new version has been loaded back successfully. One
writer (the trainer) is assumed; any number of readers (workers).

**Loading refuses** (:class:`~core.exceptions.ModelRefused`) anything that is
not exactly what was published: a missing, truncated or corrupt file, a
sha256 mismatch, a header that does not parse, tensors whose names, shapes or
dtypes differ from the stored model configuration, non-finite weights, or a
format, kind or condition set this code does not support. ``torch.load`` is
never used: loading never executes code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import safetensors
import safetensors.torch
import torch

from core.autoencoder import ConditionalAutoencoder
from core.conditions import N_CONDITIONS
from core.days import MODEL_SLOTS
from core.exceptions import ModelRefused, UnknownModel
from core.holidays import HolidayCalendar, default_calendar
from core.metadata import FORMAT, ModelMetadata, ModelRecord
from core.scoring.autoencoder import AutoencoderScorer
from core.scoring.history_terms import terms_for

__all__ = [
    "ModelRegistry",
    "challenger_wins",
    "parse_version",
    "safetensors_metadata",
    "write_atomic",
]

_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_VERSION = re.compile(r"^([a-z][a-z0-9_]{0,31})-(\d{8}T\d{4})-(\d{1,9})$")
_HEADER_LIMIT = 1 << 20  # a model header is a few kB; refuse absurd lengths before reading


def parse_version(version: str) -> tuple[str, str, int]:
    """``(kind, stamp, sequence)`` of a version name; ``UnknownModel`` if malformed."""
    match = _VERSION.match(version)
    if match is None:
        raise UnknownModel(f"{version!r} is not a model version name (kind-YYYYmmddTHHMM-n)")
    return match.group(1), match.group(2), int(match.group(3))


def challenger_wins(
    challenger: Mapping[str, float],
    champion: Mapping[str, float],
    *,
    metric: str = "holdout_mean_score",
    tolerance: float = 0.0,
) -> bool:
    """Whether the challenger is at least as good (lower ``metric``) as the champion.

    Both must be measured on the *same* held-out windows (the trainer scores
    them with both models); ``tolerance`` allows a relative slack.
    """
    ours, theirs = float(challenger[metric]), float(champion[metric])
    if not math.isfinite(ours):
        return False
    return not math.isfinite(theirs) or ours <= theirs * (1.0 + tolerance)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safetensors_metadata(blob: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors blob, read without trusting its length."""
    if len(blob) < 8:
        raise ValueError("shorter than a safetensors header")
    (length,) = struct.unpack("<Q", blob[:8])
    if length > min(_HEADER_LIMIT, len(blob) - 8):
        raise ValueError(f"header length {length} does not fit the file")
    header = json.loads(blob[8 : 8 + length])
    metadata = header.get("__metadata__", {}) if isinstance(header, dict) else {}
    return {str(k): str(v) for k, v in metadata.items()}


class ModelRegistry:
    """Publish, list, load and roll back model versions under ``root``."""

    def __init__(
        self,
        root: Path | str,
        *,
        device: str | torch.device = "auto",
        calendar: HolidayCalendar | None = None,
    ) -> None:
        self.root = Path(root)
        self.device = device
        self.calendar = calendar if calendar is not None else default_calendar()

    # --- reading -------------------------------------------------------------
    def kinds(self) -> list[str]:
        return sorted({parse_version(p.stem)[0] for p in self._version_files("*")})

    def list_versions(self, kind: str) -> list[str]:
        """Complete versions of ``kind``, oldest (lowest sequence number) first."""
        names = [p.stem for p in self._version_files(_checked_kind(kind))]
        return sorted(names, key=lambda name: parse_version(name)[2])

    def current(self, kind: str) -> str | None:
        """The current version of ``kind``, ``None`` before the first publish."""
        try:
            text = (self.root / f"CURRENT-{_checked_kind(kind)}").read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def describe(self, kind: str, version: str) -> ModelRecord:
        """The version's metadata (validated; weights not read)."""
        self._checked_pair(kind, version)
        path = self.root / f"{version}.json"
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError as exc:
            raise UnknownModel(f"no model version {version!r} in {self.root}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelRefused(version, f"cannot read {path.name}: {exc}") from exc
        try:
            record = ModelRecord.from_json(text, self.calendar)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelRefused(
                version, f"{path.name} is not a valid model document: {exc}"
            ) from exc
        if record.version != version or record.metadata.kind != kind:
            raise ModelRefused(version, f"{path.name} describes {record.version!r}")
        return record

    def load(self, kind: str, version: str) -> AutoencoderScorer:
        """A scorer for ``version``, or :class:`ModelRefused` (see the module doc)."""
        record = self.describe(kind, version)
        config = record.config
        if config.n_slots != MODEL_SLOTS or config.n_conditions != N_CONDITIONS:
            raise ModelRefused(
                version,
                f"built for {config.n_slots} slots and "
                f"{config.n_conditions} conditions, not {MODEL_SLOTS} and "
                f"{N_CONDITIONS}",
            )
        blob = self._read_weights(record)
        try:
            header = safetensors_metadata(blob)
            tensors = safetensors.torch.load(blob)
        except (ValueError, safetensors.SafetensorError) as exc:
            raise ModelRefused(version, f"weights file does not parse: {exc}") from exc
        if header.get("format") != FORMAT or header.get("version") != version:
            raise ModelRefused(version, "weights file header names another model")
        model = ConditionalAutoencoder(config)
        expected = model.state_dict()
        if set(tensors) != set(expected):
            raise ModelRefused(version, f"tensors {sorted(tensors)} != {sorted(expected)}")
        for name, tensor in tensors.items():
            want = expected[name]
            if tensor.shape != want.shape or tensor.dtype != want.dtype:
                raise ModelRefused(
                    version,
                    f"{name}: {tensor.dtype}{list(tensor.shape)} where the config needs "
                    f"{want.dtype}{list(want.shape)}",
                )
            if not torch.isfinite(tensor).all():
                raise ModelRefused(version, f"{name} holds non-finite values")
        model.load_state_dict(tensors, strict=True)
        meta = record.metadata
        return AutoencoderScorer(
            model,
            kind=kind,
            version=version,
            threshold=meta.threshold.value,
            encoder=meta.encoder,
            normalizer=meta.normalizer,
            device=self.device,
            terms=meta.terms or terms_for(kind),
            envelopes=meta.envelopes,
            level_model=meta.level_model,
        )

    def load_current(self, kind: str) -> AutoencoderScorer | None:
        """The stream worker's call: the current model of ``kind``, or ``None`` if none yet."""
        version = self.current(kind)
        return None if version is None else self.load(kind, version)

    # --- writing -------------------------------------------------------------
    def publish(
        self,
        kind: str,
        model: ConditionalAutoencoder,
        metadata: ModelMetadata,
        *,
        make_current: bool = True,
    ) -> str:
        """Store ``model`` as a new version; make it current (after loading it back)."""
        if metadata.kind != _checked_kind(kind):
            raise ValueError(f"metadata is for kind {metadata.kind!r}, not {kind!r}")
        self.root.mkdir(parents=True, exist_ok=True)
        existing = [parse_version(v)[2] for v in self.list_versions(kind)]
        stamp = metadata.data_end.astimezone(UTC).strftime("%Y%m%dT%H%M")
        version = f"{kind}-{stamp}-{max(existing, default=0) + 1}"
        state = {
            k: v.detach().to("cpu", torch.float32).contiguous()
            for k, v in model.state_dict().items()
        }
        header = {
            "format": FORMAT,
            "version": version,
            "kind": kind,
            "model_config": json.dumps(model.config.to_dict(), sort_keys=True),
        }
        blob = safetensors.torch.save(state, metadata=header)
        record = ModelRecord(
            version=version,
            created=datetime.now(UTC),
            config=model.config,
            sha256=hashlib.sha256(blob).hexdigest(),
            size=len(blob),
            metadata=metadata,
        )
        write_atomic(self.root / record.weights_file, blob)
        write_atomic(self.root / f"{version}.json", record.to_json().encode("utf-8"))
        if make_current:
            self.rollback(kind, version)
        return version

    def rollback(self, kind: str, version: str) -> None:
        """Make ``version`` current; refused unless it loads cleanly."""
        self.load(kind, version)
        write_atomic(self.root / f"CURRENT-{kind}", f"{version}\n".encode())

    # --- helpers ---------------------------------------------------------------
    def _version_files(self, kind: str) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.glob(f"{kind}-*.json") if _VERSION.match(p.stem)]

    def _checked_pair(self, kind: str, version: str) -> None:
        if parse_version(version)[0] != _checked_kind(kind):
            raise UnknownModel(f"{version!r} is not a {kind!r} model")

    def _read_weights(self, record: ModelRecord) -> bytes:
        path = self.root / record.weights_file
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise ModelRefused(record.version, f"cannot read {path.name}: {exc}") from exc
        if len(blob) != record.size:
            raise ModelRefused(
                record.version, f"{path.name} has {len(blob)} bytes, {record.size} were published"
            )
        digest = hashlib.sha256(blob).hexdigest()
        if digest != record.sha256:
            raise ModelRefused(record.version, f"{path.name} sha256 {digest} != {record.sha256}")
        return blob


def _checked_kind(kind: str) -> str:
    if not _KIND.match(kind):
        raise UnknownModel(f"{kind!r} is not a model kind (lowercase letters, digits, _)")
    return kind
