"""Classification and retrieval metrics."""

from __future__ import annotations

import numpy as np

CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "kappa", "auroc")


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
    true = similarity[np.arange(similarity.shape[0]), np.arange(similarity.shape[0])]
    rank = np.sum(similarity >= true[:, None], axis=1)  # 1 = best; ties ranked pessimistically
    return float(np.mean(rank <= k))


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
