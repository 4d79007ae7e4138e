"""A site's raw trials from its source: recordings cut at events, trial sets, simulators, folders."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from acquisition.annotations import annotation_onsets
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet

from .config import SiteConfig

if TYPE_CHECKING:
    import mne


def load_source(site: SiteConfig, classes: tuple[str, ...]) -> tuple[TrialSet, TrialSet | None]:
    """Return the site's trials and, when the source has one, its official test part.

    Parameters
    ----------
    site : SiteConfig
        The site.
    classes : tuple of str
        The federation's classes: a recording's events are those named in the label map, or
        else those named like a federation class.
    """
    source = site.source
    if source.kind == "trial_set":
        from decoders.datasets.loaders import TRIAL_SET_INFO, load_trial_set

        if source.target not in TRIAL_SET_INFO:
            raise site.error(
                f"[data] trial_set '{source.target}' is not one of {sorted(TRIAL_SET_INFO)}"
            )
        split = load_trial_set(str(source.target))
        return split.train, split.test
    if source.kind == "simulator":
        from decoders.simulators.registry import simulate_trials

        options = dict(source.options)
        seed = int(options.pop("seed", 0))
        try:
            return simulate_trials(str(source.target), seed=seed, **options), None
        except (TypeError, ValueError) as error:
            raise site.error(f"[data] simulator: {error}") from error
    if source.kind == "labelled_folders":
        from decoders.datasets.labelled_folders import find_labelled_files, labelled_windows

        files = find_labelled_files(source.target[0])
        return labelled_windows(files, source.window_s, name=site.name), None
    return _recordings(site, classes), None


def _recordings(site: SiteConfig, classes: tuple[str, ...]) -> TrialSet:
    from decoders.datasets.readers import read_recording

    events = list(site.label_map) or [name for name in classes if name not in site.drop]
    parts = []
    for index, path in enumerate(site.source.target):
        raw = read_recording(path, stream=site.source.options.get("stream"))
        if site.rename:
            raw.rename_channels({k: v for k, v in site.rename.items() if k in raw.ch_names})
        keep = [
            name
            for name, kind in zip(raw.ch_names, raw.get_channel_types(), strict=True)
            if kind in site.types and (not site.channels or name in site.channels)
        ]
        if keep:
            raw.pick(keep)
        if site.sfreq and raw.info["sfreq"] != site.sfreq:
            raw.resample(site.sfreq, verbose="error")
        trials = cut_trials(raw, events, site.source.tmin, site.source.tmax, str(path))
        parts.append(
            TrialSet(
                data=trials.data,
                labels=trials.labels,
                classes=trials.classes,
                sfreq=trials.sfreq,
                ch_names=trials.ch_names,
                ch_types=trials.ch_types,
                name=site.name,
                blocks=np.full(trials.n_trials, index),
            )
        )
    combined = parts[0]
    for path, part in zip(site.source.target[1:], parts[1:], strict=True):
        if (part.ch_names, part.sfreq) != (combined.ch_names, combined.sfreq):
            raise DataError(
                path,
                f"has channels {list(part.ch_names)[:8]} at {part.sfreq:g} Hz after the site's "
                f"montage, the site's first recording {list(combined.ch_names)[:8]} at "
                f"{combined.sfreq:g} Hz",
            )
        combined = combined.concat(part)
    return combined


def cut_trials(
    raw: mne.io.BaseRaw, events: list[str], tmin: float, tmax: float, source: str
) -> TrialSet:
    """Cut trials ``tmin..tmax`` s around every annotation named in ``events``.

    Annotations whose window runs past the recording are skipped. The classes are ``events``
    (some may have no trial).

    Raises
    ------
    DataError
        When no annotation of ``events`` yields a whole trial.
    """
    sfreq = raw.info["sfreq"]
    n_times = round((tmax - tmin) * sfreq)
    data = raw.get_data()
    found: list[tuple[int, str]] = []
    onsets = annotation_onsets(raw)
    for onset, description in zip(onsets, raw.annotations.description, strict=True):
        if description not in events:
            continue
        start = round((onset + tmin) * sfreq)
        if start >= 0 and start + n_times <= data.shape[1]:
            found.append((start, description))
    if not found:
        present = sorted(set(raw.annotations.description))
        raise DataError(
            source,
            f"no whole {tmin}..{tmax} s trial at events {events}; its annotations are "
            f"{present[:12] or 'none'}",
        )
    return TrialSet(
        data=np.stack([data[:, start : start + n_times] for start, _ in found]),
        labels=np.array([events.index(d) for _, d in found]),
        classes=tuple(events),
        sfreq=sfreq,
        ch_names=tuple(raw.ch_names),
        ch_types=tuple(raw.get_channel_types()),
        name=source,
    )
