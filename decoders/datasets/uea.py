"""Reader of the UEA/UCR ``.ts`` text format for multivariate time-series classification.

The format of the public multivariate time-series archive (and of aeon/sktime): ``@``
header lines, then one case per line, its dimensions separated by ``:`` and the class label
last, values separated by ``,``. Only equal-length, labelled, untimestamped series are read;
missing values (``?`` or ``NaN``) are refused with the case and dimension named. A header
whose ``@seriesLength`` or ``@dimensions`` disagrees with cases that all agree with each
other is tolerated and reported (the archive holds such files).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .errors import DataError, DataWarning

_MISSING = {"?", "nan", "NaN", "NAN"}


def read_ts(path: Path) -> tuple[np.ndarray, list[str], list[str]]:
    """Read an equal-length multivariate ``.ts`` file.

    Parameters
    ----------
    path : Path
        The ``.ts`` file.

    Returns
    -------
    data : ndarray, shape (n_cases, n_dimensions, series_length)
        Values as stored (the unit is the data set's).
    labels : list of str
        Class label of each case.
    class_names : list of str
        Class labels declared in the header, in declared order.

    Raises
    ------
    DataError
        For a missing file, a malformed header, unequal (ragged) series, missing values,
        cases without a label or labels the header does not declare.

    Warns
    -----
    DataWarning
        When the header's length or dimension count disagrees with every case's.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    header: dict[str, str] = {}
    rows: list[np.ndarray] = []
    labels: list[str] = []
    lines: list[int] = []
    in_data = False
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, raw_line in enumerate(handle, start=1):
            line = raw_line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise DataError(
                        path, f"line {number}: expected a header line starting with '@'"
                    )
                key, _, value = line[1:].partition(" ")
                header[key.lower()] = value.strip()
                in_data = key.lower() == "data"
                if in_data:
                    _check_header(path, header)
                continue
            row, label = _parse_case(path, number, line)
            rows.append(row)
            labels.append(label)
            lines.append(number)
    return _check(path, header, rows, labels, lines)


def _check_header(path: Path, header: dict[str, str]) -> None:
    declared = header.get("classlabel", "").split()
    if not declared or declared[0].lower() != "true":
        raise DataError(path, "the header declares no class labels (@classLabel true ...)")
    if header.get("timestamps", "false").lower() == "true":
        raise DataError(path, "holds timestamped series (@timeStamps true), which are not read")
    if header.get("equallength", "true").lower() == "false":
        raise DataError(
            path, "declares series of unequal length (@equalLength false); trials must be equal"
        )


def _parse_case(path: Path, number: int, line: str) -> tuple[np.ndarray, str]:
    *dimensions, label = line.split(":")
    label = label.strip()
    if not dimensions or not label:
        raise DataError(path, f"line {number}: a case needs its series and a class label")
    values = [d.split(",") for d in dimensions]
    for index, series in enumerate(values):
        missing = [position for position, v in enumerate(series) if v.strip() in _MISSING]
        if missing:
            raise DataError(
                path,
                f"line {number}: missing values in dimension {index} (at position "
                f"{missing[0]}, {len(missing)} in all); fill or drop that case",
            )
    lengths = {len(series) for series in values}
    if len(lengths) > 1:
        raise DataError(
            path,
            f"line {number}: dimensions of unequal length {sorted(lengths)} (ragged series)",
        )
    try:
        return np.array(values, dtype=float), label
    except ValueError as error:
        raise DataError(path, f"line {number}: non-numeric value ({error})") from error


def _check(
    path: Path,
    header: dict[str, str],
    rows: list[np.ndarray],
    labels: list[str],
    lines: list[int],
) -> tuple[np.ndarray, list[str], list[str]]:
    if "data" not in header:
        raise DataError(path, "no @data section: not a .ts file")
    if not rows:
        raise DataError(path, "no cases after @data")
    class_names = header["classlabel"].split()[1:]
    shape = rows[0].shape
    for row, number in zip(rows, lines, strict=True):
        if row.shape != shape:
            raise DataError(
                path,
                f"line {number}: {row.shape[0]} dimensions of length {row.shape[1]}, but the "
                f"first case has {shape[0]} of length {shape[1]} (ragged series)",
            )
    declared = {
        "dimensions": (header.get("dimensions"), shape[0]),
        "seriesLength": (header.get("serieslength"), shape[1]),
    }
    for key, (value, found) in declared.items():
        if value is not None and value.isdigit() and int(value) != found:
            warnings.warn(
                DataWarning(
                    path,
                    f"the header declares @{key} {value} but every case has {found}; "
                    f"read as {found}",
                ),
                stacklevel=3,
            )
    unknown = sorted(set(labels) - set(class_names))
    if unknown:
        raise DataError(path, f"labels {unknown} are not among the declared classes {class_names}")
    return np.stack(rows), labels, class_names
