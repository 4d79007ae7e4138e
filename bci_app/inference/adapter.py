"""From a stream to what a model takes: channel mapping, resampling, declared preprocessing.

The result is an acquisition pipeline spec applied causally to the stream before windows
are cut: pick (and order) the model's channels, resample to the model's rate when the card
allows it, then the model's declared filters at that rate.
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
    channel_map: Mapping[str, str] | None = None,
    source: str,
) -> list[dict[str, Any]]:
    """Return the pipeline spec turning the stream into the model's input (may be empty).

    Raises
    ------
    ChannelMismatchError
        When model channels are missing from the stream.
    SamplingRateError
        When the rates differ and the model's card forbids resampling.
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
    spec.extend(dict(step) for step in card.pipeline)
    return spec
