"""The composer: a Plan becomes a Score of drums, bass, comping, keys, pad, lead and vocal line."""

from .arrange import compose

__all__ = ["compose"]
