"""Live inference: ONNX Runtime against eager torch per decoder, and end to end over real LSL.

Part 1, per registered decoder (every entry of the registry, fitted on the real
HandMovementDirection training trials: 10 MEG channels, 400 Hz, 1 s windows), batch 1:

- ``ort_ms_p50``/``p99``: the live path's call (window copied into the bound input, ONNX
  Runtime with 1 intra-op thread, sequential, the faster graph optimisation level);
- ``torch_ms_p50``/``p99``: eager torch on the same window with ``torch.set_num_threads(1)``
  (set again after every fit: a fit may change the thread count torch shares with OpenMP);
  for classical decoders the reference is their scikit-learn pipeline's own
  ``predict_proba`` (used only when it reproduces the decoder's outputs);
- measured in alternating rounds in one process, so background load falls on both alike;
- ``mflops``: multiply-adds x 2 of one window (torch's FLOP counter: matrix products and
  convolutions) of the trained module, ``export_mflops`` those of the exported graph (fewer
  where the decoder exports an exact rewrite, as EEGNet does), and ``floor_ms``, the time the
  exported graph's FLOPs take at the matrix-multiply throughput measured in the same run
  (single-thread float32 GEMM);
- ``torch_rewrite_ms_p50``/``p99``: where the graph is a rewrite, eager torch on the rewritten
  module too, so the table shows what the rewrite and what ONNX Runtime each contribute;
- ``ort_time_by_op``: for a decoder whose ratio misses the target (ONNX Runtime less than
  :data:`TARGET_RATIO` times faster), where ONNX Runtime spends its time: its own profiler's
  kernel time per operator type over the same number of batch-1 calls, with the live
  settings at the level the live path kept (:mod:`decoders.export.profile`), the largest
  first; the table names the top two with their shares.

Part 2, end to end through real LSL between processes, at 64 ch @ 500 Hz and 256 ch @ 2 kHz:
a player process (the acquisition player looping noise, 10 ms chunks) -> ``bci-app run``
(a CSP+LDA with a declared 8-30 Hz band-pass over every channel, 1 s windows, 0.1 s hop) ->
its prediction stream -> a consumer process that stamps each prediction's arrival.
``e2e_ms``: consumer arrival minus the window's last-sample timestamp; ``compute_ms``: the
model's own inference (from the engine's log, joined on the timestamp); ``overhead_ms``:
e2e minus compute, per prediction. The engine's own per-stage p50s are listed too.

    python -m bench.inference [--quick]

``--quick``: tiny decoder options, 200 timed calls per graph, 8 s per load (under 5 minutes);
otherwise default options, 1000 calls, 60 s per load. Writes ``bench/results/inference.json``,
prints markdown tables and keeps them in ``bench/results/inference.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .output import RESULTS_DIR, save_results

ROOT = Path(__file__).resolve().parent.parent
LOADS = {"64ch@500Hz": (64, 500.0), "256ch@2kHz": (256, 2000.0)}
WINDOW_S, HOP_S = 1.0, 0.1


# -- part 1: per decoder ----------------------------------------------------------------------


def matmul_gflops() -> float:
    """Return single-thread float32 GEMM throughput (best of several 512x512 products)."""
    import torch

    a, b = torch.randn(512, 512), torch.randn(512, 512)
    best = np.inf
    for _ in range(20):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * 512**3 / best / 1e9


def window_flops(module, window: np.ndarray) -> int:
    """Return the FLOPs torch counts for one window."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(torch.from_numpy(window[None]))
    return int(counter.get_total_flops())


def sklearn_reference(decoder, window: np.ndarray):
    """Return the scikit-learn pipeline's predict for classical decoders, if it matches."""
    steps = getattr(decoder, "pipeline_", None)
    if not steps:
        return None
    scale = float(decoder.module_.scale) if hasattr(decoder.module_, "scale") else 1.0

    def predict() -> np.ndarray:
        x = window[None].astype(float) * scale
        for step in steps[:-1]:
            x = step.transform(x)
        return steps[-1].predict_proba(x)

    try:
        matches = np.abs(predict() - decoder.predict_proba(window[None])).max() < 1e-3
    except Exception:
        return None
    return predict if matches else None


