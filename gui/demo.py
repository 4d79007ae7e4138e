"""``bci-app gui --demo``: the real MEG/EEG recording played live, decoded by a trained model."""

from __future__ import annotations

from pathlib import Path

from bci_app.session.demo import DEMO_CLASSES, DEMO_RECORDING, demo_model, demo_workdir
from bci_app.session.sources import PlaySource, load_source

from .main_window import MainWindow


def start_demo(window: MainWindow) -> None:
    """Prepare the demonstration model (training it the first time) and play the recording.

    Once both the signal and its markers are open, the model decodes the window after each
    marker; everything runs in worker threads, the window stays live meanwhile.
    """
    controller = window.controller
    registry = controller.registry.root
    source = PlaySource("recording", DEMO_RECORDING)
    state: dict[str, object] = {}

    def maybe_decode(_name: str = "") -> None:
        inlets = controller.acquisition.inlets
        markers = f"{DEMO_RECORDING}-markers"
        model = state.get("model")
        if model is None or DEMO_RECORDING not in inlets or markers not in inlets:
            return
        if state.get("started"):
            return
        state["started"] = True
        window.decoder.refresh_models()
        window.decoder.select_model(model.ref)
        window.decoder.select_stream(DEMO_RECORDING, markers)
        window.decoder.marker_values.setText(",".join(DEMO_CLASSES))
        window.decoder.start()

    def model_ready(record) -> None:
        state["model"] = record
        controller.notice.emit("info", f"demo model {record.ref} ready")
        maybe_decode()

    controller.stream_opened.connect(maybe_decode)
    controller.notice.emit(
        "info", "demo: preparing the model (trained once, a few minutes the first time)…"
    )
    controller.tasks.run(
        "demo model", lambda: demo_model(Path(registry), demo_workdir()), done=model_ready
    )
    controller.play(lambda: load_source(source), DEMO_RECORDING, loop=True, source=source.origin)
