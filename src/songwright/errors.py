"""Typed errors. Each one says what was wrong and how to fix it."""

from __future__ import annotations

import reprlib

MAX_SHOWN_CHARS = 80
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlong = 3, MAX_SHOWN_CHARS, MAX_SHOWN_CHARS, MAX_SHOWN_CHARS


class SongwrightError(Exception):
    """Base class of every error Songwright raises on purpose."""


class InvalidRequest(SongwrightError, ValueError):
    """A request field broke a rule. Carries the field, the rule and the offending value."""

    def __init__(self, field: str, rule: str, value: object):
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(f"{field}: {rule}, got {shown_value(value)}")


def shown_value(value: object) -> str:
    """A short repr of any value: nested containers to three levels, whole numbers too long to
    print by their size, at most MAX_SHOWN_CHARS characters. Never raises."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        sign = "a negative" if value < 0 else "a"
        return f"{sign} whole number of about {int(value.bit_length() * 0.30103)} digits"
    try:
        shown = repr(value[:MAX_SHOWN_CHARS]) if isinstance(value, str) else _SHOWN.repr(value)
    except Exception:  # a repr that raises: name the type instead
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= MAX_SHOWN_CHARS else shown[:MAX_SHOWN_CHARS - 3] + "..."


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
