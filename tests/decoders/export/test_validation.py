import numpy as np
import pytest

from decoders import registry
from decoders.card import DecoderCard
from decoders.datasets.errors import DataError
from decoders.datasets.loaders import load_trial_set
from decoders.evaluation.protocols import validation_split
from decoders.export.validation import validation_trials


def test_validation_trials_are_rebuilt_from_the_card(real_data):
    split = load_trial_set("HandMovementDirection", real_data)
    fit, valid = validation_split(split.train, 0.2, 3)
    decoder = registry.create("csp-lda", seed=3, n_components=2).fit(fit, valid)
    card = DecoderCard.for_decoder(
        decoder,
        data={"request": {"source": "HandMovementDirection"}},
        extra={"deployed_from": {"seed": 3, "fold": "official"}},
    )

    rebuilt = validation_trials(card)

    assert np.array_equal(rebuilt.data, valid.data) and np.array_equal(rebuilt.labels, valid.labels)


def test_a_card_without_data_source_asks_for_one(toy_split):
    decoder = registry.create("csp-lda", n_components=2).fit(*toy_split)
    with pytest.raises(DataError, match="does not say what it was trained on"):
        validation_trials(DecoderCard.for_decoder(decoder))
