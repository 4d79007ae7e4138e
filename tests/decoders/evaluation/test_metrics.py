import numpy as np
import pytest

from decoders.evaluation.metrics import (
    balanced_accuracy,
    classification_metrics,
    cohen_kappa,
    macro_auroc,
    top_k_accuracy,
    top_k_retrieval,
)


def test_balanced_accuracy_weights_classes_equally():
    y_true = np.array([0] * 8 + [1] * 2)
    y_pred = np.zeros(10, dtype=int)  # majority guess: 80 % accuracy, 50 % balanced
    assert balanced_accuracy(y_true, y_pred) == pytest.approx(0.5)


def test_kappa_is_zero_for_chance_and_one_for_perfect():
    y = np.array([0, 1, 2, 0, 1, 2])
    assert cohen_kappa(y, y) == pytest.approx(1.0)
    assert cohen_kappa(y, np.zeros(6, dtype=int)) == pytest.approx(0.0)


def test_macro_auroc_hand_computed():
    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.35, 0.65], [0.2, 0.8]])
    # positives 0.65, 0.8 vs negatives 0.1, 0.6: all 4 pairs ordered correctly
    assert macro_auroc(y, proba) == pytest.approx(1.0)
    proba[1] = [0.1, 0.9]  # negative now above both positives: 2 of 4 pairs right
    assert macro_auroc(y, proba) == pytest.approx(0.5)


def test_macro_auroc_multiclass_and_single_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    proba = np.eye(3)[y] + rng.uniform(0, 0.1, (90, 3))
    assert macro_auroc(y, proba / proba.sum(1, keepdims=True)) == pytest.approx(1.0)
    assert np.isnan(macro_auroc(np.zeros(5, dtype=int), np.full((5, 3), 1 / 3)))


def test_top_k_accuracy_and_retrieval():
    scores = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    assert top_k_accuracy(np.array([2, 0]), scores, 1) == 0.5
    assert top_k_accuracy(np.array([2, 0]), scores, 2) == 1.0
    similarity = np.array([[0.9, 0.1, 0.2, 0.0], [0.8, 0.5, 0.1, 0.0], [0.3, 0.2, 0.1, 0.4]])
    # ranks of the diagonal (0.9, 0.5, 0.1 among their rows): 1, 2, 4
    assert top_k_retrieval(similarity, 1) == pytest.approx(1 / 3)
    assert top_k_retrieval(similarity, 3) == pytest.approx(2 / 3)
    assert top_k_retrieval(similarity, 4) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        top_k_retrieval(similarity.T, 1)


def test_classification_metrics_keys():
    y = np.array([0, 1, 1, 0])
    out = classification_metrics(y, np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]]))
    assert out["accuracy"] == 0.75
    assert set(out) == {"accuracy", "balanced_accuracy", "kappa", "auroc"}


def test_retrieval_ranks_by_cosine_with_ties_against_the_truth():
    from decoders.evaluation.metrics import retrieval_metrics, retrieval_ranks

    candidates = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    queries = np.array([[2.0, 0.1], [0.0, 3.0], [1.0, 0.0], [5.0, 5.0]])
    truth = np.array([0, 1, 3, 2])
    # query 2 points at candidate 0; its truth (3) is opposite: rank 4 of 4
    assert list(retrieval_ranks(queries, candidates, truth)) == [1, 1, 4, 1]
    tied = retrieval_ranks(
        np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([1])
    )
    assert list(tied) == [2]  # as similar as another candidate: ranked after it
    metrics = retrieval_metrics(np.array([1, 1, 4, 1]), 4)
    assert metrics["top1"] == 0.75 and metrics["top10"] == 1.0 and metrics["median_rank"] == 1.0
    assert (metrics["chance_top1"], metrics["chance_top10"], metrics["chance_median_rank"]) == (
        0.25,
        1.0,
        2.5,
    )


def test_retrieval_among_a_drawn_subset_of_candidates():
    from decoders.evaluation.metrics import retrieval_ranks

    rng = np.random.default_rng(0)
    candidates = rng.normal(size=(200, 16))
    truth = np.arange(50)
    perfect = retrieval_ranks(candidates[:50], candidates, truth, n_candidates=20, seed=1)
    assert np.all(perfect == 1)
    random = retrieval_ranks(rng.normal(size=(50, 16)), candidates, truth, n_candidates=20, seed=1)
    assert random.max() <= 20 and 5 < np.median(random) < 16
    with pytest.raises(ValueError, match="at least 2 candidates"):
        retrieval_ranks(candidates[:2], candidates, truth[:2], n_candidates=1)
