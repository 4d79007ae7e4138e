"""Export a fitted decoder to ONNX, with its card in the metadata and parity checked.

Every decoder exports its whole-window inference module (raw outputs, then softmax for
classifiers) as ``window`` -> ``output`` with a dynamic batch dimension (exported from a
batch of 2: a batch-1 example would freeze the batch size). Recurrent and spiking decoders
whose :meth:`~decoders.contract.Decoder.streaming_module` returns a step module also export
that step function to ``<name>.step.onnx``, its state as explicit inputs and outputs.

The step module convention:

- ``block_samples`` (int attribute): samples consumed per step;
- ``initial_state(batch)`` returns the tuple of state tensors of a stream that starts now;
- ``forward(block, *state)`` takes ``block`` (batch, n_channels, block_samples) and returns
  ``(raw outputs, *new_state)``; for classifiers the exported step graph applies the softmax,
  as the window graph does;
- ``state_names`` (optional tuple of str) names the state tensors in the graph;
- every tensor (block, states, outputs) has the batch on its first axis.

The window graph is the decoder's :meth:`~decoders.contract.Decoder.export_module` (its
inference module, or an exact rewrite of it); a decoder that explains its decisions
(:meth:`~decoders.contract.Decoder.explanation`) exports its explaining module instead, whose
second output ``explanation`` is checked like the first. Real Fourier transforms of a fixed
length export as matrix products (:mod:`decoders.export.spectral`). After export, ONNX
Runtime (with the live settings) is compared with the torch inference module on fresh random
valid inputs; a max relative error above 1e-4 removes the file and raises
:class:`~decoders.export.parity.ParityError`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bci_app.models import format as model_format
from bci_app.models.format import EXPLANATION, OUTPUT
from decoders.card import DecoderCard
from decoders.evaluation.records import software_versions

from .parity import (
    PARITY_TOLERANCE,
    ParityError,
    ParityReport,
    check_step_parity,
    check_window_parity,
)
from .spectral import translations

if TYPE_CHECKING:
    import torch

    from decoders.contract import Decoder

OPSET = 20
"""ONNX opset of exported graphs (ONNX Runtime 1.20 and later run it)."""


class ExportError(RuntimeError):
    """A decoder that torch cannot turn into an ONNX graph."""


@dataclass(frozen=True)
class ExportReport:
    """What an export produced.

    Parameters
    ----------
    path : Path
        The whole-window graph.
    parity : ParityReport
        Its parity with the torch module.
    step_path : Path, optional
        The streaming step graph of a recurrent decoder.
    step_parity : ParityReport, optional
        Its parity, step by step, with the torch step module.
    opset : int
        ONNX opset of the graphs.
    seconds : float
        Wall time of the export and checks.
    """

    path: Path
    parity: ParityReport
    step_path: Path | None
    step_parity: ParityReport | None
    opset: int
    seconds: float

    def summary(self) -> str:
        """Return one line per graph: file, parity and the relative error."""
        lines = [_parity_line(self.path, self.parity)]
        if self.step_path is not None and self.step_parity is not None:
            lines.append(_parity_line(self.step_path, self.step_parity))
        return "\n".join(lines)


def export_decoder(
    decoder: Decoder,
    path: Path,
    *,
    card: DecoderCard | None = None,
    allow_resample: bool = True,
    tolerance: float = PARITY_TOLERANCE,
    seed: int | None = None,
) -> ExportReport:
    """Export a fitted decoder to ``path`` (and ``<stem>.step.onnx`` for recurrent ones).

    Parameters
    ----------
    decoder : Decoder
        Fitted (or restored from a checkpoint).
    path : Path
        Destination ``.onnx`` file; written only once parity holds.
    card : DecoderCard, optional
        The card written into the metadata (default: the decoder's own).
    allow_resample : bool
        Whether the live path may resample a stream at another rate to the model's.
    tolerance : float
        Accepted max relative error between ONNX Runtime and torch.
    seed : int, optional
        Seed of the random parity inputs (default: a fresh one, reported).

    Raises
    ------
    ExportError
        When torch cannot export the module.
    ParityError
        When ONNX Runtime and torch disagree beyond ``tolerance``.
    """
    import torch

    if not decoder.is_fitted:
        raise ValueError(f"decoder {decoder.name} is not fitted: nothing to export")
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    card = card or DecoderCard.for_decoder(decoder)
    spec = decoder.input_spec_
    n_channels = len(spec.ch_names)
    example = torch.zeros(2, n_channels, spec.n_times)
    explanation = decoder.explanation()
    module, graph, outputs = decoder.inference_module(), decoder.export_module(), [OUTPUT]
    if explanation is not None:
        module = graph = decoder.explaining_module()
        outputs.append(EXPLANATION)
    classifier = decoder.output_spec_.kind == "probabilities"
    live = model_format.window_live(
        list(spec.preprocessing), allow_resample=allow_resample, explanation=explanation
    )
    parity = _export_checked(
        graph,
        (example,),
        path,
        [model_format.WINDOW_INPUT],
        outputs,
        lambda temporary: check_window_parity(
            module,
            temporary,
            spec.ch_types,
            spec.n_times,
            input_name=model_format.WINDOW_INPUT,
            logits_module=decoder.module_ if classifier else None,
            seed=seed,
            tolerance=tolerance,
        ),
        card.to_json(),
        live,
        f"decoder {decoder.name} (window graph)",
    )
    step_path, step_parity = None, None
    streaming = decoder.streaming_module()
    if streaming is not None:
        step_module = _step_graph(streaming.eval(), classifier)
        step_path = path.with_name(f"{path.stem}.step.onnx")
        with torch.no_grad():
            state = tuple(step_module.initial_state(2))
        step_times = int(streaming.block_samples)
        names = getattr(streaming, "state_names", None) or model_format.state_names(len(state))
        block = torch.zeros(2, n_channels, step_times)
        live = model_format.step_live(
            list(spec.preprocessing), list(names), step_times, allow_resample=allow_resample
        )
        step_parity = _export_checked(
            step_module,
            (block, *state),
            step_path,
            [live["input"], *live["state_inputs"]],
            [live["output"], *live["state_outputs"]],
            lambda temporary: check_step_parity(
                step_module,
                temporary,
                spec.ch_types,
                step_times,
                input_names=[live["input"], *live["state_inputs"]],
                seed=seed,
                tolerance=tolerance,
            ),
            card.to_json(),
            live,
            f"decoder {decoder.name} (step graph)",
        )
    return ExportReport(path, parity, step_path, step_parity, OPSET, time.perf_counter() - started)


def export_checkpoint(folder: Path, path: Path, **options: Any) -> ExportReport:
    """Export the decoder saved in checkpoint ``folder`` (see :func:`export_decoder`)."""
    from decoders.checkpoint import load_decoder

    decoder, card = load_decoder(Path(folder))
    return export_decoder(decoder, path, card=card, **options)


def _step_graph(step: torch.nn.Module, softmax: bool) -> torch.nn.Module:
    """Return ``step`` with the softmax of its outputs for classifiers, as exported."""
    import torch

    class StepGraph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.step = step

        def initial_state(self, batch: int) -> tuple[torch.Tensor, ...]:
            return tuple(self.step.initial_state(batch))

        def forward(self, block: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
            output, *new_state = self.step(block, *state)
            if softmax:
                output = torch.softmax(output, dim=1)
            return (output, *new_state)

    return StepGraph().eval()


def _export_checked(
    module: torch.nn.Module,
    example: tuple,
    path: Path,
    input_names: list[str],
    output_names: list[str],
    check,
    card_json: str,
    live: dict,
    label: str,
) -> ParityReport:
    """Export to a temporary file, check parity, write metadata, then move into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        _torch_export(module, example, temporary, input_names, output_names, label)
        report = check(temporary)
        if not report.passed:
            raise ParityError(path, report)
        export = {
            "opset": OPSET,
            "parity": report.to_dict(),
            "versions": software_versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        model_format.write_metadata(
            temporary, model_format.metadata_entries(card_json, live, export)
        )
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return report


def _torch_export(
    module: torch.nn.Module,
    example: tuple,
    path: Path,
    input_names: list[str],
    output_names: list[str],
    label: str,
) -> None:
    import onnx
    import torch

    batch = torch.export.Dim("batch", min=1)
    # forward(window) or forward(block, *state): every tensor is batch-first
    dynamic = (
        ({0: batch},) if len(example) == 1 else ({0: batch}, tuple({0: batch} for _ in example[1:]))
    )
    try:
        with _quiet_exporter(), torch.no_grad():
            # Capture with torch.export first: a module it cannot capture fails here with its
            # reason, instead of reaching the ONNX exporter's fallback strategies (one of
            # which crashes the process on some braindecode models).
            program = torch.export.export(
                module.eval(), example, dynamic_shapes=dynamic, strict=False
            )
            torch.onnx.export(
                program,
                example,
                str(path),
                dynamo=True,
                opset_version=OPSET,
                input_names=input_names,
                output_names=output_names,
                external_data=False,
                verbose=False,
                custom_translation_table=translations(),
            )
        _name_batch_axis(path)
        onnx.checker.check_model(str(path))
    except Exception as error:
        raise ExportError(f"{label}: torch could not export it to ONNX: {_cause(error)}") from error


def _name_batch_axis(path: Path) -> None:
    """Call the first input's symbolic first axis ``batch`` throughout the graph.

    torch.export names its symbolic dimensions itself (``s31``); the live path and users read
    ``batch``.
    """
    import onnx

    model = onnx.load(str(path))
    symbol = model.graph.input[0].type.tensor_type.shape.dim[0].dim_param
    if not symbol or symbol == "batch":
        return
    graph = model.graph
    for value in (*graph.input, *graph.output, *graph.value_info):
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param == symbol:
                dim.dim_param = "batch"
    onnx.save(model, str(path))


def _cause(error: Exception) -> str:
    """Return the exporter's own summary of why it failed, without colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    summary = text.partition("## Exception summary")[2].strip()
    lines = [line for line in summary.splitlines() if line.startswith("<class")]
    return lines[0].split(">: ", 1)[-1] if lines else text.strip().splitlines()[0]


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's progress lines and warnings about optional operators."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _parity_line(path: Path, report: ParityReport) -> str:
    compared = "probabilities and logits" if report.logits_checked else "outputs"
    return (
        f"{path}: {report.graph} graph, parity with torch on {compared}: max relative error "
        f"{report.max_relative_error:.2e} (tolerance {report.tolerance:g}, "
        f"{report.n_windows} random inputs, batch sizes {list(report.batch_sizes)}, "
        f"seed {report.seed})"
    )
