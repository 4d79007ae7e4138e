"""Checks shared by the simulators' option classes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from .errors import SimulatorError

_Options = TypeVar("_Options")


def options_from(cls: type[_Options], task: str, options: dict[str, Any]) -> _Options:
    """Return ``cls(**options)`` after naming any option the dataclass ``cls`` does not take."""
    known = [f.name for f in fields(cls) if f.init]  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise SimulatorError(
            task, f"unknown option(s) {', '.join(unknown)} (options: {', '.join(known)})"
        )
    return cls(**options)


def level_problems(options: Any, levels: tuple[str, ...]) -> list[str]:
    """Return what is wrong with noise levels: negative ones, or no background nor sensor noise."""
    problems = [f"{name} must not be negative" for name in levels if getattr(options, name) < 0]
    if options.background_uv <= 0 and options.sensor_noise_uv <= 0:
        problems.append("background_uv or sensor_noise_uv must be positive")
    return problems
