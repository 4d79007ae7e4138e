"""ONNX Runtime's profiler, summed per operator type, names where a graph spends its time."""

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from decoders.export.onnx_export import _torch_export
from decoders.export.profile import OpCost, profile_ops, summarize


@pytest.fixture(scope="module")
def tiny_graph(tmp_path_factory) -> Path:
    """A small convolutional network exported as the export exports decoders."""
    module = torch.nn.Sequential(
        torch.nn.Conv1d(4, 8, 9),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 56, 3),
    )
    path = tmp_path_factory.mktemp("profile") / "tiny.onnx"
    _torch_export(module, (torch.zeros(2, 4, 64),), path, ["window"], ["output"], "tiny")
    return path


def test_the_summary_names_the_graphs_operators_and_its_shares_sum_to_one(tiny_graph):
    window = np.random.default_rng(0).standard_normal((1, 4, 64)).astype(np.float32)
    costs = profile_ops(tiny_graph, {"window": window}, calls=20, level="basic")
    graph_ops = {node.op_type for node in onnx.load(str(tiny_graph)).graph.node}
    assert {cost.op_type for cost in costs} <= graph_ops
    assert "Conv" in {cost.op_type for cost in costs}
    assert sum(cost.share for cost in costs) == pytest.approx(1.0)
    assert all(cost.ms_per_call > 0 and cost.nodes >= 1 for cost in costs)
    assert [cost.ms_per_call for cost in costs] == sorted(
        (cost.ms_per_call for cost in costs), reverse=True
    )


def test_warm_up_runs_are_left_out_and_time_is_per_call():
    def run(ts: int) -> dict:
        return {"cat": "Session", "name": "model_run", "ts": ts, "dur": 90}

    def node(ts: int, op: str, name: str, dur: int) -> dict:
        return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur,
                "args": {"op_name": op}}  # fmt: skip

    events = [
        run(0), node(1, "DFT", "dft", 1000),  # warm-up: left out
        run(100), node(101, "DFT", "dft", 30), node(140, "Conv", "conv", 10),
        run(200), node(201, "DFT", "dft", 50), node(240, "Conv", "conv", 10),
        {"cat": "Node", "name": "dft_fence_before", "ts": 202, "dur": 999, "args": {}},
    ]  # fmt: skip
    costs = summarize(events, skip_runs=1)
    assert costs == [OpCost("DFT", 0.8, 0.04, 1), OpCost("Conv", 0.2, 0.01, 1)]
    assert costs[0].describe() == "DFT 80% (1 node, 0.04 ms)"


def test_too_few_runs_are_refused():
    with pytest.raises(ValueError, match="none left"):
        summarize([{"cat": "Session", "name": "model_run", "ts": 0, "dur": 1}], skip_runs=1)
    with pytest.raises(ValueError, match="at least 1"):
        profile_ops(b"", {}, calls=0)
