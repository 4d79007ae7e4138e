"""Live ranking of speech candidates: the model's embedding against a candidate set, in numpy.

For each window the speech model outputs an embedding in the space of the speech features;
its cosine similarity with every candidate segment's embedding (a verified candidate set,
:mod:`bci_app.models.candidates`) ranks the candidates, and the top ``k`` are published as
an LSL stream of ``2k`` float channels (the candidates' indices in the set, then their
scores; the set's names are in the stream header).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bci_app.errors import LiveError
from bci_app.models.candidates import CandidateSet
from bci_app.models.format import ModelCard

RANKING_TYPE = "Ranking"


@dataclass(frozen=True)
class Ranking:
    """The best candidates of one window: their names, indices in the set and scores."""

    names: tuple[str, ...]
    indices: np.ndarray
    scores: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-serialisable data."""
        return {
            "names": list(self.names),
            "indices": [int(i) for i in self.indices],
            "scores": [float(s) for s in self.scores],
        }


class CandidateRanker:
    """Rank a candidate set by a model's embeddings.

    Parameters
    ----------
    candidates : CandidateSet
        The segments that may be heard.
    card : ModelCard
        The speech model's card (an ``embedding`` model with speech settings).
    top_k : int
        Candidates kept per window.
    source : str
        Names the set in messages.

    Raises
    ------
    LiveError
        When the model gives no embedding, or the set was made with other features or has
        another dimension than the model's output.
    """

    def __init__(self, candidates: CandidateSet, card: ModelCard, top_k: int, source: str) -> None:
        if card.output_kind != "embedding":
            raise LiveError(
                card.decoder, f"gives {card.output_kind}, not speech embeddings to rank"
            )
        if candidates.dimension != len(card.output_names):
            raise LiveError(
                source,
                f"candidate embeddings have {candidates.dimension} values; the model "
                f"({card.decoder}) outputs {len(card.output_names)}: make the set with this "
                "model's settings (bci-app candidates --model ...)",
            )
        speech = card.card.get("extra", {}).get("speech", {})
        for key in ("features", "window_s"):
            if key in speech and candidates.settings.get(key) != speech[key]:
                raise LiveError(
                    source, f"was made with other {key} than the model's ({speech[key]})"
                )
        if top_k < 1:
            raise LiveError(source, f"top-k must be at least 1, got {top_k}")
        from threadpoolctl import threadpool_limits

        # One BLAS thread, as ONNX Runtime runs with one intra-op thread: a second thread
        # gains nothing on a (1000 x d) product and costs tens of ms when the core is busy.
        threadpool_limits(1, user_api="blas")
        self.names = candidates.names
        self.top_k = min(top_k, len(candidates.names))
        norms = np.linalg.norm(candidates.embeddings, axis=1, keepdims=True)
        self.matrix = (candidates.embeddings / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def rank(self, embedding: np.ndarray) -> Ranking:
        """Return the ``top_k`` candidates most similar to ``embedding``, best first."""
        norm = float(np.linalg.norm(embedding))
        scores = self.matrix @ (np.asarray(embedding, dtype=np.float32) / (norm or 1.0))
        if self.top_k < len(scores):
            best = np.argpartition(-scores, self.top_k - 1)[: self.top_k]
        else:
            best = np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return Ranking(tuple(self.names[i] for i in best), best, scores[best])


class RankingOutlet:
    """The top-k candidates of each window as an irregular float32 LSL stream.

    Channels ``rank1_index`` ... ``rankK_index`` then ``rank1_score`` ... ``rankK_score``;
    the candidate names, in index order, are in the header (``desc/candidates``).
    """

    def __init__(
        self, name: str, ranker: CandidateRanker, *, source_id: str, model: str, candidates: str
    ) -> None:
        import pylsl

        k = ranker.top_k
        info = pylsl.StreamInfo(name, RANKING_TYPE, 2 * k, 0.0, "float32", source_id)
        channels = info.desc().append_child("channels")
        for label in [f"rank{r}_index" for r in range(1, k + 1)] + [
            f"rank{r}_score" for r in range(1, k + 1)
        ]:
            channels.append_child("channel").append_child_value("label", label)
        info.desc().append_child("model").append_child_value("ref", model)
        listing = info.desc().append_child("candidates")
        listing.append_child_value("set", candidates)
        for candidate in ranker.names:
            listing.append_child_value("name", candidate)
        self.name = name
        self._outlet = pylsl.StreamOutlet(info)

    def push(self, ranking: Ranking, timestamp: float) -> None:
        """Publish one window's ranking, stamped with its last sample's time."""
        sample = np.concatenate([ranking.indices, ranking.scores]).astype(np.float32)
        self._outlet.push_sample(sample, timestamp)

    def close(self) -> None:
        """Remove the stream from the network."""
        self._outlet = None
