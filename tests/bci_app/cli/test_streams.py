import uuid

import pylsl
import pytest

from bci_app.cli import main

pytestmark = [pytest.mark.lsl, pytest.mark.timeout(60)]


def test_streams_lists_visible_streams_with_their_channels(capsys):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    info = pylsl.StreamInfo(name, "SEEG", 2, 2000.0, "float32", f"{name}-sid")
    channels = info.desc().append_child("channels")
    for label in ("LA1", "LA2"):
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        channel.append_child_value("type", "SEEG")
        channel.append_child_value("unit", "microvolts")
    outlet = pylsl.StreamOutlet(info)
    assert main(["streams", "--timeout", "0.6", "--channels"]) == 0
    printed = capsys.readouterr().out
    line = next(row for row in printed.splitlines() if row.startswith(name))
    assert line.split()[1:5] == ["SEEG", "2", "2000", "Hz"] and line.endswith(f"{name}-sid")
    assert "channels: 2 seeg" in printed
    assert "LA2" in printed and "microvolts" in printed
    del outlet
