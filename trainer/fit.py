"""Training the conditional autoencoder: one function, read top to bottom (nanoGPT-style).

:func:`fit` takes a training and a validation :class:`TrainingSet` (built from
day windows by :func:`build_training_set`, with the same preparation the
scorer uses) and returns the model with the best validation loss:

* fixed seeds; the whole data set is moved to the device once, as tensors,
  and each epoch draws a random permutation there (no per-sample Python, no
  DataLoader);
* loss: the score itself, the mean squared error over present slots
  (missing slots are masked out), averaged over windows;
* Adam, gradient clipping, ReduceLROnPlateau on the validation loss, early
  stopping with patience, best weights kept;
* automatic mixed precision on CUDA: bf16 where supported (no scaler
  needed: bf16 has fp32's range), else fp16 with a GradScaler. CPU trains in
  fp32 unless ``precision="bf16"`` asks for bf16 autocast;
* a checkpoint after every epoch (:mod:`trainer.checkpoint`, safetensors,
  no pickle); calling :func:`fit` again with the same data, config and
  checkpoint resumes a killed run where it stopped.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from core.autoencoder import AutoencoderConfig, ConditionalAutoencoder, resolve_device, slot_errors
from trainer.checkpoint import TrainingParts, restore_training, save_training
from trainer.memory import choose_batch_size
from trainer.progress import EpochStats, Progress
from trainer.training_set import TrainingSet, build_training_set

__all__ = ["EpochStats", "FitConfig", "FitResult", "TrainingSet", "build_training_set", "fit"]

log = logging.getLogger(__name__)
Precision = Literal["auto", "fp32", "fp16", "bf16"]
_NOT_RUN_DEFINING = frozenset({"max_epochs", "patience", "min_improvement", "cpu_threads"})


@dataclass(frozen=True, slots=True)
class FitConfig:
    model: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    max_epochs: int = 300
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    batch_size: int | None = None  # None: chosen from free memory (trainer.memory)
    max_batch_size: int = 1024  # an optimisation cap, not a memory one
    min_steps_per_epoch: int = 16
    patience: int = 20  # early stopping: epochs without a better validation loss
    min_improvement: float = 1e-4  # relative: what counts as "better"
    lr_patience: int = 5
    lr_factor: float = 0.5
    min_lr: float = 1e-5
    grad_clip: float = 1.0
    precision: Precision = "auto"  # auto: bf16/fp16 AMP on CUDA, fp32 on CPU
    seed: int = 1337
    # CPU intra-op threads while training (restored after). The model is too small
    # to split a matmul across cores: more threads gained <10% on idle cores and,
    # with other processes on them, made steps 5x slower. None: torch's setting.
    cpu_threads: int | None = 1


@dataclass(frozen=True, slots=True)
class FitResult:
    model: ConditionalAutoencoder  # best weights, on the CPU, in eval mode
    initial_valid_loss: float  # the untrained model's
    best_valid_loss: float
    best_epoch: int
    history: tuple[EpochStats, ...]
    device: str
    precision: str
    batch_size: int
    train_windows_per_second: float  # this call's epochs only
    resumed_from_epoch: int | None

    def summary(self) -> dict[str, float | int | str | None]:
        """What a model version records about its training."""
        return {
            "epochs": len(self.history),
            "best_epoch": self.best_epoch,
            "initial_valid_loss": self.initial_valid_loss,
            "best_valid_loss": self.best_valid_loss,
            "device": self.device,
            "precision": self.precision,
            "batch_size": self.batch_size,
            "train_windows_per_second": round(self.train_windows_per_second, 1),
        }


def _amp_dtype(precision: Precision, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or ``None`` for plain fp32."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("fp16 autocast needs CUDA; use bf16 or fp32 on the CPU")
    return {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]


def _valid_loss(
    model: ConditionalAutoencoder, data: tuple[torch.Tensor, ...], chunk: int = 65536
) -> float:
    """Mean score over windows, in fp32 (what the scorer computes), no autocast."""
    values, present, conditions = data
    model.eval()
    total = torch.zeros((), device=values.device)
    with torch.inference_mode():
        for i in range(0, values.shape[0], chunk):
            rows = slice(i, i + chunk)
            reconstruction = model(values[rows], conditions[rows])
            total += slot_errors(reconstruction, values[rows], present[rows]).sum()
    return float(total) / max(values.shape[0], 1)


def _train_epoch(
    parts: TrainingParts,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    order: torch.Tensor,
    *,
    batch_size: int,
    autocast: contextlib.AbstractContextManager[Any],
    grad_clip: float,
) -> float:
    """One pass over ``data`` in the order given; returns the mean training loss."""
    model, optimizer, scaler = parts.model, parts.optimizer, parts.scaler
    x, m, c = data
    model.train()
    total = torch.zeros((), device=x.device)  # summed on the device: no sync per step
    for i in range(0, order.shape[0], batch_size):
        idx = order[i : i + batch_size]
        values, present = x[idx], m[idx]
        with autocast:
            reconstruction = model(values, c[idx])
        loss = slot_errors(reconstruction, values, present).sum(dim=1).mean()
        scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
        scaler.unscale_(optimizer)  # clip the true gradients, not the scaled ones
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        total += loss.detach() * idx.shape[0]
    return float(total) / max(order.shape[0], 1)  # the one sync of the epoch


@contextlib.contextmanager
def _cpu_threads(device: torch.device, threads: int | None) -> Iterator[None]:
    if device.type != "cpu" or threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit(
    train: TrainingSet,
    valid: TrainingSet,
    config: FitConfig | None = None,
    *,
    device: str | torch.device = "auto",
    checkpoint_path: Path | None = None,
    on_epoch: Callable[[EpochStats], None] | None = None,
) -> FitResult:
    """Train a model on ``train``, early-stopped on ``valid``; see the module doc."""
    config = config or FitConfig()
    if len(train) == 0 or len(valid) == 0:
        raise ValueError("fit needs at least one training and one validation window")
    dev = resolve_device(device)
    with _cpu_threads(dev, config.cpu_threads):
        return _fit(
            train, valid, config, dev=dev, checkpoint_path=checkpoint_path, on_epoch=on_epoch
        )


def _fit(
    train: TrainingSet,
    valid: TrainingSet,
    config: FitConfig,
    *,
    dev: torch.device,
    checkpoint_path: Path | None,
    on_epoch: Callable[[EpochStats], None] | None,
) -> FitResult:
    amp_dtype = _amp_dtype(config.precision, dev)
    precision = {None: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[amp_dtype]

    # Seeds first: weights and batch order are a function of config.seed alone.
    torch.manual_seed(config.seed)
    generator = torch.Generator(device=dev)
    generator.manual_seed(config.seed)
    model = ConditionalAutoencoder(config.model).to(dev)
    # fused: one kernel for all parameters; a third faster per step at this size.
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, fused=True
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=config.lr_factor, patience=config.lr_patience, min_lr=config.min_lr
    )
    # Loss scaling for fp16 only (its small gradients underflow); disabled it is a no-op.
    scaler = torch.amp.GradScaler(dev.type, enabled=amp_dtype is torch.float16)
    autocast = torch.autocast(dev.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()
    parts = TrainingParts(model, optimizer, scheduler, scaler, generator)

    # The whole data set goes to the device once; batches are index views of it.
    x, m, c = train.to_device(dev)
    valid_data = valid.to_device(dev)
    n = x.shape[0]
    batch_size = config.batch_size or choose_batch_size(
        n, dev, train.window_bytes, config.max_batch_size, config.min_steps_per_epoch
    )
    # What makes a checkpoint this run's: everything that shapes the weights.
    # Not the stopping rules, so a run may be resumed with more epochs or patience.
    hyper = {k: v for k, v in asdict(config).items() if k not in _NOT_RUN_DEFINING}
    run = {
        **hyper,
        "data": train.fingerprint() + valid.fingerprint(),
        "resolved_precision": precision,
        "batch_size": batch_size,
    }

    initial_loss = _valid_loss(model, valid_data)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    progress = Progress(initial_loss, initial_loss, initial)
    restored = restore_training(checkpoint_path, parts, run) if checkpoint_path else None
    if restored is not None:
        progress = Progress.from_json(restored[1], best=restored[0])
        log.info("resuming training at epoch %d from %s", progress.epoch, checkpoint_path)
    resumed_from = progress.epoch if restored is not None else None

    train_seconds, trained_windows = 0.0, 0
    while progress.epoch < config.max_epochs and progress.since_best < config.patience:
        started = time.perf_counter()
        order = torch.randperm(n, device=dev, generator=generator)
        train_loss = _train_epoch(
            parts,
            (x, m, c),
            order,
            batch_size=batch_size,
            autocast=autocast,
            grad_clip=config.grad_clip,
        )
        train_seconds += time.perf_counter() - started
        trained_windows += n

        valid_loss = _valid_loss(model, valid_data)
        scheduler.step(valid_loss)
        lr = float(optimizer.param_groups[0]["lr"])
        stats = EpochStats(
            progress.epoch + 1, train_loss, valid_loss, lr, time.perf_counter() - started
        )
        progress.record(stats, model, config.min_improvement)
        if checkpoint_path is not None:
            save_training(checkpoint_path, parts, progress.best, progress.to_json(run))
        if on_epoch is not None:
            on_epoch(stats)

    model.load_state_dict(progress.best)
    log.info(
        "trained %d epochs on %s (%s): valid loss %.4f -> %.4f (epoch %d)",
        progress.epoch,
        dev,
        precision,
        progress.initial_loss,
        progress.best_loss,
        progress.best_epoch,
    )
    return FitResult(
        model=model.cpu().eval(),
        initial_valid_loss=progress.initial_loss,
        best_valid_loss=progress.best_loss,
        best_epoch=progress.best_epoch,
        history=tuple(progress.history),
        device=str(dev),
        precision=precision,
        batch_size=batch_size,
        train_windows_per_second=trained_windows / train_seconds if train_seconds else 0.0,
        resumed_from_epoch=resumed_from,
    )
