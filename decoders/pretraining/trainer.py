"""The pretraining loop: one process or many, CPU or GPU, resumable at every checkpoint.

Each optimisation step sees a global batch of ``global_batch`` sequences: every process runs
``accumulation`` micro-batches of ``micro_batch`` sequences (gradients accumulated, then
averaged over processes by data parallelism), so the same global batch gives the same
losses on one process or several, up to float rounding (dropout masks, drawn per process,
aside). Codebooks are updated once per step from the assignment statistics summed over
micro-batches and processes. On CUDA the forward passes run in mixed precision (bfloat16
where supported, else float16 with a gradient scaler); on CPU in float32.

The main process writes ``state.pt`` every ``checkpoint_every`` steps and at the end, a log
line per step (``log.jsonl``), the learning curve, and finally the pretrained model with its
card. Rerunning the same command resumes from ``state.pt``: the data stream restarts at the
next step and the random generators where they were, so an interrupted run continues as
if it had not been interrupted.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from decoders.datasets.errors import DataError
from decoders.evaluation.records import software_versions

from . import distributed
from .checkpoint import STATE_NAME, load_weights_only, save_atomic, save_pretrained
from .corpus import CorpusIndex
from .distributed import World
from .model import PretrainingModel
from .segments import CorpusPlan, StepStream

LOG_NAME = "log.jsonl"
CURVE_NAME = "learning_curve.png"


@dataclass(frozen=True)
class PretrainSettings:
    """How to pretrain.

    Parameters
    ----------
    steps : int
        Optimisation steps in all.
    global_batch : int
        Sequences per step, over every process and micro-batch.
    micro_batch : int
        Sequences per forward pass of one process.
    lr, weight_decay : float
        AdamW settings; the rate warms up linearly over ``warmup_steps`` then follows a
        cosine to a tenth of ``lr``.
    warmup_steps : int
        Linear warm-up steps.
    max_grad_norm : float
        Gradients are clipped to this norm (0: no clipping).
    checkpoint_every : int
        Steps between two checkpoints.
    seed : int
        Seeds the weights, the data order and every random choice of the loop.
    device : str
        ``auto`` (CUDA when there is one), ``cpu`` or ``cuda``.
    precision : str
        ``auto`` (mixed on CUDA, float32 on CPU), ``float32``, ``bfloat16`` or ``float16``.
    pool_files : int
        Files whose segments are shuffled together.
    """

    steps: int
    global_batch: int = 64
    micro_batch: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = 100
    max_grad_norm: float = 1.0
    checkpoint_every: int = 100
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    pool_files: int = 16

    def accumulation(self, world: World) -> int:
        """Return micro-batches per process and step, or raise when the batch does not split."""
        per_step = self.micro_batch * world.size
        if self.global_batch % per_step:
            raise DataError(
                "pretraining",
                f"a global batch of {self.global_batch} sequences does not split into "
                f"micro-batches of {self.micro_batch} on {world.size} process(es): choose a "
                f"multiple of {per_step}",
            )
        return self.global_batch // per_step

    def learning_rate(self, step: int) -> float:
        """Return the learning rate of ``step``."""
        warmup = min(self.warmup_steps, max(1, self.steps // 10))
        if step < warmup:
            return self.lr * (step + 1) / warmup
        progress = (step - warmup) / max(1, self.steps - warmup)
        return self.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


@dataclass
class RunState:
    """What the loop carries from step to step (and saves)."""

    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def resolve_device(name: str, world: World) -> torch.device:
    """Return the device of ``name`` (``auto``: this process's GPU when there is one)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise DataError("--device cuda", "no CUDA device is visible to this process")
        return torch.device("cuda", world.local_rank)
    if name != "cpu":
        raise DataError(f"--device {name}", "the device is auto, cpu or cuda")
    return torch.device("cpu")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """Return the mixed-precision type of the forward passes (None: float32)."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    types = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if precision not in types:
        raise DataError(f"--precision {precision}", f"known: auto, {', '.join(types)}")
    if types[precision] is torch.float16 and device.type != "cuda":
        raise DataError(f"--precision {precision}", "float16 training needs a CUDA device")
    return types[precision]


class StepRunner:
    """One optimisation step at a time: forward/backward over micro-batches, codebooks, update.

    Holds the model on its device (wrapped for data parallelism when there are several
    processes), its optimiser and gradient scaler. :class:`Pretrainer` drives it through a
    whole run with checkpoints; a federated site drives it for a few local steps a round.

    Parameters
    ----------
    model : PretrainingModel
        The model (moved to ``device``).
    settings : PretrainSettings
        Learning rate schedule, clipping, precision.
    world : World
        This process among the data-parallel ones.
    device : torch.device
        Where the model runs.
    """

    def __init__(
        self, model: PretrainingModel, settings: PretrainSettings, world: World, device
    ) -> None:
        self.settings, self.world, self.device = settings, world, device
        self.dtype = autocast_dtype(settings.precision, device)
        self.model = model.to(device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
        )
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.dtype is torch.float16)
        self.wrapped = self.model
        if world.distributed:
            self.wrapped = torch.nn.parallel.DistributedDataParallel(
                self.model,
                device_ids=[device.index] if device.type == "cuda" else None,
                forward_sync_buffers=False,  # codebooks change identically on every process
            )

    def step(self, micro_batches: list, index: int) -> dict[str, float]:
        """Run optimisation step ``index`` over this process's micro-batches; return its row."""
        model, optimizer, scaler = self.model, self.optimizer, self.scaler
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = self.settings.learning_rate(index)
        optimizer.zero_grad(set_to_none=True)
        totals: dict[str, float] = {}
        for position, batch in enumerate(micro_batches):
            data = torch.from_numpy(batch.data).to(self.device, non_blocking=True)
            weight = torch.from_numpy(batch.weight).to(self.device, non_blocking=True)
            source = torch.from_numpy(batch.source).to(self.device, non_blocking=True)
            last = position == len(micro_batches) - 1
            with self._sync(last), self._autocast():
                loss, parts = self.wrapped(data, weight, source)
            scaler.scale(loss / len(micro_batches)).backward()
            for name, value in {"loss": float(loss.detach()), **parts}.items():
                totals[name] = totals.get(name, 0.0) + value / len(micro_batches)
        self._update_codebooks()
        if self.settings.max_grad_norm > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.settings.max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
        row = self._averaged(totals)
        for position, quantizer in enumerate(model.quantizers()):
            suffix = "" if position == 0 else f"_{position}"
            row[f"codebook_usage{suffix}"] = quantizer.usage
            row[f"codebook_perplexity{suffix}"] = quantizer.perplexity
        row["lr"] = optimizer.param_groups[0]["lr"]
        return row

    def _update_codebooks(self) -> None:
        for quantizer in self.model.quantizers():
            count, total = quantizer.statistics()
            count = distributed.all_sum(count.clone(), self.world)
            total = distributed.all_sum(total.clone(), self.world)
            candidates = distributed.from_main(quantizer.candidates(), self.world)
            quantizer.update(count, total, candidates)

    def _averaged(self, totals: dict[str, float]) -> dict[str, float]:
        """Return the step's losses averaged over processes."""
        names = sorted(totals)
        values = torch.tensor([totals[name] for name in names], dtype=torch.float64)
        if self.world.distributed:
            values = distributed.all_sum(values.to(self.device), self.world).cpu()
        return {name: float(v) / self.world.size for name, v in zip(names, values, strict=True)}

    def _sync(self, last: bool):
        import contextlib

        if self.world.distributed and not last:
            return self.wrapped.no_sync()
        return contextlib.nullcontext()

    def _autocast(self):
        return torch.autocast(
            device_type=self.device.type, dtype=self.dtype, enabled=self.dtype is not None
        )


class Pretrainer:
    """Pretrain ``model`` on ``plan`` into the folder ``out``.

    Parameters
    ----------
    model : PretrainingModel
        The model, freshly built (weights come from the checkpoint when resuming).
    plan : CorpusPlan
        The corpus, cut into segments the model takes.
    settings : PretrainSettings
        How to train.
    out : Path
        The run folder.
    identity : dict
        What must match for ``out`` to be resumed (model, configuration, corpus, settings).
    world : World
        This process among the data-parallel ones.
    """

    def __init__(
        self,
        model: PretrainingModel,
        plan: CorpusPlan,
        settings: PretrainSettings,
        out: Path,
        identity: dict[str, Any],
        world: World | None = None,
    ) -> None:
        self.model, self.plan, self.settings = model, plan, settings
        self.out, self.identity = Path(out), identity
        self.world = world or World()
        self.device = resolve_device(settings.device, self.world)
        self.dtype = autocast_dtype(settings.precision, self.device)  # refused early if unfit
        self.accumulation = settings.accumulation(self.world)
        self.state = RunState()

    # ------------------------------------------------------------------ the loop
    def run(
        self,
        *,
        progress: bool = False,
        on_step: Callable[[int, dict[str, float]], None] | None = None,
    ) -> RunState:
        """Train until ``settings.steps`` (resuming from ``state.pt`` when present)."""
        from tqdm.auto import tqdm

        settings, world = self.settings, self.world
        self.out.mkdir(parents=True, exist_ok=True)
        distributed.start(world, self.device)
        self.model.attach(self.plan)
        runner = StepRunner(self.model, settings, world, self.device)
        self._resume(runner)
        stream = StepStream(
            self.plan,
            seed=settings.seed,
            micro_batch=settings.micro_batch,
            accumulation=self.accumulation,
            rank=world.rank,
            world_size=world.size,
            pool_files=settings.pool_files,
        )
        bar = tqdm(
            total=settings.steps,
            initial=self.state.step,
            desc="pretraining",
            unit="step",
            disable=not (progress and world.is_main),
        )
        steps = stream.steps(self.state.step)
        while self.state.step < settings.steps:
            started = time.perf_counter()
            epoch, micro_batches = next(steps)
            row = runner.step(micro_batches, self.state.step)
            elapsed = time.perf_counter() - started
            self.state.seconds += elapsed
            row |= {
                "step": self.state.step,
                "epoch": epoch,
                "sequences_per_s": settings.global_batch / elapsed,
            }
            self.state.history.append(row)
            self.state.step += 1
            bar.update()
            bar.set_postfix(
                seq_s=f"{row['sequences_per_s']:.0f}",
                loss=f"{row['loss']:.4f}",
                usage=f"{row.get('codebook_usage', float('nan')):.2f}",
            )
            if world.is_main:
                self._log(row)
            if on_step is not None:
                on_step(self.state.step, row)
            done = self.state.step == settings.steps
            if done or self.state.step % settings.checkpoint_every == 0:
                self._checkpoint(runner)
        bar.close()
        steps.close()
        self.stream_report = stream.report
        distributed.barrier(world)
        return self.state

    # ------------------------------------------------------------------ files
    def _resume(self, runner: StepRunner) -> None:
        path = self.out / STATE_NAME
        if not path.is_file():
            torch.manual_seed(self.settings.seed)
            self._rewrite_log()
            return
        content = load_weights_only(path)
        if content["identity"] != json.loads(json.dumps(self.identity)):
            raise DataError(
                self.out,
                "holds a pretraining run with other settings or another corpus; give another "
                "--out folder to start anew (or the same settings to resume)",
            )
        self.model.load_state_dict(content["model"])
        runner.optimizer.load_state_dict(content["optimizer"])
        runner.scaler.load_state_dict(content["scaler"])
        states = content["torch_rng"]  # one per process of the interrupted run
        torch.set_rng_state(states[self.world.rank % len(states)])
        self.state = RunState(
            int(content["step"]), list(content["history"]), float(content["seconds"])
        )
        self._rewrite_log()

    def _rewrite_log(self) -> None:
        """Make the log hold exactly the steps of the state (a kill may have left more)."""
        if self.world.is_main:
            lines = "".join(json.dumps(row) + "\n" for row in self.state.history)
            (self.out / LOG_NAME).write_text(lines)

    def _checkpoint(self, runner: StepRunner) -> None:
        """Write the training state (main process) after gathering every process's RNG."""
        rng = torch.get_rng_state()
        states = [rng]
        if self.world.distributed:
            import torch.distributed as dist

            states = [torch.zeros_like(rng) for _ in range(self.world.size)]
            dist.all_gather(states, rng.to(self.device) if self.device.type == "cuda" else rng)
            states = [state.cpu() for state in states]
        if self.world.is_main:
            save_atomic(
                {
                    "identity": json.loads(json.dumps(self.identity)),
                    "model": runner.model.state_dict(),
                    "optimizer": runner.optimizer.state_dict(),
                    "scaler": runner.scaler.state_dict(),
                    "torch_rng": states,
                    "step": self.state.step,
                    "history": self.state.history,
                    "seconds": self.state.seconds,
                },
                self.out / STATE_NAME,
            )
            self._curve()
        distributed.barrier(self.world)

    def _log(self, row: dict[str, float]) -> None:
        with open(self.out / LOG_NAME, "a") as handle:
            handle.write(json.dumps(row) + "\n")

    def _curve(self) -> None:
        from decoders.training.plots import plot_step_curve

        keys = [k for k in self.state.history[-1] if k.endswith("loss") or k == "loss"]
        plot_step_curve(self.state.history, keys, self.out / CURVE_NAME, "pretraining losses")

    def finish(
        self, model_name: str, size: str, config: dict[str, Any], index: CorpusIndex
    ) -> Path | None:
        """Write the pretrained model and its card (main process); return the weights' path."""
        if not self.world.is_main:
            return None
        history = self.state.history
        tail = history[-min(10, len(history)) :]
        card = {
            "model": model_name,
            "size": size,
            "config": config,
            "corpus": corpus_summary(index, self.plan),
            "settings": asdict(self.settings),
            "processes": self.world.size,
            "accumulation": self.accumulation,
            "device": self.device.type,
            "precision": str(self.dtype).removeprefix("torch.") if self.dtype else "float32",
            "steps": self.state.step,
            "final_losses": {
                key: float(np.mean([row[key] for row in tail]))
                for key in tail[-1]
                if key.endswith("loss") or key.startswith("codebook")
            },
            "throughput": {
                "sequences_per_s": self.state.step
                * self.settings.global_batch
                / max(self.state.seconds, 1e-9),
                "seconds": self.state.seconds,
            },
            "data_report": asdict(self.stream_report),
            "versions": software_versions(),
            "host_cpus": os.cpu_count(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            **self.model.card(),
        }
        return save_pretrained(self.out, self.model.state_dict(), card)


def corpus_summary(index: CorpusIndex, plan: CorpusPlan) -> dict[str, Any]:
    """Return what a pretraining card records of its corpus."""
    return {
        "fingerprint": index.fingerprint(),
        "files": [
            {"path": item.file.path, "sha256": item.file.sha256, "segments": item.n_segments}
            for item in plan.files
        ],
        "n_files": len(plan.files),
        "hours_per_type": index.hours_per_type(),
        "hours_used": plan.hours_used(),
        "segment_s": plan.spec.seconds,
        "sfreq": plan.spec.sfreq,
        "sequences_per_epoch": plan.n_sequences,
        "skipped": [asdict(item) for item in plan.skipped],
        "dropped_channels": plan.dropped,
    }