def eager(module, window: np.ndarray):
    """Return a call of ``module`` on one window in eager torch (inference mode)."""
    import torch

    tensor = torch.from_numpy(window[None])

    def call():
        with torch.inference_mode():
            return module(tensor)

    return call


def _percentile(times: np.ndarray | None, q: float) -> float | None:
    return None if times is None else float(np.percentile(times, q))


def timed_rounds(functions: dict, calls: int, rounds: int) -> dict[str, np.ndarray]:
    """Call each function ``calls`` times in total, in alternating rounds; return ms."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        for _ in range(10):  # warm-up
            function()
    for _ in range(rounds):
        for name, function in functions.items():
            for _ in range(calls // rounds):
                start = time.perf_counter_ns()
                function()
                times[name].append((time.perf_counter_ns() - start) / 1e6)
    return {name: np.array(values) for name, values in times.items()}


TARGET_RATIO = 2.0
"""ONNX Runtime should be at least this many times faster than the reference at p50."""

ZOO_FIT = {"max_epochs": 1, "patience": 1}
"""braindecode models are timed, not scored: one epoch gives the trained graph's shape."""


def bench_decoders(
    quick: bool, folder: Path, names: list[str] | None = None, max_params: float | None = None
) -> dict:
    """Return part 1's figures for the registered decoders (``names``: only these)."""
    import torch

    from decoders import registry
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.protocols import validation_split

    torch.set_num_threads(1)
    split = load_trial_set("HandMovementDirection")
    fit, valid = validation_split(split.train, 0.2, 0)
    window = split.test.data[0].astype(np.float32)
    gflops = matmul_gflops()
    calls, rounds = (200, 4) if quick else (1000, 10)
    rows = []
    for name, entry in sorted(registry.REGISTRY.items()):
        if names and name not in names:
            continue
        if not entry.exports:
            rows.append({"decoder": name, "error": f"does not export: {entry.export_failure}"})
            continue
        print(f"  {name}: fitting", flush=True)
        options = entry.tiny if quick else (ZOO_FIT if entry.family == "braindecode" else {})
        try:
            rows.append(
                time_decoder(entry.create(seed=0, **options), fit, valid, window, folder,
                             gflops, calls, rounds, max_params)
            )  # fmt: skip
        except Exception as error:  # a model that cannot take this data is a finding
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            rows.append({"decoder": name, "error": reason[:300]})
    return {"gemm_gflops": gflops, "decoders": rows}


