"""Errors raised when data cannot be fetched, read or used."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """A recording or trial set that cannot be used, with the file and the problem named.

    Parameters
    ----------
    source : str | Path
        The file, directory or data set name the problem is about.
    problem : str
        One sentence saying what is wrong.
    """

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class FetchError(RuntimeError):
    """A data archive could not be downloaded or verified."""


class DataWarning(UserWarning):
    """Data that can be used, but not as its file declares (a header that disagrees, ...).

    Parameters
    ----------
    source : str | Path
        The file or data set the remark is about.
    problem : str
        One sentence saying what was found and what was done.
    """

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")
