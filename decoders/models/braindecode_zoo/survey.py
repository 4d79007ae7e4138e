"""Survey of the installed braindecode: every model class fitted on tiny data and exported.

For each model class braindecode ships (its ``models_dict`` and its channel-interpolating
variants), the survey records its licence, application and building blocks (braindecode's
``summary.csv``) and whether it needs channel positions; then it fits the registry's tiny
configuration for one epoch on :func:`survey_trials` and exports it with the parity check
(ONNX Runtime against torch at batch sizes 8 and 1). The outcome is one of:

- ``exports``: the graph exports and matches torch at every batch size;
- ``does not export``: the decoder trains, but torch cannot export it or the exported graph
  fails in ONNX Runtime or disagrees with torch (the reason);
- ``not registered``: not a window classifier, or not buildable without a download (the
  reason); such classes have no registry entry.

``python -m decoders.models.braindecode_zoo.survey`` rewrites ``catalog.json``; the registry
entries and the README's table are read from it, and the tests run the same checks against
it, so that a fix upstream or a new break is noticed.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from decoders.datasets.trials import TrialSet

from .catalog import CATALOG, TINY_NETWORKS, TRAINING_TINY, catalog, registry_name

SURVEY_SFREQ = 200.0
SURVEY_CHANNELS = ("Fz", "C3", "Cz", "C4", "Pz", "P3", "P4", "Oz")
SURVEY_TIMES = 200
"""1 s at 200 Hz: the patch length of the foundation models pretrained at 200 Hz (CBraMod
fixes it), so that every classifier builds on the survey trials."""

POSITIONS_UNLISTED = {
    "LUNA": "without positions it lines the channels up on one axis and outputs NaN",
}
"""Models braindecode does not list as needing ``chs_info`` that do need positions."""

NOT_WINDOW_CLASSIFIERS = {
    "AttnSleep": "single-channel sleep stager: its first convolution takes one EEG channel",
    "DANCE": "event detection: outputs one score per query and class, not one per window",
    "EMG2QwertyNet": "sEMG typing: outputs a character sequence for CTC, not one per window",
    "MetaNeuromotorHand": "sEMG handwriting: outputs a character sequence for CTC",
    "NeuroPose": "sEMG hand pose: outputs joint angles per time step (regression)",
    "REVE": "builds only with a position bank braindecode downloads at construction; bci-app "
    "makes no network call at run time",
    "SensingDynamics": "sEMG hand pose: outputs joint angles per time step (regression)",
    "SignalJEPA": "self-supervised encoder: outputs embeddings (its _Contextual, _PostLocal "
    "and _PreLocal variants are the classifiers)",
    "InterpolatedSignalJEPA": "self-supervised encoder: outputs embeddings",
    "VEMG2Pose": "sEMG hand pose: outputs joint angles per time step (regression)",
}
"""braindecode classes the registry leaves out, and why."""


EXPORT_FAILURES = {
    "Constraints violated (batch)": "the model fixes the batch size (its batch dimension "
    "cannot stay dynamic)",
    "fake tensor in the exported program constant": "a tensor the model makes in forward is "
    "captured as a constant torch cannot trace",
    "Could not guard on data-dependent expression": "the model's control flow depends on the "
    "values of its input (a data-dependent guard)",
}
"""What torch's export errors mean, in the table's words."""


@dataclass(frozen=True)
class Outcome:
    """What fitting a model on tiny data and exporting it gave: a status and its reason."""

    status: str
    reason: str = ""


def survey_trials(n_trials: int = 60, seed: int = 0, name: str = "toy") -> TrialSet:
    """Return three classes of 8-channel noise, each louder on its own pair of channels (V)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n_trials) % 3
    data = rng.standard_normal((n_trials, len(SURVEY_CHANNELS), SURVEY_TIMES)) * 10e-6
    for label in range(3):
        data[labels == label, 2 * label : 2 * label + 2] *= 3.0
    return TrialSet(
        data,
        labels,
        ("left", "right", "feet"),
        SURVEY_SFREQ,
        SURVEY_CHANNELS,
        ("eeg",) * len(SURVEY_CHANNELS),
        name,
    )


def installed_models() -> dict[str, type]:
    """Return braindecode's model classes by name (plain and channel-interpolating)."""
    from braindecode.models.util import interpolated_models_dict, models_dict

    return {**models_dict, **interpolated_models_dict}


def describe(architecture: str, cls: type) -> dict[str, Any]:
    """Return the catalog fields read from the installed braindecode for one class."""
    from braindecode.models.util import get_summary_table, models_mandatory_parameters

    mandatory = {name: params for name, params, _ in models_mandatory_parameters}
    table = get_summary_table()
    row = table.loc[architecture] if architecture in table.index else None
    info = getattr(cls, "_hub_mixin_info", None)
    card = getattr(info, "model_card_data", None)
    return {
        "class": architecture,
        "licence": str(getattr(card, "license", None) or "bsd-3-clause"),
        "application": "unknown" if row is None else str(row["Application"]),
        "categories": "" if row is None else str(row["Categorization"]),
        "design_sfreq": None if row is None else float(row["Sampling Frequency (Hz)"]),
        "needs_positions": "chs_info" in mandatory.get(architecture, ())
        or architecture in POSITIONS_UNLISTED,
    }


