"""Intracranial recordings (sEEG, ECoG) in BIDS: contacts, shafts, regions, channel choice.

:func:`read_ieeg` opens a recording of a BIDS-iEEG data set (through mne-bids: channel types
from ``channels.tsv``, events from ``events.tsv``) with its ``electrodes.tsv``: each contact's
coordinates, shaft (the ``group`` column, else the letters of its name: ``LA1`` -> ``LA``) and
region (an atlas column of ``electrodes.tsv`` such as ``region`` or ``anatomical_label``, or a
mapping the user gives: a TSV/CSV with ``name`` and ``region`` columns, or a JSON object).

Channels are chosen by region (:meth:`IEEGRecording.pick_regions`) or by a ranking computed
on training trials only (:func:`rank_channels`).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError
from .trials import TrialSet

if TYPE_CHECKING:
    import mne

IEEG_TYPES = ("seeg", "ecog", "dbs")
REGION_COLUMNS = ("region", "anatomical_label", "atlas", "roi", "label", "anat")
"""Columns of ``electrodes.tsv`` read as the contact's region, the first present wins."""
MISSING = {"", "n/a", "na", "nan", "none"}
_BIDS_SUBJECT = re.compile(r"(?:^|[/\\_])sub-([A-Za-z0-9]+)")


@dataclass(frozen=True)
class Contact:
    """One intracranial contact.

    Attributes
    ----------
    name, kind : str
        Channel name and MNE type (``seeg``, ``ecog``, ``dbs``).
    position : ndarray of shape (3,), optional
        Coordinates in metres (the data set's space), None when ``electrodes.tsv`` has none.
    shaft : str
        The shaft (sEEG), strip or grid (ECoG) it lies on.
    region : str, optional
        Its region, None when neither ``electrodes.tsv`` nor a mapping names one.
    """

    name: str
    kind: str
    position: np.ndarray | None
    shaft: str
    region: str | None


@dataclass(frozen=True)
class IEEGRecording:
    """An intracranial recording with its contacts (only intracranial channels are kept)."""

    raw: mne.io.BaseRaw
    contacts: tuple[Contact, ...]
    path: Path
    subject: str
    region_source: str

    @property
    def names(self) -> tuple[str, ...]:
        """Return the contacts' names, in the recording's order."""
        return tuple(contact.name for contact in self.contacts)

    def shafts(self) -> dict[str, list[str]]:
        """Return the contacts of each shaft."""
        return _grouped((c.shaft, c.name) for c in self.contacts)

    def regions(self) -> dict[str, list[str]]:
        """Return the contacts of each region.

        Raises
        ------
        DataError
            When contacts have no region: names them and says how to give a mapping.
        """
        unknown = [c.name for c in self.contacts if c.region is None]
        if unknown:
            raise DataError(
                self.path,
                f"{len(unknown)} of {len(self.contacts)} contacts have no region "
                f"({', '.join(unknown[:8])}{' ...' if len(unknown) > 8 else ''}; regions from "
                f"{self.region_source}). Add a region column to electrodes.tsv (one of "
                f"{', '.join(REGION_COLUMNS)}), or give a mapping file: a TSV/CSV with "
                "'name' and 'region' columns, or a JSON object {contact: region}",
            )
        return _grouped((c.region, c.name) for c in self.contacts)

    def positions(self) -> dict[str, np.ndarray]:
        """Return every contact's position in metres.

        Raises
        ------
        DataError
            When contacts lack coordinates (named), with how to add them.
        """
        missing = [c.name for c in self.contacts if c.position is None]
        if missing:
            raise DataError(
                self.path,
                f"{len(missing)} contacts have no coordinates ({', '.join(missing[:8])}"
                f"{' ...' if len(missing) > 8 else ''}): fill x, y, z of electrodes.tsv "
                "beside the recording (n/a means unknown)",
            )
        return {c.name: c.position for c in self.contacts}

    def pick_regions(self, regions: list[str] | tuple[str, ...]) -> list[str]:
        """Return the contacts lying in ``regions``, in the recording's order.

        Raises
        ------
        DataError
            When a region holds no contact of this subject (its regions are listed).
        """
        grouped = self.regions()
        empty = [region for region in regions if region not in grouped]
        if empty:
            raise DataError(
                self.path,
                f"subject {self.subject} has no contact in region(s) {', '.join(empty)} "
                f"(its regions: {', '.join(sorted(grouped))})",
            )
        wanted = set(regions)
        return [c.name for c in self.contacts if c.region in wanted]

    def trials(
        self,
        *,
        tmin: float = -0.5,
        tmax: float = 2.5,
        classes: list[str] | None = None,
        channels: list[str] | None = None,
    ) -> TrialSet:
        """Return one trial per event (its name the class) of the chosen contacts."""
        from decoders.training.epoching import epochs_from_annotations

        raw = self.raw.copy().pick(list(channels) if channels else list(self.names))
        trials = epochs_from_annotations(
            raw, source=str(self.path), classes=classes, tmin=tmin, tmax=tmax
        )
        known = {c.name: c.position for c in self.contacts}
        positions = {name: known[name] for name in trials.ch_names}
        complete = all(value is not None for value in positions.values())
        return replace(trials, name=self.path.name, ch_pos=positions if complete else None)


