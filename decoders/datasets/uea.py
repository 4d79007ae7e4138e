"""Reader of the UEA/UCR ``.ts`` text format for multivariate time-series classification."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataError


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
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    header: dict[str, str] = {}
    rows: list[np.ndarray] = []
    labels: list[str] = []
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
                continue
            *dimensions, label = line.split(":")
            try:
                rows.append(np.array([np.array(d.split(","), dtype=float) for d in dimensions]))
            except ValueError as error:
                raise DataError(
                    path, f"line {number}: unequal or non-numeric series ({error})"
                ) from error
            labels.append(label.strip())
    return _check(path, header, rows, labels)


def _check(
    path: Path, header: dict[str, str], rows: list[np.ndarray], labels: list[str]
) -> tuple[np.ndarray, list[str], list[str]]:
    if "data" not in header:
        raise DataError(path, "no @data section: not a .ts file")
    if not rows:
        raise DataError(path, "no cases after @data")
    declared = header.get("classlabel", "").split()
    if not declared or declared[0].lower() != "true":
        raise DataError(path, "the header declares no class labels")
    class_names = declared[1:]
    n_dims = int(header.get("dimensions", rows[0].shape[0]))
    length = int(header.get("serieslength", rows[0].shape[1]))
    for index, row in enumerate(rows):
        if row.shape != (n_dims, length):
            raise DataError(
                path,
                f"case {index} has shape {row.shape} but the header declares "
                f"{n_dims} dimensions of length {length}",
            )
    unknown = sorted(set(labels) - set(class_names))
    if unknown:
        raise DataError(path, f"labels {unknown} are not among the declared classes {class_names}")
    return np.stack(rows), labels, class_names
