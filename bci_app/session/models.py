"""What the GUI shows of a registered model: its card, read without loading it for inference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bci_app.errors import IncompatibleModelError
from bci_app.models.alarm import AlarmPolicy
from bci_app.models.format import ModelCard
from bci_app.models.registry import ModelRecord, ModelRegistry


def read_card(registry: ModelRegistry, record: ModelRecord) -> ModelCard:
    """Return the card of a registered model after checking the file's sha256.

    Raises
    ------
    bci_app.errors.ModelIntegrityError
        When the file is missing or changed since registration.
    bci_app.errors.IncompatibleModelError
        When it is not a readable bci-app export.
    """
    import onnx

    data = registry.read_verified(record)
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as error:
        raise IncompatibleModelError(
            record.ref, f"is not a readable ONNX file ({error})"
        ) from error
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    return ModelCard.from_metadata(metadata, record.ref)


@dataclass(frozen=True)
class CardSummary:
    """A model card as sections of (label, text) rows, for people."""

    model: list[tuple[str, str]]
    training: list[tuple[str, str]]
    validation: list[tuple[str, str]]
    channels: list[str]


def summarize_card(card: ModelCard) -> CardSummary:
    """Return what a model was trained on, its validation figures and its channels."""
    data: dict[str, Any] = card.card.get("data", {}) or {}
    evaluation: dict[str, Any] = card.card.get("evaluation", {}) or {}
    model = [
        ("decoder", card.decoder),
        ("input", f"{len(card.ch_names)} ch @ {card.sfreq:g} Hz, {card.window_s:g} s windows"),
        ("hop", f"{card.hop_s:g} s"),
        ("output", f"{card.output_kind}: {', '.join(card.output_names[:12])}"),
        ("preprocessing", ", ".join(step.get("step", "?") for step in card.pipeline) or "none"),
        ("resampling", "allowed" if card.resample else "forbidden"),
    ]
    extra: dict[str, Any] = card.card.get("extra", {}) or {}
    if extra.get("licence"):
        flag = " - NON-COMMERCIAL use only" if extra.get("non_commercial") else ""
        model.append(("model licence", f"{extra['licence']}{flag}"))
    alarm = AlarmPolicy.from_card(card.card)
    if alarm is not None:
        model.append(
            (
                "seizure alarm",
                f"{alarm.k} of {alarm.n} windows with {alarm.positive} >= {alarm.threshold:g}, "
                f"refractory {alarm.refractory_s / 60:g} min; announces a seizure "
                f"{alarm.sph_s / 60:g}-{(alarm.sph_s + alarm.sop_s) / 60:g} min ahead",
            )
        )
    parity = card.export.get("parity", {})
    if parity:
        model.append(
            ("ONNX parity", f"max relative error {parity.get('max_relative_error', 0):.1e}")
        )
    training = [
        (key.replace("_", " "), _text(data[key]))
        for key in ("source", "name", "n_trials", "classes")
        if key in data
    ]
    validation = []
    if evaluation:
        validation.append(("protocol", str(evaluation.get("protocol_description") or "")))
        for name, summary in (evaluation.get("metrics") or {}).items():
            if isinstance(summary, dict) and "mean" in summary:
                validation.append((name, f"{summary['mean']:.3f} ± {summary.get('sd', 0):.3f}"))
    return CardSummary(model, training, validation, list(card.ch_names))


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
