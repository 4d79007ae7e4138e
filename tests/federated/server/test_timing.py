"""A deployed stage's time split per site: pick-up, process start, work and return."""

from types import SimpleNamespace

import pytest

from federated.server.timing import StageClock, stage_timing


class Reply:
    """A reply of site ``name`` whose ClientApp process started at ``process_start``."""

    def __init__(self, name: str, message_id: str, process_start: float) -> None:
        self.metadata = SimpleNamespace(src_node_id=7, reply_to_message_id=message_id)
        stamps = {"process-start": process_start, "app-start": process_start + 3.0}
        stamps["app-end"] = process_start + 5.0
        self.content = SimpleNamespace(config_records={"site": {"name": name}, "timing": stamps})

    def has_content(self) -> bool:
        return True


def test_a_stage_splits_into_pick_up_start_work_and_return():
    clock = StageClock(pushed=100.0, arrived={"m1": 110.0, "m2": 120.0})
    timing = stage_timing(clock, [Reply("a", "m1", 101.5), Reply("b", "m2", 50.0)])
    assert timing["a"] == pytest.approx(
        {"total": 10.0, "pick-up": 1.5, "start": 3.0, "work": 2.0, "return": 3.5}
    )
    # A process that started before the stage (in process: one for every message): total only.
    assert timing["b"] == {"total": 20.0}
