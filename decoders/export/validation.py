"""The validation trials a deployed decoder was selected on, rebuilt from its card.

``bci-app train`` deploys the decoder fitted in its first seed and fold, on the training part
of that fold minus a stratified validation share; the card records the data request, the
protocol and that seed and fold, so the same validation trials can be cut again here.
"""

from __future__ import annotations

from pathlib import Path

from decoders.card import DecoderCard
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet


def validation_trials(
    card: DecoderCard, *, source: str | None = None, valid_fraction: float = 0.2
) -> TrialSet:
    """Return the validation trials of the decoder described by ``card``.

    Parameters
    ----------
    card : DecoderCard
        The deployed decoder's card.
    source : str, optional
        Data source (as for ``bci-app train --data``) replacing the card's own.
    valid_fraction : float
        Share of the fold's training part held out for validation (``train``'s default).

    Raises
    ------
    DataError
        When neither the card nor ``source`` says where the data are.
    """
    from decoders.evaluation.protocols import make_protocol, validation_split
    from decoders.training.sources import DataRequest, load_training_data

    request = dict(card.data.get("request") or {})
    if source is not None and request.get("source") != source:
        request = {"source": source}
    if not request:
        raise DataError(
            card.decoder, "its card does not say what it was trained on: give the data source"
        )
    if request.get("label_file"):
        request["label_file"] = Path(request["label_file"])
    for key in ("classes", "crop"):
        if request.get(key) is not None:
            request[key] = tuple(request[key])
    data = load_training_data(DataRequest(**request))
    deployed = card.extra.get("deployed_from", {})
    seed = int(deployed.get("seed", card.config.get("seed", 0)))
    protocol = make_protocol(card.evaluation.get("protocol", "official"))
    folds = {fold.name: fold for fold in protocol.folds(data, seed)}
    fold = folds.get(deployed.get("fold"), next(iter(folds.values())))
    return validation_split(fold.train, valid_fraction, seed)[1]
