"""Classification and retrieval metrics."""

from __future__ import annotations

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "kappa", "auroc")
RETRIEVAL_METRICS = ("top1", "top10", "median_rank")


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the fraction of correct predictions."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return the mean of per-class recalls over the classes present in ``y_true``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]
    return float(np.mean(recalls))


def cohen_kappa(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Return Cohen's kappa: agreement beyond chance (1 perfect, 0 chance)."""
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score(y_true, y_pred))


def macro_auroc(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Return the area under the ROC curve, one-vs-rest and macro-averaged for many classes.

    Classes absent from ``y_true`` are left out of the average; NaN when only one is present.
    """
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true)
    present = np.unique(y_true)
    if present.size < 2:
        return float("nan")
    if proba.shape[1] == 2:
        return float(roc_auc_score(y_true, proba[:, 1]))
    scores = [roc_auc_score(y_true == c, proba[:, c]) for c in present]
    return float(np.mean(scores))


def top_k_accuracy(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Return the fraction of rows whose true class is among the ``k`` highest scores."""
    top = np.argsort(-scores, axis=1)[:, :k]
    return float(np.mean(np.any(top == np.asarray(y_true)[:, None], axis=1)))


def top_k_retrieval(similarity: np.ndarray, k: int) -> float:
    """Return top-k retrieval accuracy of a query-by-candidate similarity matrix.

    Row ``i`` is a query whose true match is candidate ``i`` (the diagonal); a query counts
    when its match ranks among the ``k`` most similar candidates (ties count against it).
    """
    similarity = np.asarray(similarity, dtype=float)
    if similarity.ndim != 2 or similarity.shape[0] > similarity.shape[1]:
        raise ValueError(f"need a (queries, candidates >= queries) matrix, got {similarity.shape}")
    return float(np.mean(ranks_of_truth(similarity, np.arange(similarity.shape[0])) <= k))


def ranks_of_truth(similarity: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Return the rank (1 = best) of each query's true candidate ``truth[i]`` in row ``i``.

    Ties are ranked pessimistically: a candidate as similar as the truth ranks before it.
    """
    rows = np.arange(similarity.shape[0])
    true = similarity[rows, truth]
    return np.sum(similarity >= true[:, None], axis=1)


def retrieval_ranks(
    queries: np.ndarray,
    candidates: np.ndarray,
    truth: np.ndarray,
    n_candidates: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Return the rank of each query's true candidate by cosine similarity.

    Parameters
    ----------
    queries : ndarray, shape (n_queries, dimension)
        Predicted embeddings (brain windows mapped into the candidates' space).
    candidates : ndarray, shape (n_candidates_total, dimension)
        The candidate embeddings.
    truth : ndarray of int, shape (n_queries,)
        Row of each query's true candidate.
    n_candidates : int, optional
        Rank among this many candidates: the truth and ``n_candidates - 1`` others drawn at
        random for each query (default: all of them).
    seed : int
        Seeds the draw.
    """
    similarity = _unit(queries) @ _unit(candidates).T
    total = similarity.shape[1]
    if n_candidates is None or n_candidates >= total:
        return ranks_of_truth(similarity, truth)
    if n_candidates < 2:
        raise ValueError(f"ranking needs at least 2 candidates, got {n_candidates}")
    rng = np.random.default_rng(seed)
    ranks = np.empty(len(truth), dtype=int)
    for row, true in enumerate(truth):
        others = np.delete(np.arange(total), true)
        drawn = rng.choice(others, n_candidates - 1, replace=False)
        ranks[row] = 1 + int(np.sum(similarity[row, drawn] >= similarity[row, true]))
    return ranks


def retrieval_metrics(ranks: np.ndarray, n_candidates: int) -> dict[str, float]:
    """Return top-1, top-10 and median rank of ``ranks`` among ``n_candidates``, with chance."""
    ranks = np.asarray(ranks)
    return {
        "top1": float(np.mean(ranks <= 1)),
        "top10": float(np.mean(ranks <= 10)),
        "median_rank": float(np.median(ranks)),
        "n_candidates": float(n_candidates),
        "chance_top1": 1.0 / n_candidates,
        "chance_top10": min(10, n_candidates) / n_candidates,
        "chance_median_rank": (n_candidates + 1) / 2.0,
    }


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Return accuracy, balanced accuracy, Cohen's kappa and macro AUROC from probabilities."""
    proba = np.asarray(proba, dtype=float)
    y_pred = proba.argmax(axis=1)
    return {
        "accuracy": accuracy(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy(y_true, y_pred),
        "kappa": cohen_kappa(y_true, y_pred),
        "auroc": macro_auroc(y_true, proba),
    }
