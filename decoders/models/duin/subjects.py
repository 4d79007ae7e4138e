"""The subjects of a pretraining corpus and their layers' names."""

from __future__ import annotations

import re

from decoders.datasets.errors import DataError
from decoders.datasets.ieeg import subject_of


def layer_key(subject: str) -> str:
    """Return the module name of a subject's layer (module names hold no dots)."""
    return "s_" + re.sub(r"[^A-Za-z0-9_]", "_", subject)


def subjects_of_plan(files: list[tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, ...]]:
    """Return each subject's contacts from ``(path, channels)`` of the corpus files.

    Raises
    ------
    DataError
        When two files of one subject hold different contacts (one layer per subject needs
        the same contacts in each of its recordings).
    """
    subjects: dict[str, tuple[str, ...]] = {}
    first: dict[str, str] = {}
    for path, channels in files:
        subject = subject_of(path)
        if subject not in subjects:
            subjects[subject], first[subject] = channels, path
            continue
        if subjects[subject] != channels:
            differ = sorted(set(subjects[subject]) ^ set(channels)) or ["(same names, other order)"]
            raise DataError(
                path,
                f"subject {subject} has other contacts here than in {first[subject]} "
                f"(differing: {', '.join(differ[:8])}): Du-IN keeps one input layer per "
                "subject, so give each subject's recordings the same contacts",
            )
    return subjects
