"""``bci-app gui --demo``: the real MEG/EEG recording played live, decoded by a trained model."""

from __future__ import annotations

from bci_app.models.registry import ModelRecord
from bci_app.session.demo import DEMO_CLASSES, DEMO_MODEL, DEMO_RECORDING, DemoJob, demo_workdir
from bci_app.session.sources import PlaySource, load_source

from .main_window import MainWindow


def start_demo(window: MainWindow) -> None:
    """Prepare the demonstration model (training it the first time) and play the recording.

    Once both the signal and its markers are open, the model decodes the window after each
    marker. The first time, the model trains in a child process while the window stays live
    and the decoder panel shows the training's progress.
    """
    controller = window.controller
    registry = controller.registry
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

    def model_ready(record: ModelRecord) -> None:
        state["model"] = record
        controller.notice.emit("info", f"demo model {record.ref} ready")
        maybe_decode()

    controller.stream_opened.connect(maybe_decode)
    if DEMO_MODEL in registry.names():
        model_ready(registry.get(DEMO_MODEL))
    else:
        controller.notice.emit(
            "info", "demo: training the model once (a minute or two), the window stays live…"
        )
        job = DemoJob(registry.root, demo_workdir() / DEMO_MODEL)
        controller.train("demo model", job, done=model_ready)
    controller.play(lambda: load_source(source), DEMO_RECORDING, loop=True, source=source.origin)
