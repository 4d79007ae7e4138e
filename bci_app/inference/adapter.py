"""From a stream to what a model takes: channel mapping, resampling, declared preprocessing.

The result is an acquisition pipeline spec applied causally to the stream before windows
are cut: pick (and order) the model's channels, resample to the model's rate when the card
allows it, then the model's declared filters at that rate.

A channel map that feeds a model channel from a stream channel of another type (MEG onto
EEG, EEG onto ECoG), or that comes with a rate change, feeds the model signals it was not
trained on: it is refused unless explicitly allowed. Whatever is accepted is described by
:func:`describe_adaptation` (printed by ``bci-app run``, written to the prediction log).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bci_app.errors import ChannelMismatchError, LiveError, SamplingRateError
from bci_app.models.format import ModelCard


def parse_channel_map(items: Sequence[str]) -> dict[str, str]:
    """Parse ``MODEL=STREAM`` pairs (one per item, or comma-separated) into a mapping."""
    mapping: dict[str, str] = {}
    for item in items:
        for pair in filter(None, (part.strip() for part in item.split(","))):
            model, sep, stream = pair.partition("=")
            if not sep or not model.strip() or not stream.strip():
                raise LiveError(pair, "a channel mapping is MODEL_CHANNEL=STREAM_CHANNEL")
            mapping[model.strip()] = stream.strip()
    return mapping


def stream_channels(
    card: ModelCard,
    ch_names: Sequence[str],
    *,
    channel_map: Mapping[str, str] | None = None,
    source: str,
) -> list[str]:
    """Return the stream channel feeding each model channel, in the model's order.

    A model channel is read from the stream channel of the same name unless
    ``channel_map`` maps it to another one.

    Raises
    ------
    ChannelMismatchError
        Naming the model channels the stream lacks (and mappings to unknown channels).
    """
    channel_map = dict(channel_map or {})
    unknown = sorted(set(channel_map) - set(card.ch_names))
    if unknown:
        raise ChannelMismatchError(
            source, f"the channel mapping names channels the model lacks: {', '.join(unknown)}"
        )
    available = set(ch_names)
    wanted = [channel_map.get(name, name) for name in card.ch_names]
    missing = [
        name if name == stream else f"{name} (mapped to {stream})"
        for name, stream in zip(card.ch_names, wanted, strict=True)
        if stream not in available
    ]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        offered = ", ".join(list(ch_names)[:12]) + (" ..." if len(ch_names) > 12 else "")
        raise ChannelMismatchError(
            source,
            f"lacks {len(missing)} of the {len(card.ch_names)} channels of model "
            f"{card.decoder}: {shown}. The stream has {offered}; map model channels to "
            "stream channels with --channel-map MODEL=STREAM",
        )
    return wanted


def plan_pipeline(
    card: ModelCard,
    ch_names: Sequence[str],
    sfreq: float,
    *,
    ch_types: Sequence[str] | None = None,
    channel_map: Mapping[str, str] | None = None,
    allow_type_change: bool = False,
    source: str,
) -> list[dict[str, Any]]:
    """Return the pipeline spec turning the stream into the model's input (may be empty).

    Parameters
    ----------
    card : ModelCard
        The model's channels, types, rate and declared preprocessing.
    ch_names, ch_types : sequence of str
        The stream's channels and their MNE types (types unknown when None).
    sfreq : float
        The stream's rate.
    channel_map : mapping, optional
        ``{model channel: stream channel}`` for channels named differently.
    allow_type_change : bool
        Accept a map across channel types, or a map with a rate change.
    source : str
        Names the stream and model in errors.

    Raises
    ------
    ChannelMismatchError
        When model channels are missing from the stream, or the map crosses channel types
        and ``allow_type_change`` is False.
    SamplingRateError
        When the rates differ and the model's card forbids resampling, or a map comes with
        a rate change and ``allow_type_change`` is False.
    """
    picks = stream_channels(card, ch_names, channel_map=channel_map, source=source)
    spec: list[dict[str, Any]] = []
    if picks != list(ch_names):
        spec.append({"step": "pick", "channels": picks})
    if not np.isclose(sfreq, card.sfreq):
        if not card.resample:
            raise SamplingRateError(
                source,
                f"sampled at {sfreq:g} Hz but model {card.decoder} takes {card.sfreq:g} Hz and "
                "its card does not allow resampling; stream at the model's rate or re-export "
                "it allowing resampling",
            )
        spec.append({"step": "resample", "sfreq_out": card.sfreq})
    if channel_map and not allow_type_change:
        _check_map(card, ch_names, ch_types, sfreq, channel_map, source)
    spec.extend(dict(step) for step in card.pipeline)
    return spec


def _check_map(
    card: ModelCard,
    ch_names: Sequence[str],
    ch_types: Sequence[str] | None,
    sfreq: float,
    channel_map: Mapping[str, str],
    source: str,
) -> None:
    """Refuse a map across channel types, or a map with a rate change."""
    crossing = [
        f"{model} ({kind} in the model) <- {stream} ({stream_kind})"
        for model, stream, kind, stream_kind in _mapped(card, ch_names, ch_types, channel_map)
        if stream_kind not in (kind, None)
    ]
    if crossing:
        raise ChannelMismatchError(
            source,
            f"the channel map feeds {len(crossing)} model channel(s) from channels of another "
            f"type: {', '.join(crossing[:6])}{' ...' if len(crossing) > 6 else ''}; the model "
            "was not trained on such signals. Give --allow-type-change if this is intended",
        )
    if not np.isclose(sfreq, card.sfreq):
        raise SamplingRateError(
            source,
            f"a channel map and a rate change together ({sfreq:g} Hz stream, model at "
            f"{card.sfreq:g} Hz): the model would see other channels at another rate than it "
            "was trained on. Give --allow-type-change if this is intended",
        )


def _mapped(
    card: ModelCard,
    ch_names: Sequence[str],
    ch_types: Sequence[str] | None,
    channel_map: Mapping[str, str],
) -> list[tuple[str, str, str, str | None]]:
    """Return (model channel, stream channel, model type, stream type) of each mapped channel."""
    stream_types = dict(zip(ch_names, ch_types, strict=True)) if ch_types is not None else {}
    model_types = dict(zip(card.ch_names, card.ch_types, strict=True))
    return [
        (model, stream, model_types[model], stream_types.get(stream))
        for model, stream in channel_map.items()
        if model != stream
    ]


def describe_adaptation(
    card: ModelCard,
    ch_names: Sequence[str],
    ch_types: Sequence[str] | None,
    sfreq: float,
    channel_map: Mapping[str, str] | None = None,
) -> list[str]:
    """Return one line per change made to the stream before the model sees it (may be empty).

    Channels read from other names (with their types) and resampling; channels picked or
    reordered by name change nothing in the signals and are not listed.
    """
    lines = []
    for model, stream, kind, stream_kind in _mapped(card, ch_names, ch_types, channel_map or {}):
        lines.append(
            f"channel map: model channel {model} ({kind}) <- stream channel {stream} "
            f"({stream_kind or 'type unknown'})"
        )
    if not np.isclose(sfreq, card.sfreq):
        lines.append(f"resampling: stream at {sfreq:g} Hz -> model at {card.sfreq:g} Hz")
    return lines
