"""Simulator options: from keyword arguments (unknown names refused) and from ``KEY=VALUE`` text."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

from .errors import SimulatorError

_Options = TypeVar("_Options")


def options_from(cls: type[_Options], options: Mapping[str, object], task: str) -> _Options:
    """Return the options dataclass ``cls`` built from ``options``, naming any unknown one.

    An unknown name gets the nearest known one as a hint.

    Parameters
    ----------
    cls : type
        A dataclass whose init fields are the task's options.
    options : mapping
        Option names and values.
    task : str
        Task name, for the error message.
    """
    known = [f.name for f in fields(cls) if f.init]  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(known))
    if unknown:
        hints = [
            f"{name} -> {match[0]}"
            for name in unknown
            if (match := difflib.get_close_matches(name, known, n=1, cutoff=0.6))
        ]
        hint = f"; did you mean {', '.join(hints)}?" if hints else ""
        raise SimulatorError(
            task, f"unknown option(s) {', '.join(unknown)} (options: {', '.join(known)}){hint}"
        )
    return cls(**options)


def parse_option(text: str) -> tuple[str, Any]:
    """Return the name and value of one ``KEY=VALUE`` option given as text.

    The value is read as a Python literal (``4``, ``0.5``, ``None``, ``[250, 256]``), else as a
    comma-separated list of words (``spikes,asymmetry``), else as text.

    Raises
    ------
    SimulatorError
        When ``text`` has no ``=`` or no name before it.
    """
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise SimulatorError(text, "options are given as KEY=VALUE")
    value = value.strip()
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = tuple(part.strip() for part in value.split(",")) if "," in value else value
    return name.strip(), parsed


def as_number(value: object, kind: type[int] | type[float], name: str, task: str) -> int | float:
    """Return ``value`` as an ``int`` or a ``float``, or raise an error naming the option.

    An integer option refuses values with a fractional part (``2.5``) and text (``"two"``).
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SimulatorError(task, f"{name} must be a number, got {value!r}") from None
    if kind is int:
        if number != round(number):
            raise SimulatorError(task, f"{name} must be a whole number, got {value!r}")
        return int(number)
    return number


def level_problems(options: Any, levels: tuple[str, ...]) -> list[str]:
    """Return what is wrong with noise levels: negative ones, or no background nor sensor noise."""
    problems = [f"{name} must not be negative" for name in levels if getattr(options, name) < 0]
    if options.background_uv <= 0 and options.sensor_noise_uv <= 0:
        problems.append("background_uv or sensor_noise_uv must be positive")
    return problems
