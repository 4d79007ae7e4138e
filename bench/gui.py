"""The clinician desktop under load: frame time and lag, idle and while a model trains.

On a real X server (Xvfb, Qt's xcb platform) and offscreen.
For each load (256 ch @ 2 kHz; the real 376-channel MEG file at 600.6 Hz) a sender process
streams over LSL with our player (loopback): 256 ch is the motor-imagery simulator (22 EEG
channels) plus white-noise sEEG channels; the MEG load is the real recording, looping. The real
main window (1920x1080) shows the stream (16 channels per page, 10 s window, every panel's
timers running) while a registered ONNX model decodes it every 0.1 s (CSP+LDA on the 22
simulated channels resampled to 250 Hz; Xdawn covariances + tangent space on the MEG file's 60
EEG channels). Each load is measured in three conditions:

- ``idle``: nothing else runs;
- ``training``: the demonstration model trains (``bci-app gui --demo``'s job: Xdawn covariances
  on the MEG/EEG recording, 5-fold cross-validation, refit, ONNX export), in a child process as
  the desktop runs it, restarted whenever it ends so that it covers the whole measurement;
- ``training in-process`` (xcb, MEG load only): the same training in a thread of the GUI
  process, as the desktop ran it before: the reference the child process is measured against.

Figures per load and condition, after a 3 s warm-up:

- ``frame_p50_ms``/``frame_p99_ms``: time to draw one frame in the GUI thread (the trace
  update from the timer + the paint), measured on each painted frame;
- ``interval_p99_ms``: p99 of the time between two painted frames (a stalled GUI thread shows
  here even when each frame is quick to draw);
- ``lag_p50_ms``/``lag_p99_ms``: drawn-vs-received lag at each paint (samples received by
  the inlet but not yet in the frame painted, in ms of signal);
- ``lag_slope_ms_per_min``: slope of a line fitted to the lag over the run;
- ``fps``, the decoder's ``predictions``, ``dropped`` windows and end-to-end latency;
- ``trainings_completed`` during the measurement;
- baseline, idle runs only: the naive drawing (each frame copies the window of every channel of
  the page at full rate from the ring buffer and hands all samples to pyqtgraph, one curve per
  channel), its frame time p50, and ``speedup_p50`` = naive / ours.

    python -m bench.gui [--quick] [--platform xcb|offscreen]

Each measurement runs 60 s (``--quick``: 15 s); both platforms by default (xcb needs Xvfb and
Qt's X11 libraries: see the README's desktop section). Writes ``bench/results/gui.json``,
prints a markdown table and keeps it in ``bench/results/gui.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .output import save_results

ROOT = Path(__file__).resolve().parent.parent
LOADS = {
    "256ch@2kHz": {"channels": 256, "sfreq": 2000.0},
    "MEG 376ch@600Hz": {"meg": True},
}
CONDITIONS = ("idle", "training", "training in-process")
PLATFORMS = ("xcb", "offscreen")
MI_CHANNELS = 22
MODEL_SFREQ = 250.0
WARMUP_S = 3.0
NAIVE_FRAMES = 20
SCREEN = {"width": 1920, "height": 1080}
DISPLAY = ":93"


# -- sender ---------------------------------------------------------------------------------


def send(name: str, channels: int, sfreq: float, meg: bool) -> None:
    """Stream until killed: the MEG file, or simulated motor imagery plus noise channels."""
    import mne

    from acquisition.player import Player

    if meg:
        from decoders.datasets.loaders import load_meg_eeg

        raw = load_meg_eeg()
    else:
        from decoders.simulators.registry import simulate_raw

        raw = simulate_raw("motor_imagery", duration_s=60.0, channels=MI_CHANNELS, sfreq=sfreq)
        extra = channels - MI_CHANNELS
        noise = np.random.default_rng(1).normal(0, 20e-6, (extra, raw.n_times))
        info = mne.create_info([f"S{i:03d}" for i in range(extra)], sfreq, "seeg")
        raw.add_channels([mne.io.RawArray(noise, info, verbose="error")], force_update_info=True)
    player = Player(raw, name=name, loop=True, markers=False).start()
    print("ready", flush=True)
    player.wait()


def _spawn_sender(name: str, load: dict) -> subprocess.Popen:
    args = [sys.executable, "-m", "bench.gui", "--role", "send", "--name", name]
    if load.get("meg"):
        args.append("--meg")
    else:
        args += ["--channels", str(load["channels"]), "--sfreq", str(load["sfreq"])]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the sender of {name} did not start: {line!r}")
    return process


# -- models -----------------------------------------------------------------------------------


def train_models(registry: Path) -> dict[str, str]:
    """Fit and register the two decoders; return the model name of each load."""
    from decoders import registry as decoders
    from decoders.datasets.loaders import load_meg_eeg
    from decoders.export.publish import publish
    from decoders.simulators.registry import simulate_trials
    from decoders.training.epoching import epochs_from_annotations

    trials = simulate_trials(
        "motor_imagery",
        channels=MI_CHANNELS,
        sfreq=MODEL_SFREQ,
        n_subjects=1,
        n_runs=1,
        trials_per_class=20,
    )
    csp = decoders.create("csp-lda")
    fit = trials.subset(np.arange(0, trials.n_trials, 1)[: int(trials.n_trials * 0.8)])
    valid = trials.subset(np.arange(int(trials.n_trials * 0.8), trials.n_trials))
    csp.fit(fit, valid)
    publish(csp, registry, "bench-mi")
    raw = load_meg_eeg().pick("eeg")
    classes = ["auditory/left", "auditory/right", "visual/left", "visual/right"]
    meg = epochs_from_annotations(raw, source="meg-eeg", classes=classes, tmin=0.0, tmax=0.5)
    order = np.random.default_rng(0).permutation(meg.n_trials)
    xdawn = decoders.create("xdawncov-ts-lr")
    xdawn.fit(meg.subset(np.sort(order[:22])), meg.subset(np.sort(order[22:])))
    publish(xdawn, registry, "bench-meg")
    return {"64ch@500Hz": "bench-mi", "256ch@2kHz": "bench-mi", "MEG 376ch@600Hz": "bench-meg"}


# -- measuring ------------------------------------------------------------------------------


def _run_loop(app, seconds: float) -> None:
    """Let the Qt event loop run for ``seconds`` (timers, paints, worker callbacks)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def _wait(app, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        _run_loop(app, 0.05)


class Trainings:
    """Keeps the demonstration model training during a measurement, restarted when it ends.

    Parameters
    ----------
    start : callable
        Starts one training and calls its argument when it ends.
    """

    def __init__(self, start: Callable[[Callable[[object], None]], None]) -> None:
        self.completed = 0
        self.stopped = False
        self._start = start
        self._next(None)

    def _next(self, _result: object) -> None:
        if not self.stopped:
            self._start(self._ended)

    def _ended(self, result: object) -> None:
        self.completed += 1
        self._next(result)

    def stop(self) -> None:
        """Start no further training (the one under way is left to its owner)."""
        self.stopped = True


def _in_child(controller, folder: Path) -> tuple[Trainings, Callable[[], None]]:
    """Train in a child process, as the desktop does; return the trainings and their stop."""
    from bci_app.session.demo import DEMO_MODEL, DemoJob

    job = DemoJob(folder / "demo-registry", folder / "demo" / DEMO_MODEL)

    def start(ended: Callable[[object], None]) -> None:
        controller.train("bench demo model", job, done=ended, failed=ended)

    trainings = Trainings(start)

    def stop() -> None:
        trainings.stop()
        for task in controller.trainings:
            task.cancel()

    return trainings, stop


def _in_thread(app, folder: Path) -> tuple[Trainings, Callable[[], None]]:
    """Train in a thread of this process, as the desktop did before the child process."""
    from bci_app.session.demo import DEMO_MODEL, DemoJob
    from bci_app.session.staging import run_staged

    job = DemoJob(folder / "demo-registry", folder / "demo-thread" / DEMO_MODEL)
    threads: list[threading.Thread] = []

    def start(ended: Callable[[object], None]) -> None:
        def work() -> None:
            run_staged(job)
            ended(None)

        threads.append(threading.Thread(target=work, daemon=True))
        threads[-1].start()

    trainings = Trainings(start)

    def stop() -> None:
        trainings.stop()
        _wait(app, lambda: not threads[-1].is_alive(), 300.0, "the in-process training to end")

    return trainings, stop


def measure_load(
    app, window, load: dict, model: str, seconds: float, condition: str, folder: Path
) -> dict:
    """Stream one load into the window with the decoder running; return the figures."""
    name = f"bench-gui-{uuid.uuid4().hex[:6]}"
    sender = _spawn_sender(name, load)
    controller = window.controller
    try:
        controller.open_stream(name, f"bci-app-player:{name}", timeout=10.0)
        _wait(app, lambda: name in controller.acquisition.inlets, 20.0, f"stream {name}")
        viewer = window.viewer
        viewer.stream_box.setCurrentText(name)
        _wait(app, lambda: viewer.traces.frame is not None, 20.0, "the first frame")
        panel = window.decoder
        panel.refresh_models()
        panel.select_model(f"{model}:1")
        _wait(app, lambda: panel.card is not None, 20.0, "the model card")
        panel.select_stream(name)
        panel.start()
        _wait(app, lambda: panel.live is not None, 30.0, "the decoder")
        trainings, stop = None, None
        if condition == "training":
            trainings, stop = _in_child(controller, folder)
        elif condition == "training in-process":
            trainings, stop = _in_thread(app, folder)
        _run_loop(app, WARMUP_S)
        viewer.traces.stats.clear()
        live = panel.live
        published = live.runner.counts.published
        dropped = live.runner.counts.dropped
        completed = trainings.completed if trainings else 0
        _run_loop(app, seconds)
        stats = viewer.traces.stats
        summary = stats.summary()
        painted = np.array(stats.painted_at)
        times = painted - painted[0]
        lags = np.array(stats.lag_ms)
        slope = float(np.polyfit(times, lags, 1)[0] * 60.0) if times.size > 2 else float("nan")
        latency = live.runner.latency.summary().get("e2e", {})
        inlet = controller.inlet(name)
        figures = {
            "platform": os.environ["QT_QPA_PLATFORM"].split(":")[0],
            "condition": condition,
            "channels": inlet.buffer.n_channels,
            "sfreq": inlet.buffer.sfreq,
            "seconds": seconds,
            **{k: round(v, 3) for k, v in summary.items()},
            "interval_p99_ms": round(float(np.percentile(np.diff(painted), 99) * 1e3), 3),
            "lag_slope_ms_per_min": round(slope, 3),
            "predictions": live.runner.counts.published - published,
            "dropped_windows": live.runner.counts.dropped - dropped,
            "decoder_e2e_p50_ms": round(latency.get("p50", float("nan")), 3),
            "decoder_e2e_p99_ms": round(latency.get("p99", float("nan")), 3),
            "trainings_completed": (trainings.completed - completed) if trainings else 0,
            "received_samples": inlet.samples_received,
        }
        if stop is not None:
            stop()
        if condition == "idle":
            figures.update(_naive_baseline(app, viewer, NAIVE_FRAMES))
            figures["speedup_p50"] = round(
                figures["naive_frame_p50_ms"] / figures["frame_p50_ms"], 2
            )
        panel.stop()
        _wait(app, lambda: panel.live is None, 20.0, "the decoder to stop")
        return figures
    finally:
        controller.close_stream(name)
        sender.kill()
        sender.wait(10)
        _run_loop(app, 1.0)


def _naive_baseline(app, viewer, frames: int) -> dict:
    """Draw the page the naive way: all samples of the window, straight from the ring buffer.

    One pyqtgraph curve per channel, every sample handed over, in the same plot (same size,
    axes and theme), painted synchronously.
    """
    import pyqtgraph as pg

    viewer.timer.stop()
    traces = viewer.traces
    buffer = viewer.inlet.buffer
    channels = list(traces.frame.channels)
    spans = viewer._row_spans(traces.frame)
    hidden = [curve for curve in traces.curves.values() if curve.isVisible()]
    for curve in hidden:
        curve.hide()
    naive = [traces.plot(pen=pg.mkPen(viewer.theme.trace, width=1)) for _ in channels]
    durations = []
    try:
        for _ in range(frames):
            started = time.perf_counter()
            chunk = buffer.latest(viewer.window_s)
            times = (np.arange(chunk.n_times) - chunk.n_times + 1) / buffer.sfreq
            for row, index in enumerate(channels):
                values = chunk.data[index] - np.median(chunk.data[index])
                naive[row].setData(times, values / spans[row] - row)
            traces.viewport().repaint()
            durations.append((time.perf_counter() - started) * 1e3)
            app.processEvents()
    finally:
        for curve in naive:
            traces.removeItem(curve)
        for curve in hidden:
            curve.show()
        viewer.timer.start()
    return {
        "naive_frame_p50_ms": round(float(np.percentile(durations, 50)), 3),
        "naive_frame_p99_ms": round(float(np.percentile(durations, 99)), 3),
    }


# -- report ---------------------------------------------------------------------------------


def table(results: dict) -> str:
    """Return the markdown table of the results."""
    rows = [
        "| platform | load | condition | frame p50 / p99 (ms) | frame interval p99 (ms) "
        "| lag p50 / p99 (ms) | lag slope (ms/min) | fps | decoder e2e p50 / p99 (ms) "
        "| predictions (dropped) | trainings done | naive frame p50 (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in results["measurements"]:
        naive = f"{f['naive_frame_p50_ms']:.1f}" if "naive_frame_p50_ms" in f else "-"
        rows.append(
            f"| {f['platform']} | {f['load']} | {f['condition']} "
            f"| {f['frame_p50_ms']:.1f} / {f['frame_p99_ms']:.1f} | {f['interval_p99_ms']:.0f} "
            f"| {f['lag_p50_ms']:.0f} / {f['lag_p99_ms']:.0f} | {f['lag_slope_ms_per_min']:+.1f} "
            f"| {f['fps']:.0f} | {f['decoder_e2e_p50_ms']:.1f} / {f['decoder_e2e_p99_ms']:.1f} "
            f"| {f['predictions']} ({f['dropped_windows']}) | {f['trainings_completed']} "
            f"| {naive} |"
        )
    return "\n".join(rows)


def _offscreen_screen(folder: Path) -> str:
    config = folder / "screen.json"
    screen = {"name": "bench", "x": 0, "y": 0, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [{**screen, **SCREEN}]}))
    return f"offscreen:configfile={config}"