def time_decoder(decoder, fit, valid, window, folder, gflops, calls, rounds, max_params) -> dict:
    """Fit, export and time one decoder at batch 1 (see the module docstring)."""
    import torch

    from bci_app.inference.model import OnnxModel
    from decoders.contract import OutputSpec
    from decoders.export.onnx_export import export_decoder
    from decoders.export.profile import profile_ops

    name = decoder.name
    if max_params:
        module = decoder.build(decoder.spec_for(fit), OutputSpec("probabilities", fit.classes))
        size = sum(p.numel() for p in module.parameters())
        if size > max_params:
            raise ValueError(
                f"{size / 1e6:.1f} M parameters, over this run's budget of {max_params / 1e6:g} M"
            )
    decoder.fit(fit, valid)
    # A fit may change torch's thread count (fitting MiniRocket, whose transform runs in
    # numba, leaves torch on 2 threads here); the reference runs on one thread, as ORT does.
    torch.set_num_threads(1)
    path = folder / f"{name}.onnx"
    report = export_decoder(decoder, path)
    model = OnnxModel(path.read_bytes(), name)
    module, exported = decoder.inference_module(), decoder.export_module()
    reference = sklearn_reference(decoder, window)
    flops, export_flops = window_flops(module, window), window_flops(exported, window)
    functions = {"ort": lambda model=model: model.predict(window)}
    functions["reference"] = reference if reference is not None else eager(module, window)
    if export_flops != flops:
        functions["rewrite"] = eager(exported, window)
    times = timed_rounds(functions, calls, rounds)
    floor_ms = export_flops / (gflops * 1e9) * 1e3
    ort, ref, rewrite = times["ort"], times["reference"], times.get("rewrite")
    ratio = float(np.percentile(ref, 50) / np.percentile(ort, 50))
    by_op = None
    if ratio < TARGET_RATIO:
        costs = profile_ops(path, {model.card.input_name: window[None]}, calls, model.optimization)
        by_op = [asdict(cost) for cost in costs]
    return {
        "decoder": name,
        "reference": "scikit-learn" if reference is not None else "torch eager",
        "ort_optimization": model.optimization,
        "ort_ms_p50": float(np.percentile(ort, 50)),
        "ort_ms_p99": float(np.percentile(ort, 99)),
        "torch_ms_p50": float(np.percentile(ref, 50)),
        "torch_ms_p99": float(np.percentile(ref, 99)),
        "ratio_p50": ratio,
        "torch_rewrite_ms_p50": _percentile(rewrite, 50),
        "torch_rewrite_ms_p99": _percentile(rewrite, 99),
        "mflops": flops / 1e6,
        "export_mflops": export_flops / 1e6,
        "floor_ms": floor_ms,
        "ort_over_floor": float(np.percentile(ort, 50) / floor_ms) if export_flops else None,
        "parity_max_relative_error": report.parity.max_relative_error,
        "parameters": sum(p.numel() for p in decoder.module_.parameters()),
        "calls": int(ort.size),
        "ort_time_by_op": by_op,
    }


# -- part 2: end to end over LSL ------------------------------------------------------------------


def play(name: str, channels: int, sfreq: float) -> None:
    """Player role: loop 20 s of noise as an EEG stream until killed."""
    import mne

    from acquisition.player import Player

    noise = np.random.default_rng(0).normal(0, 10e-6, (channels, round(20 * sfreq)))
    info = mne.create_info([f"E{i}" for i in range(channels)], sfreq, "eeg")
    player = Player(
        mne.io.RawArray(noise, info, verbose=False), name=name, loop=True, markers=False
    )
    player.start()
    print("ready", flush=True)
    player.wait()


def consume(name: str, seconds: float) -> None:
    """Consumer role: print (timestamp, arrival) of every prediction for ``seconds``."""
    import pylsl

    found = pylsl.resolve_byprop("name", name, 1, 30.0)
    if not found:
        raise SystemExit(f"prediction stream {name} not found")
    inlet = pylsl.StreamInlet(found[0])
    inlet.open_stream(timeout=10.0)
    print("ready", flush=True)
    received = []
    deadline = None
    while deadline is None or pylsl.local_clock() < deadline:
        sample, stamp = inlet.pull_sample(timeout=1.0)
        if sample is None:
            continue
        received.append((stamp, pylsl.local_clock()))
        deadline = deadline or pylsl.local_clock() + seconds
    print(json.dumps(received), flush=True)


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.inference", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def e2e_model(folder: Path, channels: int, sfreq: float) -> Path:
    """Export a CSP+LDA (declared 8-30 Hz band-pass) for ``channels`` at ``sfreq``."""
    from decoders import registry
    from decoders.datasets.trials import TrialSet
    from decoders.export.onnx_export import export_decoder

    rng = np.random.default_rng(0)
    n_times = round(WINDOW_S * sfreq)
    labels = np.arange(40) % 2
    data = rng.normal(0, 10e-6, (40, channels, n_times))
    data[labels == 1, 0] *= 2
    names = tuple(f"E{i}" for i in range(channels))
    trials = TrialSet(data, labels, ("a", "b"), sfreq, names, ("eeg",) * channels, "noise")
    decoder = registry.create("csp-lda", hop_s=HOP_S, n_components=4, band=[8.0, 30.0])
    decoder.fit(trials.subset(slice(0, 30)), trials.subset(slice(30, 40)))
    return export_decoder(decoder, folder / f"csp-{channels}.onnx").path


