"""Errors of the live path, each naming the model file or stream and the problem."""

from __future__ import annotations


class LiveError(ValueError):
    """A model or stream the live path cannot use.

    Parameters
    ----------
    source : str
        The model file, registry entry or stream the problem is about.
    problem : str
        One sentence saying what is wrong and, where there is one, what to do.
    """

    def __init__(self, source: str, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class ModelIntegrityError(LiveError):
    """A registered model file missing, or whose sha256 differs from the manifest's."""


class IncompatibleModelError(LiveError):
    """A model file this runtime cannot run: unsupported opset, or not a bci-app export."""


class ChannelMismatchError(LiveError):
    """A stream lacking some of the model's channels."""


class SamplingRateError(LiveError):
    """A stream at another rate than the model's, which the model's card forbids resampling."""
