"""The singer: espeak-ng phonemes (or pinyin) and MBROLA diphone voices sing the vocal line."""

from .casting import cast_lyrics
from .synthesis import sing

__all__ = ["cast_lyrics", "sing"]
