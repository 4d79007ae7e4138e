"""A site's training, validation and test trials, shaped as the federation asks, cached on disk.

The steps, in order: the source's trials (:mod:`.sources`), this site's partition of a shared
source, labels mapped onto the federation's classes, the montage (renames, kept types and
channels, the federation's common channels for FedAvg/FedProx), resampling, the window check,
then the splits. Each message to a ClientApp starts a fresh process, so the result is cached
in the site's state folder (plain ``.npz`` arrays, never pickles) under a digest of the site
file, the request and the source files' sizes and times.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import numpy as np

from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet

from .config import SiteConfig
from .sources import load_source

CACHE_VERSION = 1
_PARTS = ("train", "valid", "test")


@dataclass(frozen=True)
class InputRequest:
    """What the federation needs of every site's trials.

    Parameters
    ----------
    classes : tuple of str
        Federation classes; label codes index them.
    window_s : float
        Trial length in seconds.
    channels : tuple of str
        Common channels (FedAvg/FedProx), empty to keep the site's montage.
    sfreq : float
        Common rate (FedAvg/FedProx), 0 to keep the site's.
    """

    classes: tuple[str, ...]
    window_s: float
    channels: tuple[str, ...] = ()
    sfreq: float = 0.0


@dataclass(frozen=True)
class SiteData:
    """A site's trials: fit, validation (selection only) and held-out test."""

    train: TrialSet
    valid: TrialSet
    test: TrialSet


_RECENT: dict[Path, SiteData] = {}
"""Splits read in this process, by cache file (processes that serve many messages, as in the
simulation runtime, then read each site's file once)."""


def site_data(site: SiteConfig, request: InputRequest, *, cache: bool = True) -> SiteData:
    """Return the site's splits for ``request``, from the cache when it is up to date.

    Raises
    ------
    DataError
        Naming the site file (or the recording) and the problem: unreadable data, labels that
        disagree with the federation's, no usable channels, missing common channels, trials of
        the wrong length, too few trials to split.
    """
    if site.source is None:
        raise site.error(
            "has no [data] (only a [corpus], for federated pretraining): a federation that "
            "trains a decoder needs the site's labelled data"
        )
    path = site.state_dir / "cache" / f"{_digest(site, request)}.npz"
    if cache and path in _RECENT:
        return _RECENT[path]
    if cache and path.is_file():
        data = _read_cache(path)
    else:
        data = prepare(site, request)
        if not cache:
            return data
        _write_cache(path, data)
    if len(_RECENT) >= 8:
        _RECENT.pop(next(iter(_RECENT)))
    _RECENT[path] = data
    return data


def prepare(site: SiteConfig, request: InputRequest) -> SiteData:
    """Build the site's splits from its source (no cache)."""
    trials, official_test = load_source(site, request.classes)
    if site.partition is not None:
        trials = partition_trials(
            trials, site.partition.index, site.partition.weights, site.partition.seed
        )
        if official_test is not None:
            official_test = partition_trials(
                official_test,
                site.partition.index,
                site.partition.test_weights,
                site.partition.seed,
            )
    parts = [trials] + ([official_test] if official_test is not None else [])
    parts = [shape_trials(part, site, request) for part in parts]
    return split_trials(parts[0], parts[1] if len(parts) > 1 else None, site)


def shape_trials(trials: TrialSet, site: SiteConfig, request: InputRequest) -> TrialSet:
    """Map labels, apply the montage and rate, check the window; return the site's trials."""
    trials = relabel(trials, site, request.classes)
    trials = apply_montage(trials, site, request.channels)
    rate = request.sfreq or site.sfreq
    if rate and not np.isclose(rate, trials.sfreq):
        trials = resample_trials(trials, rate)
    expected = round(request.window_s * trials.sfreq)
    if trials.n_times != expected:
        raise site.error(
            f"trials last {trials.n_times / trials.sfreq:g} s ({trials.n_times} samples at "
            f"{trials.sfreq:g} Hz); the federation's window is {request.window_s:g} s"
        )
    return replace(trials, name=site.name, ch_pos=None)


def relabel(trials: TrialSet, site: SiteConfig, classes: tuple[str, ...]) -> TrialSet:
    """Return the trials labelled by the federation's ``classes`` through the site's map.

    Raises
    ------
    DataError
        When a source label maps outside the federation's classes (and is not dropped), or
        when a federation class has no trial at this site.
    """
    targets: dict[int, int] = {}
    for code, label in enumerate(trials.classes):
        if label in site.drop:
            continue
        target = site.label_map.get(label, label)
        if target not in classes:
            raise site.error(
                f"label '{label}'{f' (mapped to {target!r})' if target != label else ''} is "
                f"not one of the federation's classes {list(classes)}: map it in [labels] "
                "map or list it in [labels] drop"
            )
        targets[code] = classes.index(target)
    keep = np.isin(trials.labels, list(targets))
    labels = np.array([targets[code] for code in trials.labels[keep]], dtype=int)
    missing = [classes[c] for c in range(len(classes)) if c not in set(labels.tolist())]
    if missing:
        raise site.error(
            f"has no trial of the federation's class(es) {missing}; its labels are "
            f"{list(trials.classes)} (map them with [labels] map)"
        )
    subset = trials.subset(keep)
    return replace(subset, labels=labels, classes=tuple(classes))


