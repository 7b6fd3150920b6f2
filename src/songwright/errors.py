"""Typed errors. Each one says what was wrong and how to fix it."""

from __future__ import annotations


class SongwrightError(Exception):
    """Base class of every error Songwright raises on purpose."""


class InvalidRequest(SongwrightError, ValueError):
    """A request field broke a rule. Carries the field, the rule and the offending value."""

    def __init__(self, field: str, rule: str, value: object):
        self.field = field
        self.rule = rule
        self.value = value
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: {rule}, got {shown}")


class MissingDependency(SongwrightError, RuntimeError):
    """A system package or optional extra is not installed."""

    def __init__(self, what: str, install: str):
        self.what = what
        self.install = install
        super().__init__(f"{what} is not available; install it with: {install}")


class RenderError(SongwrightError, RuntimeError):
    """Rendering or writing audio failed for a reason outside the request."""


class CheckpointError(SongwrightError, RuntimeError):
    """A model checkpoint is missing files, or its tensors do not fit the architecture."""


class Canceled(SongwrightError):
    """The caller asked an engine to stop; it stopped at a stage boundary."""
