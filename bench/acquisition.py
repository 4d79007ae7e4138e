"""Acquisition over real LSL between processes: ours beside bare pylsl and MNE-LSL's StreamLSL.

For each load (64 ch @ 500 Hz, 256 ch @ 2 kHz, the real 376-channel MEG file replayed at
600.6 Hz by our player) one sender process streams while three receivers, each in its own
process, read it in turn (alternating rounds, so that the machine's background load falls on
all three alike):

- ``pylsl``: a bare inlet pulling with ``pull_chunk(timeout, min_samples=1)`` (the floor);
- ``mne_lsl``: ``mne_lsl.stream.StreamLSL`` (acquisition delay 1 ms), polled every 1 ms;
- ``ours``: :class:`acquisition.inlet.SignalInlet` + :class:`acquisition.windows.WindowStream`.

Figures per receiver: ``latency_ms_p50``/``p99`` from a sample's push to its window being
available to the consumer (window 0.25 s, hop = the sender's 10 ms chunk; the sender writes
the push time into channel 0), for ours also the part spent between the sample's arrival in
the process and the window (``buffering_ms``); ``samples_lost`` (gaps in the received
timestamps, which the senders stamp exactly); ``cpu_percent`` of the receiving process.
Then ``reconnect_s``: the sender is killed and restarted with the same source id; time from
the new outlet existing to data reaching the consumer again (for ours also
``loss_reported_s``, from the kill to the LOST event).

    python -m bench.acquisition [--quick]

Each receiver reads each load 60 s in all (3 rounds of 20 s); ``--quick``: 4 s (2 rounds of
2 s). Writes ``bench/results/acquisition.json``, prints a markdown table and keeps it in
``bench/results/acquisition.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .output import save_results

ROOT = Path(__file__).resolve().parent.parent
LOADS = {
    "64ch@500Hz": {"channels": 64, "sfreq": 500.0},
    "256ch@2kHz": {"channels": 256, "sfreq": 2000.0},
    "MEG 376ch@600Hz": {"channels": 376, "sfreq": 600.615, "meg": True},
}
RECEIVERS = ("pylsl", "mne_lsl", "ours")
WINDOW_S = 0.25
WARMUP_S = 0.5


# -- sender ---------------------------------------------------------------------------------


def send(name: str, channels: int, sfreq: float, meg: bool) -> None:
    """Stream until killed: exact timestamps, push time (minus t0) in channel 0."""
    import pylsl

    if meg:
        from acquisition.player import Player
        from decoders.datasets.loaders import load_meg_eeg

        player = Player(load_meg_eeg(), name=name, source_id=f"{name}-sid", loop=True).start()
        print(f"ready {pylsl.local_clock()!r}", flush=True)
        player.wait()
        return
    chunk = max(1, round(sfreq / 100))
    info = pylsl.StreamInfo(name, "EEG", channels, sfreq, "float32", f"{name}-sid")
    outlet = pylsl.StreamOutlet(info, chunk_size=chunk)
    noise = np.random.default_rng(0).normal(0, 1e-5, (chunk, channels)).astype(np.float32)
    t0 = pylsl.local_clock()  # the receivers get this exact value
    print(f"ready {t0!r}", flush=True)
    origin, sent = pylsl.local_clock(), 0
    while True:
        delay = origin + (sent + chunk) / sfreq - pylsl.local_clock()
        if delay > 0:
            time.sleep(delay)
        block = noise.copy()
        block[:, 0] = pylsl.local_clock() - t0
        outlet.push_chunk(block, timestamp=origin + (sent + chunk - 1) / sfreq)
        sent += chunk


# -- receivers ------------------------------------------------------------------------------


class _Loss:
    """Counts samples missing between consecutive timestamps of an exactly stamped stream.

    Also an :class:`~acquisition.inlet.InletSink`, so that it sees what our inlet pulls.
    """

    def __init__(self, sfreq: float) -> None:
        self.sfreq = sfreq
        self.last: float | None = None
        self.lost = 0
        self.received = 0
        self.first_after_gap: float | None = None

    def add(self, stamps: np.ndarray, arrival: float) -> None:
        if len(stamps) == 0:
            return
        stamps = np.asarray(stamps, dtype=float)
        previous = stamps[0] - 1 / self.sfreq if self.last is None else self.last
        steps = np.diff(stamps, prepend=previous) * self.sfreq
        if self.last is not None and (steps > 0.25 * self.sfreq).any():
            self.first_after_gap = self.first_after_gap or arrival
        self.lost += int(np.round(steps[steps > 1.5] - 1).sum())
        self.received += len(stamps)
        self.last = float(stamps[-1])

    def samples(self, inlet: object, values: object, timestamps: np.ndarray) -> None:
        import pylsl

        self.add(timestamps, pylsl.local_clock())

    def clock_offset(self, inlet: object, time: float, offset: float) -> None:
        """Offsets are not needed here."""


@dataclass
class _Run:
    """What a receiver needs and what it measures."""

    name: str
    sfreq: float
    t0: float
    duration: float
    reconnect: bool
    meg: bool
    loss: _Loss
    hop: int = 0
    n_window: int = 0
    started: bool = False
    latencies: list[float] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    on_start: Callable[[], None] = lambda: None

    def __post_init__(self) -> None:
        self.hop = max(1, round(self.sfreq / 100))
        self.n_window = round(WINDOW_S * self.sfreq)
        self._begin: float | None = None

    def going(self) -> bool:
        """Tell whether to go on; start measuring after the warm-up (from the first call)."""
        if self._begin is None:
            self._begin = time.perf_counter()
            if self.reconnect:
                print("ready", flush=True)
        elapsed = time.perf_counter() - self._begin
        if elapsed >= WARMUP_S and not self.started:
            self.started = True
            self.on_start()
        if self.reconnect:
            return self.loss.first_after_gap is None and elapsed < self.duration
        return elapsed < WARMUP_S + self.duration

    def window(self, last_push: float, now: float) -> None:
        if self.started and not self.meg:
            self.latencies.append(now - (self.t0 + last_push))


def receive(impl: str, run: _Run) -> dict:
    """Run one receiver and return its raw figures."""
    import psutil

    process = psutil.Process()
    marks: dict[str, float] = {}

    def start() -> None:
        times = process.cpu_times()
        marks["cpu"], marks["wall"] = times.user + times.system, time.perf_counter()

    run.on_start = start
    {"pylsl": _run_pylsl, "mne_lsl": _run_mne_lsl, "ours": _run_ours}[impl](run)
    times = process.cpu_times()
    return {
        "cpu_s": times.user + times.system - marks["cpu"],
        "wall_s": time.perf_counter() - marks["wall"],
        "samples_lost": run.loss.lost,
        "samples_received": run.loss.received,
        "latency_ms": [1e3 * value for value in run.latencies],
        "resumed_at": run.loss.first_after_gap,
        **run.extra,
    }


def _run_pylsl(run: _Run) -> None:
    import pylsl

    (info,) = pylsl.resolve_byprop("source_id", f"{run.name}-sid", 1, 10.0)
    inlet = pylsl.StreamInlet(info, max_buflen=30, recover=True)
    inlet.open_stream(5.0)
    while run.going():
        data, stamps = inlet.pull_chunk(timeout=0.1, max_samples=4096, min_samples=1, as_numpy=True)
        if len(stamps):
            now = pylsl.local_clock()
            run.loss.add(stamps, now)
            run.window(float(data[-1, 0]), now)


def _run_mne_lsl(run: _Run) -> None:
    import pylsl
    from mne_lsl.stream import StreamLSL

    stream = StreamLSL(bufsize=10.0, source_id=f"{run.name}-sid").connect(acquisition_delay=0.001)
    try:
        while run.going():
            new = stream.n_new_samples
            if new >= run.hop:
                # More may arrive before get_data: take a margin, keep what is newer.
                span = max(WINDOW_S, (new + 10 * run.hop) / run.sfreq)
                data, stamps = stream.get_data(winsize=span, exclude=())
                now = pylsl.local_clock()
                fresh = stamps if run.loss.last is None else stamps[stamps > run.loss.last]
                run.loss.add(fresh[-new:] if run.loss.last is None else fresh, now)
                run.window(float(data[0, -1]), now)
            else:
                time.sleep(0.001)
    finally:
        stream.disconnect()


def _run_ours(run: _Run) -> None:
    import pylsl

    from acquisition.discovery import find_stream
    from acquisition.events import EventKind
    from acquisition.inlet import SignalInlet
    from acquisition.windows import WindowStream

    inlet = SignalInlet(find_stream(source_id=f"{run.name}-sid"), seconds=10.0)
    inlet.add_sink(run.loss)
    inlet.start()
    windows = WindowStream(inlet.buffer, n_times=run.n_window, hop=run.hop)
    buffering = []
    try:
        while run.going():
            ready = windows.wait(0.1)
            cut = pylsl.local_clock()
            for window in ready:
                run.window(float(window.data[0, -1]), cut)
                if run.started:
                    buffering.append(1e3 * (cut - window.arrival))
    finally:
        inlet.stop()
    run.extra["windows_dropped"] = windows.dropped
    run.extra["buffering_ms"] = buffering
    lost = [e.time for e in inlet.events.since(0) if e.kind is EventKind.LOST]
    if lost:
        run.extra["lost_reported_at"] = lost[0]


# -- orchestration --------------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.acquisition", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )


def _start_sender(name: str, load: dict) -> tuple[subprocess.Popen, float]:
    args = ["--role", "send", "--name", name, "--channels", str(load["channels"])]
    args += ["--sfreq", str(load["sfreq"])] + (["--meg"] if load.get("meg") else [])
    sender = _spawn(*args)
    line = sender.stdout.readline().split()
    if not line or line[0] != "ready":
        raise RuntimeError(f"sender for {name} failed to start")
    return sender, float(line[1])


def _receiver(impl: str, name: str, t0: float, sfreq: float, duration: float, *flags: str):
    return _spawn(
        "--role", "receive", "--impl", impl, "--name", name, "--t0", repr(t0),
        "--sfreq", repr(sfreq), "--duration", str(duration), *flags,
    )  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(10)


def measure_load(load: dict, duration: float, rounds: int) -> dict:
    """Run every receiver on one sender, in alternating rounds; merge their figures."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    sender, t0 = _start_sender(name, load)
    flags = ["--meg"] if load.get("meg") else []
    runs: dict[str, list[dict]] = {impl: [] for impl in RECEIVERS}
    try:
        for turn in range(rounds):
            for impl in RECEIVERS if turn % 2 == 0 else RECEIVERS[::-1]:
                receiver = _receiver(impl, name, t0, load["sfreq"], duration / rounds, *flags)
                output, _ = receiver.communicate(timeout=duration + 120)
                runs[impl].append(json.loads(output.strip().splitlines()[-1]))
    finally:
        _stop(sender)
    return {impl: _merge(parts) for impl, parts in runs.items()}


