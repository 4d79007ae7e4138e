import numpy as np
import pytest

from bci_app.inference.prediction import Prediction
from bci_app.inference.ranking import Ranking
from bci_app.inference.tracing import LatencyTrace
from bci_app.models.candidates import CandidateSet, CandidateStore
from bci_app.models.registry import ModelRegistry
from gui.decoder.ranking_view import NO_SET, RankingView

pytestmark = pytest.mark.gui


def test_the_ranking_view_offers_registered_sets_and_shows_the_best_candidates(qtbot, tmp_path):
    registry = ModelRegistry(tmp_path)
    path = tmp_path / "set.npz"
    path.write_bytes(CandidateSet(("a@0.00", "b@0.00"), np.eye(2, dtype=np.float32), {}).to_bytes())
    CandidateStore(registry).register(path, "sentences")
    view = RankingView()
    qtbot.addWidget(view)
    view.refresh(registry)
    assert [view.sets.itemText(i) for i in range(view.sets.count())] == [NO_SET, "sentences"]
    assert view.chosen() is None
    view.sets.setCurrentText("sentences")
    assert view.chosen() == "sentences"

    ranking = Ranking(("b@0.00", "a@0.00"), np.array([1, 0]), np.array([0.9, 0.1]))
    trace = LatencyTrace(1.0, 0.1, 0.2, 0.3, 0.05, 1.7, ranking=0.04)
    view.show_ranking(
        Prediction("speech", "speech:1", 1.0, np.zeros(2), ("x", "y"), trace, ranking=ranking)
    )
    assert view.table.item(0, 0).text() == "1. b@0.00" and view.table.item(0, 1).text() == "0.900"
    assert "0.04 ms" in view.status.text() and view.table.isVisibleTo(view)
