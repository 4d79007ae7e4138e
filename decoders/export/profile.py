"""Where ONNX Runtime spends its time on an exported graph, from its own profiler.

The graph runs at batch 1 with the live path's session settings (one intra-op thread,
sequential, the graph optimisation level given) and ONNX Runtime's profiler on; the kernel
time of every node is summed per operator type over all calls. The summary names the
operator types that dominate a slow graph (a DFT, a long convolution, shape arithmetic), so
a benchmark can state why a graph is slow from a measurement instead of a guess.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bci_app.models.format import session_options


@dataclass(frozen=True)
class OpCost:
    """The summed kernel time of one operator type.

    Parameters
    ----------
    op_type : str
        ONNX (or ONNX Runtime fused) operator type, e.g. ``Conv``, ``DFT``, ``FusedConv``.
    share : float
        Its fraction of all kernel time (the shares of a profile sum to 1).
    ms_per_call : float
        Its kernel time per graph call, in milliseconds.
    nodes : int
        How many nodes of this type the optimised graph runs.
    """

    op_type: str
    share: float
    ms_per_call: float
    nodes: int

    def describe(self) -> str:
        """Return e.g. ``DFT 93% (2 nodes, 18.5 ms)``."""
        plural = "node" if self.nodes == 1 else "nodes"
        return (
            f"{self.op_type} {100 * self.share:.0f}% ({self.nodes} {plural}, "
            f"{self.ms_per_call:.3g} ms)"
        )


def profile_ops(
    model: bytes | Path, inputs: dict[str, np.ndarray], calls: int = 100, level: str = "all"
) -> list[OpCost]:
    """Return the kernel time per operator type of ``calls`` runs, largest first.

    Parameters
    ----------
    model : bytes or Path
        The ONNX graph.
    inputs : dict
        Input name to array (e.g. one window of batch 1).
    calls : int
        Runs summed; one more run goes first (allocation, kernel preparation) and is left out.
    level : str
        Graph optimisation level (``basic``, ``extended`` or ``all``), as the live path picks.
    """
    import onnxruntime

    if calls < 1:
        raise ValueError(f"calls must be at least 1, not {calls}")
    with tempfile.TemporaryDirectory(prefix="ort-profile-") as folder:
        options = session_options(level)
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(folder) / "profile")
        session = onnxruntime.InferenceSession(
            model if isinstance(model, bytes) else str(model),
            options,
            providers=["CPUExecutionProvider"],
        )
        for _ in range(calls + 1):
            session.run(None, inputs)
        events = json.loads(Path(session.end_profiling()).read_text())
    return summarize(events, skip_runs=1)


def summarize(events: list[dict], skip_runs: int = 0) -> list[OpCost]:
    """Return the kernel time per operator type of ONNX Runtime profiler ``events``.

    ``skip_runs``: leading ``model_run`` events whose nodes are left out (warm-up).
    """
    runs = sorted(
        (event["ts"], event["ts"] + event["dur"])
        for event in events
        if event.get("cat") == "Session" and event.get("name") == "model_run"
    )
    if len(runs) <= skip_runs:
        raise ValueError(f"the profile holds {len(runs)} run(s), none left after {skip_runs}")
    start = runs[skip_runs][0]
    micros: dict[str, float] = defaultdict(float)
    nodes: dict[str, set[str]] = defaultdict(set)
    for event in events:
        name = event.get("name", "")
        if event.get("cat") != "Node" or not name.endswith("_kernel_time") or event["ts"] < start:
            continue
        op_type = event["args"]["op_name"]
        micros[op_type] += event["dur"]
        nodes[op_type].add(name)
    total = sum(micros.values())
    n_runs = len(runs) - skip_runs
    costs = [
        OpCost(op, time / total if total else 0.0, time / n_runs / 1e3, len(nodes[op]))
        for op, time in micros.items()
    ]
    return sorted(costs, key=lambda cost: cost.ms_per_call, reverse=True)