def measure_platform(platform_name: str, seconds: float, out: Path) -> None:
    """Measure every load and condition on one Qt platform (this process); write the JSON."""
    with tempfile.TemporaryDirectory(prefix="bci-app-bench-gui-") as folder:
        folder = Path(folder)
        os.environ["QT_QPA_PLATFORM"] = (
            _offscreen_screen(folder) if platform_name == "offscreen" else "xcb"
        )
        os.environ["XDG_CONFIG_HOME"] = str(folder / "config")  # fresh settings, untouched user's
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from decoders.datasets.fetch import fetch_all
        from gui.main_window import MainWindow
        from gui.settings import Settings

        fetch_all(log=lambda message: None)
        models = train_models(folder / "registry")
        app = QApplication([sys.argv[0]])
        settings = Settings(QSettings(str(folder / "settings.conf"), QSettings.Format.IniFormat))
        settings.set("paths/registry", str(folder / "registry"))
        settings.set("paths/sessions", str(folder / "sessions"))
        window = MainWindow(settings, auto_refresh=False)
        window.setGeometry(0, 0, SCREEN["width"], SCREEN["height"])
        window.show()
        _run_loop(app, 1.0)
        measurements = []
        for load_name, load in LOADS.items():
            for condition in CONDITIONS:
                if condition == "training in-process" and (
                    platform_name != "xcb" or not load.get("meg")
                ):
                    continue
                figures = measure_load(
                    app, window, load, models[load_name], seconds, condition, folder
                )
                measurements.append({"load": load_name, **figures})
                print(f"{platform_name} {load_name} {condition}: {json.dumps(figures)}", flush=True)
        screen = f"{window.width()}x{window.height()}, traces "
        screen += f"{window.viewer.traces.width()}x{window.viewer.traces.height()} px"
        window.close()
    out.write_text(json.dumps({"window": screen, "measurements": measurements}))


