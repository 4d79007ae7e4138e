"""Live ranking of speech candidates: the ranker, verified candidate sets, the runner's stage."""

import numpy as np
import pytest

from bci_app.errors import LiveError, ModelIntegrityError
from bci_app.inference.ranking import CandidateRanker
from bci_app.models.candidates import CandidateSet, CandidateStore
from bci_app.models.format import ModelCard
from bci_app.models.registry import ModelRegistry

SPEECH = {"features": {"kind": "mel", "n_mels": 2}, "window_s": 1.0}


def card(dimension=3, kind="embedding"):
    return ModelCard(
        decoder="brain-speech",
        ch_names=("E0",),
        ch_types=("eeg",),
        sfreq=40.0,
        n_times=40,
        hop_s=0.5,
        output_kind=kind,
        output_names=tuple(f"o{i}" for i in range(dimension)),
        graph="window",
        input_name="window",
        output_name="output",
        resample=True,
        card={"extra": {"speech": SPEECH}},
    )


def candidates(n=1000, dimension=3, seed=0):
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(n, dimension)).astype(np.float32)
    names = tuple(f"sentence{i:04d}.wav@0.00" for i in range(n))
    return CandidateSet(names, embeddings, dict(SPEECH))


def test_the_top_k_are_the_most_similar_candidates_best_first():
    pool = candidates()
    ranker = CandidateRanker(pool, card(), 10, "set")
    query = np.array([0.3, -1.0, 2.0], dtype=np.float32)
    ranking = ranker.rank(query)
    unit = pool.embeddings / np.linalg.norm(pool.embeddings, axis=1, keepdims=True)
    expected = np.argsort(-(unit @ (query / np.linalg.norm(query))))[:10]
    assert list(ranking.indices) == list(expected)
    assert ranking.names[0] == pool.names[expected[0]] and np.all(np.diff(ranking.scores) <= 0)
    assert ranking.to_dict()["indices"] == [int(i) for i in expected]


def test_a_candidate_set_of_another_dimension_or_features_or_empty_is_refused():
    with pytest.raises(LiveError, match="candidate embeddings have 4 values; the model"):
        CandidateRanker(candidates(dimension=4), card(3), 10, "set")
    other = CandidateSet(("a",), np.ones((1, 3), np.float32), {**SPEECH, "window_s": 3.0})
    with pytest.raises(LiveError, match="other window_s than the model's"):
        CandidateRanker(other, card(3), 10, "set")
    with pytest.raises(LiveError, match="gives probabilities, not speech embeddings"):
        CandidateRanker(candidates(), card(3, "probabilities"), 10, "set")
    empty = CandidateSet((), np.zeros((0, 3), np.float32), SPEECH).to_bytes()
    with pytest.raises(LiveError, match="the candidate set is empty"):
        CandidateSet.from_bytes(empty, "empty.npz")


def test_registered_candidate_sets_are_verified_by_sha256(tmp_path):
    path = tmp_path / "sentences.npz"
    path.write_bytes(candidates(50).to_bytes())
    store = CandidateStore(ModelRegistry(tmp_path / "registry"))
    record = store.register(path, "sentences")
    assert (record.ref, record.size, record.dimension) == ("sentences:1", 50, 3)
    _, loaded = store.load("sentences")
    assert loaded.names == candidates(50).names and loaded.settings == SPEECH
    assert store.register(path, "sentences").version == 2
    stored = tmp_path / "registry" / record.file
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelIntegrityError, match="changed after registration"):
        store.load("sentences:1")
    with pytest.raises(LiveError, match=r"no such candidate set .* \(registered: sentences\)"):
        store.load("words")
