"""Parity between a decoder's torch module and its ONNX graph, on fresh random valid inputs.

Inputs are Gaussian noise at the physiological amplitude of each channel type (SI units),
with a random gain per channel, drawn from a new seed at every check (the seed is reported
so a failure can be replayed). The ONNX graph runs in ONNX Runtime with the live path's
own settings (:mod:`bci_app.models.format`) at both graph optimisation levels it may pick,
and at several batch sizes, so a graph frozen to one batch size fails.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bci_app.models.format import OPTIMIZATION_LEVELS, live_session

if TYPE_CHECKING:
    import torch

PARITY_TOLERANCE = 1e-4
"""Largest accepted max relative error between ONNX Runtime and torch (float32)."""

TYPICAL_AMPLITUDE = {
    "eeg": 20e-6,
    "eog": 100e-6,
    "emg": 50e-6,
    "ecg": 500e-6,
    "ecog": 50e-6,
    "seeg": 50e-6,
    "dbs": 20e-6,
    "mag": 1e-12,
    "grad": 1e-10,
}
"""Standard deviation of the random inputs per MNE channel type, in SI units (others: 1)."""


class ParityError(RuntimeError):
    """An exported graph whose outputs differ from the torch module beyond the tolerance."""

    def __init__(self, path: Path, report: ParityReport) -> None:
        self.path = Path(path)
        self.report = report
        super().__init__(
            f"{self.path}: ONNX Runtime differs from torch on the {report.graph} graph: max "
            f"relative error {report.max_relative_error:.3g} > {report.tolerance:g} "
            f"(max absolute {report.max_abs_error:.3g}, {report.n_windows} random windows, "
            f"seed {report.seed}); the export is refused"
        )


@dataclass(frozen=True)
class ParityReport:
    """The outcome of one parity check.

    Parameters
    ----------
    graph : str
        ``window`` (whole-window inference) or ``step`` (streaming step function).
    max_relative_error : float
        ``max |onnx - torch| / max |torch|`` over the random windows (the batched run and the
        batch-1 run, against the scale of all windows' outputs), the largest over the outputs
        compared.
    max_abs_error : float
        ``max |onnx - torch|``.
    n_windows : int
        Random inputs compared (windows, or steps times batch for a step graph).
    batch_sizes : tuple of int
        Batch sizes the graph ran with.
    seed : int
        Seed of the random inputs.
    tolerance : float
        The accepted relative error.
    logits_checked : bool
        Whether a classifier's logits (before its softmax) were compared too.
    """

    graph: str
    max_relative_error: float
    max_abs_error: float
    n_windows: int
    batch_sizes: tuple[int, ...]
    seed: int
    tolerance: float
    logits_checked: bool = False

    @property
    def passed(self) -> bool:
        """Return True when the relative error is within the tolerance."""
        return bool(self.max_relative_error <= self.tolerance)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        data = asdict(self)
        data["batch_sizes"] = list(self.batch_sizes)
        return data


def random_windows(
    ch_types: Sequence[str], n_times: int, n_windows: int, rng: np.random.Generator
) -> np.ndarray:
    """Return float32 noise windows (n_windows, n_channels, n_times) at typical amplitudes."""
    scale = np.array([TYPICAL_AMPLITUDE.get(kind, 1.0) for kind in ch_types])
    gain = rng.uniform(0.5, 2.0, size=(n_windows, len(ch_types), 1))
    noise = rng.standard_normal((n_windows, len(ch_types), n_times))
    return (noise * gain * scale[None, :, None]).astype(np.float32)


def compare(
    actual: np.ndarray, reference: np.ndarray, scale: float | None = None
) -> tuple[float, float]:
    """Return the max relative and max absolute error of ``actual`` against ``reference``.

    The relative error is the largest absolute difference over ``scale``, the magnitude of
    the outputs (default: the largest ``|reference|``).
    """
    difference = float(np.max(np.abs(np.asarray(actual, float) - np.asarray(reference, float))))
    magnitude = float(np.max(np.abs(reference))) if scale is None else scale
    if not np.isfinite(difference):
        return np.inf, np.inf
    return difference / max(magnitude, np.finfo(np.float32).tiny), difference


def check_window_parity(
    module: torch.nn.Module,
    onnx_path: Path,
    ch_types: Sequence[str],
    n_times: int,
    *,
    input_name: str,
    logits_module: torch.nn.Module | None = None,
    n_windows: int = 8,
    seed: int | None = None,
    tolerance: float = PARITY_TOLERANCE,
) -> ParityReport:
    """Compare the window graph with ``module`` at batch sizes ``n_windows`` and 1.

    Every output of ``module`` (a tensor, or a tuple in the graph's output order) is
    compared. For a classifier whose graph ends in a softmax, give ``logits_module`` (the
    module before the softmax): the logits are compared too, since probabilities saturated
    at 0 and 1 by noise inputs would hide a difference.
    """
    import torch

    seed = secrets.randbits(32) if seed is None else seed
    windows = random_windows(ch_types, n_times, n_windows, np.random.default_rng(seed))
    with torch.no_grad():
        outputs = module(torch.from_numpy(windows))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        references = [output.numpy() for output in outputs]
        graph = Path(onnx_path).read_bytes()
        if logits_module is not None:
            graph = with_logits_output(graph)
            references.append(logits_module(torch.from_numpy(windows)).numpy())
    errors = []
    for level in OPTIMIZATION_LEVELS:
        session = live_session(graph, level)
        batched = session.run(None, {input_name: windows})
        single = session.run(None, {input_name: windows[:1]})
        for index, reference in enumerate(references):
            scale = float(np.max(np.abs(reference)))  # one output scale for the whole check
            errors += [
                compare(batched[index], reference, scale),
                compare(single[index], reference[:1], scale),
            ]
    return ParityReport(
        "window",
        max(e[0] for e in errors),
        max(e[1] for e in errors),
        n_windows,
        (n_windows, 1),
        seed,
        tolerance,
        logits_module is not None,
    )


def with_logits_output(graph: bytes) -> bytes:
    """Return the graph with the input of its final softmax as a last output, ``logits``.

    Raises
    ------
    ValueError
        When the graph's output is not produced by a softmax.
    """
    import onnx

    model = onnx.load_model_from_string(graph)
    output = model.graph.output[0].name
    producer = next(node for node in model.graph.node if output in node.output)
    if producer.op_type != "Softmax":
        raise ValueError(f"the graph's output comes from {producer.op_type}, not a softmax")
    model.graph.output.append(
        onnx.helper.make_tensor_value_info(producer.input[0], onnx.TensorProto.FLOAT, None)
    )
    return model.SerializeToString()


def check_step_parity(
    step_module: torch.nn.Module,
    onnx_path: Path,
    ch_types: Sequence[str],
    step_times: int,
    *,
    input_names: Sequence[str],
    n_steps: int = 6,
    batch: int = 3,
    seed: int | None = None,
    tolerance: float = PARITY_TOLERANCE,
) -> ParityReport:
    """Run ``n_steps`` steps in torch and in ONNX Runtime from the initial state; compare.

    Every step's output and the final state are compared; the state is carried separately
    on each side, so an error that accumulates through the recurrence is caught.
    """
    import torch

    seed = secrets.randbits(32) if seed is None else seed
    rng = np.random.default_rng(seed)
    chunks = [random_windows(ch_types, step_times, batch, rng) for _ in range(n_steps)]
    session = live_session(Path(onnx_path))
    with torch.no_grad():
        torch_state = tuple(step_module.initial_state(batch))
    onnx_state = [state.numpy().astype(np.float32) for state in torch_state]
    errors = []
    for chunk in chunks:
        with torch.no_grad():
            torch_out, *new_state = step_module(torch.from_numpy(chunk), *torch_state)
        torch_state = tuple(new_state)
        feeds = dict(zip(input_names, [chunk, *onnx_state], strict=True))
        onnx_out, *onnx_state = session.run(None, feeds)
        errors.append(compare(onnx_out, torch_out.numpy()))
    for ours, theirs in zip(onnx_state, torch_state, strict=True):
        errors.append(compare(ours, theirs.numpy()))
    return ParityReport(
        "step",
        max(e[0] for e in errors),
        max(e[1] for e in errors),
        n_steps * batch,
        (batch,),
        seed,
        tolerance,
    )