def _measure_in_child(platform_name: str, quick: bool, out: Path) -> None:
    """Run :func:`measure_platform` in a process of its own (one Qt platform per process)."""
    from gui.screenshots import start_xvfb

    environ = dict(os.environ)
    server = None
    if platform_name == "xcb":
        os.environ["DISPLAY"] = environ["DISPLAY"] = DISPLAY
        server = start_xvfb(DISPLAY, size=(SCREEN["width"], SCREEN["height"]))
    args = [sys.executable, "-m", "bench.gui", "--role", "measure", "--platform", platform_name]
    try:
        subprocess.run(
            [*args, "--out", str(out), *(["--quick"] if quick else [])],
            cwd=ROOT,
            env=environ,
            check=True,
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s per measurement, not 60 s")
    parser.add_argument("--platform", choices=PLATFORMS, help="one Qt platform (default: both)")
    for hidden in ("--role", "--name", "--channels", "--sfreq", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--meg", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("LSLAPICFG", str(ROOT / "tests" / "lsl_api.cfg"))  # this host only
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.role == "send":
        send(args.name, int(args.channels or 0), float(args.sfreq or 0), args.meg)
        return
    seconds = 15.0 if args.quick else 60.0
    if args.role == "measure":
        measure_platform(args.platform, seconds, Path(args.out))
        return
    started = time.time()
    results: dict = {
        "protocol": {
            "seconds_per_measurement": seconds,
            "warmup_s": WARMUP_S,
            "screen": f"{SCREEN['width']}x{SCREEN['height']}: Xvfb (xcb) and offscreen",
            "view": "10 s window, 16 channels per page, min/max per screen column",
            "decoder": "hop 0.1 s, ONNX Runtime 1 thread, in a worker thread",
            "training": "the demo model (xdawncov-ts-lr, kfold5 + refit, ONNX export), "
            "restarted when done; in a child process (nice 10, one core fewer) or in-process",
            "processes": "sender (player) and GUI: separate processes, LSL loopback",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_average_at_start": os.getloadavg(),
        },
        "measurements": [],
    }
    with tempfile.TemporaryDirectory(prefix="bci-app-bench-gui-") as folder:
        for platform_name in [args.platform] if args.platform else PLATFORMS:
            out = Path(folder) / f"{platform_name}.json"
            _measure_in_child(platform_name, args.quick, out)
            part = json.loads(out.read_text())
            results["protocol"][f"window_{platform_name}"] = part["window"]
            results["measurements"].extend(part["measurements"])
    results["protocol"]["load_average_at_end"] = os.getloadavg()
    results["elapsed_s"] = round(time.time() - started, 1)
    save_results("gui", results, table(results))


if __name__ == "__main__":
    main()