def _merge(parts: list[dict]) -> dict:
    """Percentiles over the windows of every round; sums of samples; CPU over all rounds."""
    merged = {
        "samples_lost": sum(p["samples_lost"] for p in parts),
        "samples_received": sum(p["samples_received"] for p in parts),
        "cpu_percent": 100 * sum(p["cpu_s"] for p in parts) / sum(p["wall_s"] for p in parts),
    }
    for key in ("latency_ms", "buffering_ms"):
        values = [v for p in parts for v in p.get(key, [])]
        if values:
            merged[f"{key}_p50"] = float(np.percentile(values, 50))
            merged[f"{key}_p99"] = float(np.percentile(values, 99))
            merged[f"{key}_n"] = len(values)
    if any("windows_dropped" in p for p in parts):
        merged["windows_dropped"] = sum(p.get("windows_dropped", 0) for p in parts)
    return merged


def measure_reconnect(impl: str) -> dict:
    """Kill the sender, start it again 0.5 s later; time until data flow again."""
    import pylsl

    load = LOADS["64ch@500Hz"]
    name = f"bench-{uuid.uuid4().hex[:8]}"
    sender, t0 = _start_sender(name, load)
    receiver = _receiver(impl, name, t0, load["sfreq"], 12.0, "--reconnect")
    try:
        if receiver.stdout.readline().strip() != "ready":
            raise RuntimeError(f"receiver {impl} failed to start")
        time.sleep(1.0)
        killed_at = pylsl.local_clock()
        _stop(sender)
        time.sleep(0.5)
        sender, back_at = _start_sender(name, load)
        output, _ = receiver.communicate(timeout=60)
    finally:
        _stop(sender)
        _stop(receiver)
    figures = json.loads(output.strip().splitlines()[-1])
    resumed = figures["resumed_at"]
    result = {"reconnect_s": None if resumed is None else resumed - back_at}
    if "lost_reported_at" in figures:
        result["loss_reported_s"] = figures["lost_reported_at"] - killed_at
    return result


