"""A site's side of secure aggregation: Flower's SecAgg+ mod, and the update it masks.

With ``secure-aggregation`` the server runs Flower's ``SecAggPlusWorkflow``: four training
messages per round (set-up, key sharing, masked update, unmasking), which Flower's
``secaggplus_mod`` answers; only the third reaches the site's training, in Flower's legacy
``FitIns`` form (arrays by position; the server sends their names in ``array-names``). The
site replies with its update's difference from the received model (small numbers, so the
protocol's fixed-point quantisation keeps them precise) and its training-trial count as the
weight; the mod scales it by the weight, quantises, masks and sends it, and clears the arrays
from the reply. The server thus never sees one site's update, only the weighted sum.

Quantisation clips each weighted value to :data:`CLIPPING_RANGE`; a site checks its update
fits (and holds no NaN/Inf: the server cannot screen what it cannot see) before sending.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from flwr.app import ConfigRecord, Context, Message
    from flwr.clientapp.typing import ClientAppCallable

CLIPPING_RANGE = 1.0
"""Range [-r, r] of a weighted update value in SecAgg+'s quantisation."""
QUANTIZATION_RANGE = 2**24
"""Quantisation levels over that range (the modulus, 2**32, leaves room for 256 sites)."""
MAX_WEIGHT = 10_000.0
"""A site's weight (training trials) is divided by this before quantisation (at most 1)."""
NAMES_KEY = "array-names"


def secure_aggregation_mod(message: Message, context: Context, call_next: ClientAppCallable):
    """Answer SecAgg+ messages with Flower's ``secaggplus_mod``; pass the others on."""
    from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS

    if RECORD_KEY_CONFIGS not in message.content.config_records:
        return call_next(message, context)
    from flwr.client.mod import secaggplus_mod

    return secaggplus_mod(message, context, call_next)


def is_secure(message: Message) -> bool:
    """Return True for the masked-update message of SecAgg+ (Flower's legacy ``FitIns``)."""
    return "fitins.parameters" in message.content.array_records


def received_model(message: Message) -> tuple[dict[str, np.ndarray], dict]:
    """Return the named arrays and the config of a SecAgg+ training message."""
    from flwr.common import parameters_to_ndarrays
    from flwr.compat.common.recorddict_compat import recorddict_to_fitins

    fitins = recorddict_to_fitins(message.content, keep_input=True)
    config = dict(fitins.config)
    names = json.loads(str(config[NAMES_KEY]))
    arrays = parameters_to_ndarrays(fitins.parameters)
    return dict(zip(names, arrays, strict=True)), config


def masked_reply(
    message: Message,
    site: str,
    update: Mapping[str, np.ndarray],
    received: Mapping[str, np.ndarray],
    weight: int,
    metrics: Mapping[str, float],
    extra: Mapping[str, ConfigRecord] | None = None,
) -> Message:
    """Return the reply the SecAgg+ mod masks: the update minus the received model, weighted.

    ``extra`` records travel beside it (in the clear).

    Raises
    ------
    ValueError
        When the difference holds NaN/Inf, the weight exceeds :data:`MAX_WEIGHT`, or a
        weighted value falls outside the quantisation range (it would be clipped silently).
    """
    from flwr.app import ConfigRecord, Message
    from flwr.common import Code, FitRes, Status, ndarrays_to_parameters
    from flwr.compat.common.recorddict_compat import fitres_to_recorddict

    if weight > MAX_WEIGHT:
        raise ValueError(
            f"site {site}: {weight} training trials exceed the weight SecAgg+ is set up for "
            f"({MAX_WEIGHT:g})"
        )
    difference = [np.asarray(update[name], np.float64) - received[name] for name in received]
    if not all(np.isfinite(array).all() for array in difference):
        raise ValueError(f"site {site}: its update holds NaN/Inf; not sent")
    largest = max((float(np.abs(array).max(initial=0.0)) for array in difference), default=0.0)
    if largest * weight / MAX_WEIGHT > CLIPPING_RANGE:
        raise ValueError(
            f"site {site}: an update value of {largest:.3g} x weight {weight} / "
            f"{MAX_WEIGHT:g} exceeds SecAgg+'s quantisation range ({CLIPPING_RANGE:g}); "
            "lower lr or local-steps"
        )
    fitres = FitRes(
        Status(Code.OK, "trained"),
        ndarrays_to_parameters([array.astype(np.float32) for array in difference]),
        int(weight),
        {key: float(value) for key, value in metrics.items()} | {"site": site},
    )
    content = fitres_to_recorddict(fitres, keep_input=False)
    content["site"] = ConfigRecord({"name": site})
    for key, record in (extra or {}).items():
        content[key] = record
    return Message(content=content, reply_to=message)