PARITY_SEEDS = 20
"""Random input draws (seeds 0 to 19) a graph must match torch on to count as exporting."""


def export_outcome(decoder, folder: Path) -> Outcome:
    """Return whether a fitted decoder exports with parity, and if not, why.

    The export checks parity on the inputs of seed 0; the exported graph is then checked on
    the inputs of seeds 1 to 19 too, so that a graph matching torch only on most inputs is
    found, and the outcome does not depend on a random draw.
    """
    from decoders.export.onnx_export import export_decoder
    from decoders.export.parity import ParityError, check_window_parity

    try:
        report = export_decoder(decoder, Path(folder) / f"{decoder.name}.onnx", seed=0)
        spec = decoder.input_spec_
        classifier = decoder.output_spec_.kind == "probabilities"
        for seed in range(1, PARITY_SEEDS):
            parity = check_window_parity(
                decoder.inference_module(),
                report.path,
                spec.ch_types,
                spec.n_times,
                input_name="window",
                logits_module=decoder.module_ if classifier else None,
                seed=seed,
            )
            if not parity.passed:
                raise ParityError(report.path, parity)
    except Exception as error:  # every failure is an outcome to record
        return Outcome("does not export", failure_reason(error))
    return Outcome("exports")


def failure_reason(error: BaseException) -> str:
    """Return a one-line reason for an export failure, without its run-specific details."""
    from decoders.export.onnx_export import ExportError
    from decoders.export.parity import ParityError

    text = re.sub(r"\s+", " ", str(error)).strip()
    if isinstance(error, ExportError):
        cause = text.split("could not export it to ONNX: ", 1)[-1]
        for pattern, meaning in EXPORT_FAILURES.items():
            if pattern in cause:
                return f"torch.export: {meaning}"
        return f"torch.export: {cause}"
    if isinstance(error, ParityError):
        return "ONNX Runtime differs from torch beyond the parity tolerance"
    fixed_batch = re.search(r"invalid dimensions for input: (\w+).*Expected: (\d+)", text)
    if fixed_batch:
        return f"the exported graph fixes the batch size to {fixed_batch.group(2)}"
    return f"ONNX Runtime: {text[:200]}"


def same_reason(recorded: str, actual: str) -> bool:
    """Return True when two failure reasons agree, numbers and spacing aside."""
    return _normalised(recorded) == _normalised(actual)


def survey(architecture: str, folder: Path) -> Outcome:
    """Fit the registry's tiny configuration of ``architecture`` for one epoch and export it."""
    from decoders.registry import DecoderEntry

    if architecture in NOT_WINDOW_CLASSIFIERS:
        return Outcome("not registered", NOT_WINDOW_CLASSIFIERS[architecture])
    entry = DecoderEntry(
        registry_name(architecture),
        "decoders.models.braindecode_zoo.nets:BraindecodeClassifier",
        "braindecode",
        architecture,
        defaults={"architecture": architecture},
    )
    options = {**TRAINING_TINY, "network": TINY_NETWORKS.get(architecture, {})}
    decoder = entry.create(seed=0, **options)
    decoder.fit(survey_trials(60, 0, "survey/train"), survey_trials(30, 1, "survey/valid"))
    return export_outcome(decoder, folder)


def main(argv: list[str] | None = None) -> None:
    """Rewrite ``catalog.json`` from the installed braindecode (takes minutes).

    ``--only CLASS ...`` surveys these classes again and keeps the other records.
    """
    import argparse

    import braindecode
    import torch

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="survey only these classes again")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    models = installed_models()
    kept = {r["class"]: r for r in catalog()["models"]} if args.only and CATALOG.is_file() else {}
    records = [
        kept.get(name) or {**describe(name, cls), "status": "pending", "reason": ""}
        for name, cls in sorted(models.items(), key=lambda item: item[0].lower())
    ]
    _write({"braindecode": braindecode.__version__, "models": records})
    with tempfile.TemporaryDirectory() as folder:
        for record in records:
            if args.only and record["class"] not in args.only:
                continue
            record.update(describe(record["class"], models[record["class"]]))
            outcome = survey(record["class"], Path(folder))
            record["status"], record["reason"] = outcome.status, outcome.reason
            print(f"{record['class']:24s} {outcome.status:16s} {outcome.reason}", flush=True)
    _write({"braindecode": braindecode.__version__, "models": records})


def _write(content: dict[str, Any]) -> None:
    CATALOG.write_text(json.dumps(content, indent=1) + "\n")
    catalog.cache_clear()


def _normalised(reason: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\d+(\.\d+)?(e-?\d+)?", "#", reason)).strip().lower()


if __name__ == "__main__":
    main()
