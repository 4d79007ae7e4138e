"""The live path runs in a process that never imports torch (nor the decoders package)."""

import json
import subprocess
import sys

import pytest

from bci_app.models.registry import ModelRegistry

pytestmark = pytest.mark.lsl

SCRIPT = """
import json, sys, time
from pathlib import Path

from bci_app.inference.engine import InferenceEngine
from bci_app.models.registry import ModelRegistry

made = []
with InferenceEngine(ModelRegistry(Path(sys.argv[1]))) as engine:
    engine.add(sys.argv[2], "toy")
    engine.subscribe(made.append)
    engine.start()
    deadline = time.monotonic() + 30
    while len(made) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
heavy = [name for name in ("torch", "decoders", "braindecode", "sklearn") if name in sys.modules]
print(json.dumps({"predictions": len(made), "heavy": heavy}))
"""


def test_the_engine_decodes_without_importing_torch(
    tmp_path, model_files, live_outlet, stream_name
):
    ModelRegistry(tmp_path).register(model_files["band"], "toy")
    live_outlet(stream_name)

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), stream_name],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["predictions"] >= 5
    assert outcome["heavy"] == []
