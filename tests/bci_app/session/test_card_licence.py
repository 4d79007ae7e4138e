"""The card view flags a model whose code may not be used commercially."""

from bci_app.models.format import ModelCard
from bci_app.session.models import summarize_card


def _card(extra):
    return ModelCard(
        "brainmodule", ("C3", "C4"), ("eeg", "eeg"), 100.0, 100, 0.1, "probabilities",
        ("a", "b"), "window", "window", "output", True, card={"extra": extra},
    )  # fmt: skip


def test_a_non_commercial_licence_is_flagged_in_the_card_view():
    flagged = dict(summarize_card(_card({"licence": "cc-by-nc-4.0", "non_commercial": True})).model)
    assert flagged["model licence"] == "cc-by-nc-4.0 - NON-COMMERCIAL use only"
    plain = dict(summarize_card(_card({"licence": "bsd-3-clause", "non_commercial": False})).model)
    assert plain["model licence"] == "bsd-3-clause"
    assert "model licence" not in dict(summarize_card(_card({})).model)
