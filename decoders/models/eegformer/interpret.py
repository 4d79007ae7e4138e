"""What EEGFormer's tokens say: codebook usage per class, a naive-Bayes token detector, maps.

Every window becomes a grid of codes (channels x token positions). A multinomial naive Bayes
classifier over the window's code n-grams (codes and pairs of successive codes within a
channel, pooled over channels) is the paper's interpretable detector: it needs no gradient
and its parameters say which codes speak for which class. The evidence of a code for a class
is its log-likelihood under that class minus its mean log-likelihood under the others;
mapping each token of a window to the evidence of its code for the decided class shows, per
channel and time, the tokens that drove the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


def ngram_counts(codes: np.ndarray, n_codes: int):
    """Return per-window counts of codes and of successive code pairs (sparse, n x K + K^2).

    ``codes`` is (n_windows, n_channels, n_tokens); pairs never span two channels.
    """
    from scipy.sparse import coo_matrix, hstack

    n, channels, tokens = codes.shape
    rows = np.repeat(np.arange(n), channels * tokens)
    unigrams = coo_matrix(
        (np.ones(rows.size), (rows, codes.reshape(-1))), shape=(n, n_codes)
    ).tocsr()
    pairs = codes[:, :, :-1] * n_codes + codes[:, :, 1:]
    pair_rows = np.repeat(np.arange(n), channels * max(tokens - 1, 0))
    bigrams = coo_matrix(
        (np.ones(pair_rows.size), (pair_rows, pairs.reshape(-1))), shape=(n, n_codes * n_codes)
    ).tocsr()
    return hstack([unigrams, bigrams]).tocsr()


def usage_by_class(codes: np.ndarray, labels: np.ndarray, n_classes: int, n_codes: int):
    """Return each class's share of every code (n_classes, n_codes), rows summing to 1."""
    usage = np.zeros((n_classes, n_codes))
    for label in range(n_classes):
        chosen = codes[labels == label].reshape(-1)
        usage[label] = np.bincount(chosen, minlength=n_codes)
    return usage / np.maximum(usage.sum(axis=1, keepdims=True), 1)


@dataclass
class TokenNaiveBayes:
    """Multinomial naive Bayes over the code n-grams of windows.

    Parameters
    ----------
    n_codes : int
        Codebook size.
    alpha : float
        Additive smoothing.
    """

    n_codes: int
    alpha: float = 1.0

    def fit(self, codes: np.ndarray, labels: np.ndarray, n_classes: int) -> TokenNaiveBayes:
        """Fit on windows' codes (n, channels, tokens) and their class indices."""
        from sklearn.naive_bayes import MultinomialNB

        self.n_classes = n_classes
        self.model_ = MultinomialNB(alpha=self.alpha).fit(ngram_counts(codes, self.n_codes), labels)
        return self

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        """Return class probabilities (n, n_classes) of windows' codes."""
        proba = np.zeros((len(codes), self.n_classes))
        proba[:, self.model_.classes_] = self.model_.predict_proba(
            ngram_counts(codes, self.n_codes)
        )
        return proba

    def evidence(self) -> np.ndarray:
        """Return each code's evidence for each class (n_classes, n_codes), in nats.

        ``log p(code | class) - mean over the other classes of log p(code | other)``, from
        the unigram part of the model.
        """
        log_probability = np.full((self.n_classes, self.n_codes), -np.inf)
        unigram = self.model_.feature_log_prob_[:, : self.n_codes]
        log_probability[self.model_.classes_] = unigram
        finite = np.where(np.isfinite(log_probability), log_probability, unigram.min())
        evidence = np.zeros_like(finite)
        for label in range(self.n_classes):
            others = np.delete(finite, label, axis=0)
            evidence[label] = finite[label] - others.mean(axis=0)
        return evidence


def token_map(codes: np.ndarray, evidence: np.ndarray, label: int) -> np.ndarray:
    """Return the evidence of every token (channels, tokens) of one window for ``label``."""
    return evidence[label][codes]


def plot_token_map(
    grid: np.ndarray,
    codes: np.ndarray,
    ch_names: tuple[str, ...],
    token_s: float,
    title: str,
    path: Path,
) -> None:
    """Draw a window's per-channel, per-time token evidence (codes written in) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    channels, tokens = grid.shape
    limit = float(np.max(np.abs(grid))) or 1.0
    figure, axis = plt.subplots(figsize=(min(2 + 0.45 * tokens, 14), 1 + 0.32 * channels))
    image = axis.imshow(
        grid,
        aspect="auto",
        cmap="RdBu_r",
        vmin=-limit,
        vmax=limit,
        extent=(0, tokens * token_s, channels - 0.5, -0.5),
    )
    if tokens * channels <= 400:
        for (row, column), code in np.ndenumerate(codes):
            axis.text(
                (column + 0.5) * token_s, row, str(code), ha="center", va="center", fontsize=6
            )
    axis.set_yticks(range(channels), ch_names, fontsize=7)
    axis.set_xlabel("time in the window (s)")
    figure.colorbar(image, ax=axis, label="evidence for the decision (nats)")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_usage(usage: np.ndarray, classes: tuple[str, ...], path: Path) -> None:
    """Draw each class's codebook usage (codes sorted by overall use) to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(-usage.sum(axis=0))
    used = order[: max(1, int((usage.sum(axis=0) > 0).sum()))]
    figure, axis = plt.subplots(figsize=(7.5, 3.2))
    for label, name in enumerate(classes):
        axis.plot(range(len(used)), usage[label, used], label=name, drawstyle="steps-mid")
    axis.set_xlabel("code (sorted by overall use)")
    axis.set_ylabel("share of tokens")
    axis.legend(frameon=False)
    axis.set_title("codebook usage per class (validation windows)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
