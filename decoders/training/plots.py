"""Learning-curve and confusion-matrix figures written beside a trained decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_epoch_curve(
    epochs: list[dict[str, float]], best_epoch: int, path: Path, title: str
) -> None:
    """Plot training/validation loss and validation accuracy per epoch to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [e["epoch"] for e in epochs]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(9, 3.4))
    loss_axis.plot(x, [e["train_loss"] for e in epochs], label="training")
    loss_axis.plot(x, [e["valid_loss"] for e in epochs], label="validation")
    accuracy_axis.plot(x, [e["valid_accuracy"] for e in epochs], color="C2")
    for axis, label in ((loss_axis, "cross-entropy"), (accuracy_axis, "validation accuracy")):
        axis.axvline(best_epoch, color="0.5", linestyle=":", label="kept weights")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
    loss_axis.legend(frameon=False)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_size_curve(sizes: list[int], scores: list[float], path: Path, title: str) -> None:
    """Plot validation accuracy against the number of training trials to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(4.8, 3.4))
    axis.plot(sizes, scores, marker="o")
    axis.set_xlabel("training trials")
    axis.set_ylabel("validation accuracy")
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_confusion(counts: np.ndarray, classes: tuple[str, ...], path: Path, title: str) -> None:
    """Plot a row-normalised confusion matrix (true class per row) with counts to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros_like(counts, dtype=float), where=rows > 0)
    size = 1.2 + 0.7 * len(classes)
    figure, axis = plt.subplots(figsize=(size + 1, size))
    image = axis.imshow(normalised, vmin=0, vmax=1, cmap="Blues")
    for (i, j), value in np.ndenumerate(counts):
        color = "white" if normalised[i, j] > 0.6 else "black"
        axis.text(j, i, f"{int(value)}", ha="center", va="center", color=color)
    axis.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axis.set_yticks(range(len(classes)), classes)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.046, label="share of true class")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_step_curve(rows: list[dict[str, float]], keys: list[str], path: Path, title: str) -> None:
    """Plot the ``keys`` of per-step ``rows`` (losses) against the step to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [row["step"] for row in rows]
    figure, axis = plt.subplots(figsize=(6.0, 3.4))
    for key in keys:
        axis.plot(steps, [row[key] for row in rows], label=key)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.set_yscale("log")
    axis.legend(frameon=False)
    axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_ranks(ranks: list[int], path: Path, title: str) -> None:
    """Plot the histogram of the ranks of each test window's true speech segment to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(4.8, 3.4))
    axis.hist(ranks, bins=min(50, max(ranks)), color="C0")
    axis.axvline(float(np.median(ranks)), color="0.3", linestyle=":", label="median")
    axis.set_xlabel("rank of the true segment (1 = best)")
    axis.set_ylabel("test windows")
    axis.legend(frameon=False)
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