def bench_e2e(seconds: float, folder: Path) -> list[dict]:
    """Return part 2's figures per load, each streamed and decoded for ``seconds``."""
    from bci_app.models.registry import ModelRegistry

    rows = []
    for load, (channels, sfreq) in LOADS.items():
        print(f"  {load}", flush=True)
        registry = ModelRegistry(folder / "models")
        model = f"csp{channels}"
        registry.register(e2e_model(folder, channels, sfreq), model)
        stream = f"bench-{uuid.uuid4().hex[:8]}"
        log = folder / f"{model}.jsonl"
        player = _spawn(
            "--role", "player", "--name", stream, "--channels", str(channels), "--sfreq", str(sfreq)
        )
        assert player.stdout.readline().strip() == "ready"
        consumer = _spawn(
            "--role", "consumer", "--name", f"bci-app-{model}", "--seconds", str(seconds)
        )
        engine = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bci_app",
                "run",
                "--stream",
                stream,
                "--model",
                model,
                "--registry",
                str(registry.root),
                "--duration",
                str(seconds + 4),
                "--quiet",
                "--log",
                str(log),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert consumer.stdout.readline().strip() == "ready"
        received = json.loads(consumer.communicate(timeout=seconds + 60)[0].strip())
        engine.communicate(timeout=seconds + 60)
        player.kill()
        player.wait()
        rows.append(_e2e_figures(load, received, log))
    return rows


def _e2e_figures(load: str, received: list, log: Path) -> dict:
    traces = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        if entry["kind"] == "prediction":
            traces[round(entry["timestamp"], 6)] = entry["latency_ms"]
    e2e, compute, overhead = [], [], []
    for stamp, arrival in received:
        trace = traces.get(round(stamp, 6))
        if trace is None:
            continue
        e2e.append(1e3 * (arrival - stamp))
        compute.append(trace["inference"])
        overhead.append(e2e[-1] - trace["inference"])
    names = ("acquisition", "buffering", "preprocessing", "inference", "publication", "e2e")
    stages = {
        f"{stage}_{q}": float(np.percentile([t[stage] for t in traces.values()], level))
        for stage in names
        for q, level in (("p50", 50), ("p99", 99))
    }
    return {
        "load": load,
        "predictions": len(e2e),
        "e2e_ms_p50": float(np.percentile(e2e, 50)),
        "e2e_ms_p99": float(np.percentile(e2e, 99)),
        "compute_ms_p50": float(np.percentile(compute, 50)),
        "overhead_ms_p50": float(np.percentile(overhead, 50)),
        "overhead_ms_p99": float(np.percentile(overhead, 99)),
        "engine_stage_ms": stages,
    }


# -- report ---------------------------------------------------------------------------------


def time_by_op(row: dict, top: int = 2) -> str:
    """Return the profiled operator types of a decoder that misses the target ("-" if none)."""
    from decoders.export.profile import OpCost

    costs = row.get("ort_time_by_op")
    if not costs:
        return "-"
    return "; ".join(OpCost(**cost).describe() for cost in costs[:top])