def table(results: dict) -> str:
    """Return the results as markdown tables."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    rows = [
        "| load | receiver | latency p50 (ms) | latency p99 (ms) | buffering p50 / p99 (ms) "
        "| samples lost | received | CPU % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for load_name, by_impl in results["loads"].items():
        for impl, figures in by_impl.items():
            buffering = "-"
            if "buffering_ms_p50" in figures:
                buffering = f"{ms(figures['buffering_ms_p50'])} / {ms(figures['buffering_ms_p99'])}"
            rows.append(
                f"| {load_name} | {impl} | {ms(figures.get('latency_ms_p50'))} | "
                f"{ms(figures.get('latency_ms_p99'))} | {buffering} | {figures['samples_lost']} | "
                f"{figures['samples_received']} | {figures['cpu_percent']:.1f} |"
            )
    rows += ["", "| receiver | reconnect (s) | loss reported after (s) |", "|---|---|---|"]
    for impl, figures in results["reconnect"].items():
        reconnect, reported = figures["reconnect_s"], figures.get("loss_reported_s")
        rows.append(
            f"| {impl} | {'never' if reconnect is None else f'{reconnect:.3f}'} | "
            f"{'-' if reported is None else f'{reported:.3f}'} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 s per receiver instead of 60 s")
    for hidden in ("--role", "--impl", "--name", "--channels", "--sfreq", "--t0", "--duration"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--meg", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reconnect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("LSLAPICFG", str(ROOT / "tests" / "lsl_api.cfg"))
    if args.role == "send":
        send(args.name, int(args.channels), float(args.sfreq), args.meg)
        return
    if args.role == "receive":
        sfreq = float(args.sfreq)
        run = _Run(
            args.name, sfreq, float(args.t0), float(args.duration), args.reconnect, args.meg,
            _Loss(sfreq),
        )  # fmt: skip
        print(json.dumps(receive(args.impl, run)), flush=True)
        return
    duration, rounds = (4.0, 2) if args.quick else (60.0, 3)
    started = time.time()
    results: dict = {
        "protocol": {
            "seconds_per_receiver_and_load": duration,
            "rounds": f"{rounds} alternating rounds of {duration / rounds:g} s",
            "warmup_s": WARMUP_S,
            "window_s": WINDOW_S,
            "hop": "the sender's chunk (10 ms of samples)",
            "processes": "sender, each receiver and this script: separate processes, loopback",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_average_at_start": os.getloadavg(),
        },
        "loads": {},
        "reconnect": {},
    }
    for load_name, load in LOADS.items():
        results["loads"][load_name] = measure_load(load, duration, rounds)
        for impl, figures in results["loads"][load_name].items():
            print(f"{load_name:16s} {impl:8s} {json.dumps(figures)}", file=sys.stderr, flush=True)
    for impl in RECEIVERS:
        results["reconnect"][impl] = measure_reconnect(impl)
        print(f"reconnect {impl:8s} {results['reconnect'][impl]}", file=sys.stderr, flush=True)
    results["protocol"]["load_average_at_end"] = os.getloadavg()
    results["elapsed_s"] = time.time() - started
    save_results("acquisition", results, table(results))


if __name__ == "__main__":
    main()