def read_ieeg(
    path: str | Path,
    *,
    regions: str | Path | dict[str, str] | None = None,
    region_column: str | None = None,
    preload: bool = True,
) -> IEEGRecording:
    """Open an sEEG/ECoG recording of a BIDS data set with its contacts.

    Parameters
    ----------
    path : str or Path
        The recording (``.vhdr``, ``.edf``, ...) inside a ``sub-*/[ses-*/]ieeg`` folder.
    regions : path or dict, optional
        Contact -> region mapping, overriding ``electrodes.tsv``'s.
    region_column : str, optional
        The column of ``electrodes.tsv`` holding regions (default: the first of
        :data:`REGION_COLUMNS` present).
    preload : bool
        Load the samples now.

    Raises
    ------
    DataError
        When the file cannot be read, holds no intracranial channel, or the mapping or the
        column named cannot be used.
    """
    from .readers import read_recording

    path = Path(path)
    raw = read_recording(path, preload=preload)
    kinds = raw.get_channel_types()
    keep = [name for name, kind in zip(raw.ch_names, kinds, strict=True) if kind in IEEG_TYPES]
    if not keep:
        raise DataError(
            path,
            f"holds no sEEG/ECoG/DBS channel (types: {', '.join(sorted(set(kinds)))}); check "
            "the type column of channels.tsv",
        )
    raw.pick(keep)
    rows = _electrode_rows(path)
    scale = _units_to_metres(path)
    mapping, source = _regions(path, rows, regions, region_column)
    contacts = tuple(
        Contact(
            name=name,
            kind=kind,
            position=_position(rows.get(name), scale),
            shaft=_shaft(name, rows.get(name)),
            region=mapping.get(name),
        )
        for name, kind in zip(raw.ch_names, raw.get_channel_types(), strict=True)
    )
    return IEEGRecording(raw, contacts, path, subject_of(path), source)


def subject_of(name: str | Path) -> str:
    """Return the subject of a recording: its BIDS ``sub-`` label, else its file stem.

    A file outside BIDS naming is a subject of its own (named after the file without its
    suffixes, characters other than letters, digits, ``-`` and ``_`` replaced).
    """
    text = str(name)
    found = _BIDS_SUBJECT.findall(text)
    if found:
        return found[-1]
    stem = Path(text).name.split(".")[0]
    return re.sub(r"[^A-Za-z0-9_-]", "_", stem) or "subject"