def apply_montage(trials: TrialSet, site: SiteConfig, common: tuple[str, ...]) -> TrialSet:
    """Rename, keep the site's types and channels, then the federation's ``common`` channels.

    Raises
    ------
    DataError
        When a listed channel is missing or no usable channel remains.
    """
    names = [site.rename.get(name, name) for name in trials.ch_names]
    kinds = dict(zip(names, trials.ch_types, strict=True))
    keep = [name for name in names if kinds[name] in site.types]
    if site.channels:
        absent = [name for name in site.channels if name not in keep]
        if absent:
            raise site.error(
                f"[montage] channels {absent} are not among the data's channels of types "
                f"{list(site.types)} ({', '.join(keep[:12]) or 'none'})"
            )
        keep = list(site.channels)
    if common:
        absent = [name for name in common if name not in keep]
        if absent:
            raise site.error(
                f"lacks the federation's common channel(s) {absent}; FedAvg/FedProx need every "
                "site on the same channels (use the personalised strategy for other montages)"
            )
        keep = list(common)
    if not keep:
        found = sorted(set(trials.ch_types))
        raise site.error(
            f"has no usable channels for the model: its data hold channel types {found}, the "
            f"site keeps {list(site.types)} ([montage] types)"
        )
    index = [names.index(name) for name in keep]
    return replace(
        trials,
        data=trials.data[:, index],
        ch_names=tuple(keep),
        ch_types=tuple(kinds[name] for name in keep),
    )


def resample_trials(trials: TrialSet, sfreq: float) -> TrialSet:
    """Return the trials resampled to ``sfreq`` by a polyphase filter, trial by trial."""
    from scipy.signal import resample_poly

    ratio = Fraction(sfreq / trials.sfreq).limit_denominator(1000)
    data = resample_poly(trials.data, ratio.numerator, ratio.denominator, axis=-1)
    n_times = round(trials.n_times * sfreq / trials.sfreq)
    return replace(trials, data=data[..., :n_times], sfreq=float(sfreq))


def partition_trials(
    trials: TrialSet, index: int, weights: tuple[float, ...], seed: int
) -> TrialSet:
    """Return part ``index`` of a stratified random split of ``trials`` in ``weights`` shares.

    The same trials, weights and seed give disjoint parts that cover every trial, so sites
    sharing a source each take their own part.
    """
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(weights) / np.sum(weights)
    chosen = []
    for label in np.unique(trials.labels):
        members = rng.permutation(np.flatnonzero(trials.labels == label))
        bounds = np.concatenate([[0], np.round(cumulative * members.size).astype(int)])
        chosen.append(members[bounds[index] : bounds[index + 1]])
    return trials.subset(np.sort(np.concatenate(chosen)))


def split_trials(trials: TrialSet, official_test: TrialSet | None, site: SiteConfig) -> SiteData:
    """Split into fit, validation and test trials (stratified, seeded by the site file)."""
    from sklearn.model_selection import train_test_split

    from decoders.evaluation.protocols import validation_split

    if official_test is not None:
        rest, test = trials, official_test
    else:
        counts = np.bincount(trials.labels, minlength=trials.n_classes)
        if site.test > 0 and counts.min() < 3:
            raise site.error(
                f"has {counts.min()} trial(s) of some class: too few to hold out test trials"
            )
        if site.test > 0:
            fit, held = train_test_split(
                np.arange(trials.n_trials),
                test_size=max(site.test, trials.n_classes / trials.n_trials),
                stratify=trials.labels,
                random_state=site.split_seed,
            )
            rest, test = trials.subset(np.sort(fit)), trials.subset(np.sort(held))
        else:
            rest, test = trials, trials.subset(np.array([], dtype=int))
    try:
        train, valid = validation_split(rest, site.validation, site.split_seed)
    except DataError as error:
        raise site.error(f"cannot keep validation trials: {error.problem}") from error
    return SiteData(train, valid, test)


def _digest(site: SiteConfig, request: InputRequest) -> str:
    stamps: list[object] = []
    if site.source.kind in ("recordings", "labelled_folders"):
        for root in site.source.target:
            files = sorted(Path(root).rglob("*")) if Path(root).is_dir() else [Path(root)]
            for path in files:
                if path.is_file():
                    stat = path.stat()
                    stamps.append([str(path), stat.st_size, stat.st_mtime_ns])
    text = json.dumps(
        [CACHE_VERSION, site.text, str(site.path), request.__dict__, stamps], default=list
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _write_cache(path: Path, data: SiteData) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    first = data.train
    meta = {
        "classes": list(first.classes),
        "sfreq": first.sfreq,
        "ch_names": list(first.ch_names),
        "ch_types": list(first.ch_types),
        "name": first.name,
    }
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
    for part in _PARTS:
        trials = getattr(data, part)
        arrays[f"{part}_data"] = trials.data.astype(np.float32)
        for what in ("labels", "groups", "blocks"):
            arrays[f"{part}_{what}"] = getattr(trials, what)
    temporary = path.with_name(f".{path.name}.tmp.npz")
    np.savez(temporary, **arrays)
    temporary.replace(path)


def _read_cache(path: Path) -> SiteData:
    with np.load(path, allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        parts = {
            part: TrialSet(
                data=stored[f"{part}_data"],
                labels=stored[f"{part}_labels"],
                classes=tuple(meta["classes"]),
                sfreq=meta["sfreq"],
                ch_names=tuple(meta["ch_names"]),
                ch_types=tuple(meta["ch_types"]),
                name=meta["name"],
                groups=stored[f"{part}_groups"],
                blocks=stored[f"{part}_blocks"],
            )
            for part in _PARTS
        }
    return SiteData(**parts)