def table(results: dict) -> str:
    """Return the results as markdown tables."""
    lines = [
        f"Per decoder, batch 1, 1 thread (GEMM {results['gemm_gflops']:.1f} GFLOP/s measured):",
        "",
        "| decoder | reference | ORT p50 / p99 (ms) | reference p50 / p99 (ms) | ratio p50 |"
        " MFLOPs trained / exported | torch on the exported rewrite p50 / p99 (ms) |"
        " floor (ms) | ORT / floor | ORT level | where ORT spends its time (below"
        f" {TARGET_RATIO:g}x) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    failed = [row for row in results["decoders"] if "error" in row]
    for row in results["decoders"]:
        if "error" in row:
            continue
        over = f"{row['ort_over_floor']:.0f}x" if row["ort_over_floor"] else "-"
        rewrite = (
            f"{row['torch_rewrite_ms_p50']:.3f} / {row['torch_rewrite_ms_p99']:.3f}"
            if row["torch_rewrite_ms_p50"] is not None
            else "-"
        )
        lines.append(
            f"| {row['decoder']} | {row['reference']} | {row['ort_ms_p50']:.3f} / "
            f"{row['ort_ms_p99']:.3f} | {row['torch_ms_p50']:.3f} / {row['torch_ms_p99']:.3f} | "
            f"{row['ratio_p50']:.1f}x | {row['mflops']:.2f} / {row['export_mflops']:.2f} | {rewrite} | "
            f"{row['floor_ms']:.4f} | {over} | {row['ort_optimization']} | {time_by_op(row)} |"
        )
    if failed:
        lines += ["", "Not timed:", ""]
        lines += [f"- {row['decoder']}: {row['error']}" for row in failed]
    lines += [
        "",
        "End to end over LSL between processes (player -> bci-app run -> consumer):",
        "",
        "| load | predictions | e2e p50 / p99 (ms) | compute p50 (ms) | overhead p50 / p99 (ms) |"
        " engine p50 / p99 (ms): acquisition, buffering, preprocessing, publication |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["e2e"]:
        stage = row["engine_stage_ms"]
        parts = ", ".join(
            f"{stage[f'{name}_p50']:.2f} / {stage[f'{name}_p99']:.2f}"
            for name in ("acquisition", "buffering", "preprocessing", "publication")
        )
        lines.append(
            f"| {row['load']} | {row['predictions']} | {row['e2e_ms_p50']:.2f} / "
            f"{row['e2e_ms_p99']:.2f} | {row['compute_ms_p50']:.3f} | "
            f"{row['overhead_ms_p50']:.2f} / {row['overhead_ms_p99']:.2f} | {parts} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the benchmark (or one of its processes, with ``--role``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small and short (< 5 minutes)")
    parser.add_argument("--decoders", nargs="+", help="time only these registered decoders")
    parser.add_argument("--max-params", type=float, help="skip larger models (listed)")
    parser.add_argument("--no-e2e", action="store_true", help="skip part 2 (keep its last results)")
    for hidden in ("--role", "--name", "--channels", "--sfreq", "--seconds"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("LSLAPICFG", str(ROOT / "tests" / "lsl_api.cfg"))  # this host only
    if args.role == "player":
        play(args.name, int(args.channels), float(args.sfreq))
        return
    if args.role == "consumer":
        consume(args.name, float(args.seconds))
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as folder:
        print("decoders (batch 1):", flush=True)
        results = bench_decoders(args.quick, Path(folder), args.decoders, args.max_params)
        previous = RESULTS_DIR / "inference.json"
        last = json.loads(previous.read_text()) if previous.is_file() else {}
        if args.decoders:  # keep the other decoders' rows of the last run
            timed = {row["decoder"] for row in results["decoders"]}
            results["decoders"] = sorted(
                [row for row in last.get("decoders", []) if row["decoder"] not in timed]
                + results["decoders"],
                key=lambda row: row["decoder"],
            )
        if args.no_e2e:
            results["e2e"] = last.get("e2e", [])
        else:
            print("end to end:", flush=True)
            results["e2e"] = bench_e2e(8.0 if args.quick else 60.0, Path(folder))
    results |= {
        "quick": args.quick,
        "wall_time_s": time.perf_counter() - started,
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "platform": platform.platform(),
        },
    }
    save_results("inference", results, table(results))


if __name__ == "__main__":
    main()