def rank_channels(trials: TrialSet, bin_s: float = 0.1) -> np.ndarray:
    """Return a score per channel: how much its responses differ between classes.

    For each channel, trials are described by their mean (low-frequency response) and the
    log power of their first difference (high-frequency activity) in bins of ``bin_s``; the
    score is the mean ANOVA F statistic of those features across classes. Compute it on
    training trials only.
    """
    from sklearn.feature_selection import f_classif

    data = np.asarray(trials.data, dtype=float)
    width = max(2, round(bin_s * trials.sfreq))
    n_bins = data.shape[-1] // width
    binned = data[..., : n_bins * width].reshape(*data.shape[:2], n_bins, width)
    low = binned.mean(axis=-1)
    high = np.log(np.mean(np.diff(binned, axis=-1) ** 2, axis=-1) + 1e-30)
    features = np.concatenate([low, high], axis=-1)  # (trials, channels, 2 * bins)
    flat = features.reshape(len(data), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores, _ = f_classif(flat, trials.labels)
    scores = np.nan_to_num(scores, nan=0.0, posinf=0.0).reshape(features.shape[1:])
    return scores.mean(axis=-1)


def _grouped(pairs) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for key, name in pairs:
        groups.setdefault(key, []).append(name)
    return groups


def _electrodes_file(path: Path) -> Path | None:
    subject = re.match(r"(sub-[^_]+)", path.name)
    if subject is None:
        return None
    found = sorted(path.parent.glob(f"{subject.group(1)}*electrodes.tsv"))
    return found[0] if found else None


def _electrode_rows(path: Path) -> dict[str, dict[str, str]]:
    tsv = _electrodes_file(path)
    if tsv is None:
        return {}
    with open(tsv, newline="", encoding="utf-8") as handle:
        return {row["name"]: row for row in csv.DictReader(handle, delimiter="\t")}


def _units_to_metres(path: Path) -> float:
    """Return the factor from the coordinates' unit (coordsystem.json) to metres."""
    for coordsystem in path.parent.glob("*coordsystem.json"):
        unit = json.loads(coordsystem.read_text()).get("iEEGCoordinateUnits", "m")
        return {"m": 1.0, "cm": 0.01, "mm": 0.001}.get(unit, 1.0)
    return 1.0


def _position(row: dict[str, str] | None, scale: float) -> np.ndarray | None:
    if row is None:
        return None
    values = [row.get(axis, "n/a").strip().lower() for axis in ("x", "y", "z")]
    if any(value in MISSING for value in values):
        return None
    return np.array([float(value) for value in values]) * scale


def _shaft(name: str, row: dict[str, str] | None) -> str:
    group = (row or {}).get("group", "").strip()
    if group.lower() not in MISSING:
        return group
    return re.sub(r"\d+$", "", name) or name


def _regions(
    path: Path,
    rows: dict[str, dict[str, str]],
    given: str | Path | dict[str, str] | None,
    column: str | None,
) -> tuple[dict[str, str], str]:
    """Return contact -> region and where it came from."""
    if given is not None:
        if isinstance(given, dict):
            return dict(given), "the mapping given"
        return _mapping_file(Path(given)), str(given)
    if not rows:
        return {}, "nowhere (no electrodes.tsv beside the recording)"
    header = next(iter(rows.values())).keys()
    if column is not None and column not in header:
        raise DataError(
            _electrodes_file(path), f"has no column '{column}' (columns: {', '.join(header)})"
        )
    column = column or next((c for c in REGION_COLUMNS if c in header), None)
    if column is None:
        return {}, f"nowhere (electrodes.tsv has no region column: {', '.join(header)})"
    mapping = {
        name: row[column].strip()
        for name, row in rows.items()
        if row[column].strip().lower() not in MISSING
    }
    return mapping, f"the '{column}' column of electrodes.tsv"


def _mapping_file(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise DataError(path, "region mapping file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            mapping = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(path, f"is not valid JSON ({error})") from error
        if not isinstance(mapping, dict):
            raise DataError(path, "must hold a JSON object {contact: region}")
        return {str(k): str(v) for k, v in mapping.items()}
    dialect = csv.excel_tab if "\t" in text.splitlines()[0] else csv.excel
    rows = list(csv.DictReader(text.splitlines(), dialect=dialect))
    if not rows or not {"name", "region"} <= set(rows[0]):
        raise DataError(path, "a region mapping needs a header with 'name' and 'region' columns")
    return {row["name"].strip(): row["region"].strip() for row in rows}
