"""Score -> one stereo array per stem, rendered by FluidSynth with a General MIDI soundfont."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MissingDependency
from ..score import Part

SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
)
# Further soundfonts a style may name for one part (data/styles.toml, `sound.fonts`), each with
# the Debian package that installs it (scripts/setup-system.sh installs them all).
NAMED_SOUNDFONTS = {
    # The sf2 (lossless) and not the 82 MB sf3: an sf3 preset's Ogg samples are decoded when it is
    # selected (0.74 s for four presets against 0.09 s).
    "musescore": (("/usr/share/sounds/sf2/MuseScore_General_Full.sf2",), "musescore-general-soundfont-lossless"),
    "avl_red_zeppelin": (("/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2",), "avldrums.lv2-soundfont"),
    "avl_black_pearl": (("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2",), "avldrums.lv2-soundfont"),
}
SYNTH_GAIN = 0.3
DRUM_CHANNEL = 9
DRUM_BANK = 128
FLUSH_SAMPLES = 22050
BLOCK_SAMPLES = 64  # FluidSynth plays in blocks of 64 samples and starts a note at the next block
POLYPHONY = 32  # per stem: steals only voices deep in their release tails (the mix changes by ~-56 dB)


def soundfont_path() -> Path:
    override = os.environ.get("SONGWRIGHT_SOUNDFONT")
    for candidate in ([override] if override else []) + list(SOUNDFONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise MissingDependency("a General MIDI soundfont (FluidR3_GM.sf2)", "bash scripts/setup-system.sh  (apt-get install fluid-soundfont-gm)")


def named_soundfont_path(*, name: str) -> Path:
    """The file of a soundfont named in the styles (`musescore`, `avl_red_zeppelin`...)."""
    if name not in NAMED_SOUNDFONTS:
        raise ValueError(f"unknown soundfont {name!r} (known: {', '.join(NAMED_SOUNDFONTS)})")
    candidates, package = NAMED_SOUNDFONTS[name]
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    raise MissingDependency(f"the {name} soundfont ({candidates[0]})", f"bash scripts/setup-system.sh  (apt-get install {package})")


# Renderers are made in worker threads, but FluidSynth's first new_fluid_synth() sets up its
# default modulators unguarded (two at once gave "Modulator with source 1 none" warnings and a
# synth without them), and redirect_stdout swaps sys.stdout for the whole process: the import,
# the synth's creation and soundfont loads take turns.
_SETUP = threading.RLock()


def _fluidsynth():
    """The pyfluidsynth module, imported once."""
    with _SETUP:
        if "fluidsynth" not in sys.modules:
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # pyfluidsynth prints where it found the library when CI is set
                    import fluidsynth  # noqa: F401
            except (ImportError, OSError) as exc:  # the Python binding or libfluidsynth3 is missing
                raise MissingDependency("FluidSynth", "bash scripts/setup-system.sh  (apt-get install libfluidsynth3)") from exc
    return sys.modules["fluidsynth"]


@dataclass(frozen=True)
class FontChoice:
    """Which soundfont plays a part, and optionally which bank and preset of it (else the part's
    own program, bank 0, or 128 for drums). Written in the styles as "name" or "name:bank:preset"."""

    name: str
    bank: int | None = None
    preset: int | None = None

    @classmethod
    def parse(cls, *, spec: str) -> "FontChoice":
        name, *numbers = spec.split(":")
        if len(numbers) not in (0, 2):
            raise ValueError(f"soundfont choice must be 'name' or 'name:bank:preset', got {spec!r}")
        return cls(name, *(int(n) for n in numbers)) if numbers else cls(name)


class FluidRenderer:
    """One FluidSynth instance with the soundfont loaded; renders part lists to stereo arrays.

    FluidSynth keeps state from one render to the next (per-sample data computed on first use,
    reused voice slots), so the same notes can come out slightly different the second time.
    A song therefore gets a fresh renderer and renders its stems in a fixed order.
    """

    def __init__(self, sample_rate: int, soundfont: Path, cpu_cores: int = 1):
        fluidsynth = _fluidsynth()
        self.sample_rate = sample_rate
        # Dynamic sample loading reads a preset's samples when a channel selects it, so a soundfont's
        # load costs its preset table only (FluidR3 0.05 s instead of 0.2-0.9 s, MuseScore General's
        # 490 MB 0.07 s instead of 1.8 s) and a style may draw single parts from larger fonts.
        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": POLYPHONY,
                    "synth.cpu-cores": cpu_cores, "synth.dynamic-sample-loading": 1}
        with _SETUP:
            self.synth = fluidsynth.Synth(samplerate=float(sample_rate), gain=SYNTH_GAIN, **settings)
        self._write_float = fluidsynth._fl.fluid_synth_write_float
        self._write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                      ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        self._soundfont = soundfont  # the General MIDI font, loaded when a part first needs it
        self._sfid: int | None = None
        self._named: dict[str, int] = {}
        self._played = False  # a synth that has rendered is reset before it renders again

    @property
    def sfid(self) -> int:
        """The id of the General MIDI soundfont, loaded on first use (a stem whose parts all play
        from a named font never loads it)."""
        if self._sfid is None:
            self._sfid = self._load(self._soundfont)
        return self._sfid

    def font_id(self, *, name: str) -> int:
        """The id of a named soundfont, loaded on first use."""
        if name not in self._named:
            self._named[name] = self._load(named_soundfont_path(name=name))
        return self._named[name]

    def _load(self, path: Path) -> int:
        with _SETUP:
            sfid = self.synth.sfload(str(path))
        if sfid < 0:
            raise MissingDependency(f"a readable soundfont at {path}", "bash scripts/setup-system.sh")
        return sfid

    def samples(self, count: int, *, into: np.ndarray | None = None) -> np.ndarray:
        """The next `count` frames, (2, count) float32 (no 16-bit dither, so no hidden state),
        written into `into` (a (2, count) float32 array with contiguous rows) if given."""
        out = np.empty((2, count), dtype=np.float32) if into is None else into
        if not (out.dtype == np.float32 and out.shape == (2, count) and out.strides[1] == out.itemsize):
            raise ValueError(f"samples(into=) needs a (2, {count}) float32 array with contiguous rows")
        self._write_float(self.synth.synth, count, out[0].ctypes.data, 0, 1, out[1].ctypes.data, 0, 1)
        return out

    def render(self, parts: list[Part], tempo_bpm: float, total_samples: int, *,
               fonts: dict[str, FontChoice] | None = None, start_sample: int = 0) -> np.ndarray:
        """The parts as one (2, total_samples - start_sample) float32 stereo array: samples
        [start_sample, total_samples) of the song; a note still held at `start_sample` is struck
        there. `fonts` gives some parts (by name) another soundfont than the General MIDI one."""
        if start_sample % BLOCK_SAMPLES:  # from the block it falls in: notes then start where they do in the whole song
            aligned = start_sample - start_sample % BLOCK_SAMPLES
            return self.render(parts, tempo_bpm, total_samples, fonts=fonts, start_sample=aligned)[:, start_sample - aligned:]
        # FluidSynth's sample cache is shared by every synth of the process, and changing it from two
        # threads at once loses count of samples (four threads making, playing and deleting synths:
        # "Trying to free sample data not found in cache" 196 times in 40 s: data freed that another
        # synth may still play): presets are selected, their samples loaded and let go (here, at
        # creation and at `close`) one synth at a time; the rendering itself runs in parallel
        # (0 errors in 2,500 synths; the same bytes; no slower).
        with _SETUP:
            channels = self._select(parts, fonts or {})
        synth = self.synth
        events = []
        for part, chan in zip(parts, channels):
            for note in part.notes:
                on = round(note.start_beats * 60.0 / tempo_bpm * self.sample_rate)
                off = round(note.end_beats * 60.0 / tempo_bpm * self.sample_rate)
                if on >= total_samples or max(on + 1, off) <= start_sample:
                    continue
                on = max(on, start_sample) - start_sample
                events.append((on, 1, chan, note.pitch, note.velocity))
                events.append((max(on + 1, off - start_sample), 0, chan, note.pitch, 0))
        events.sort()
        total_samples -= start_sample
        out, position = np.empty((2, total_samples), dtype=np.float32), 0
        for when, is_on, chan, pitch, velocity in events:
            when = min(when, total_samples)
            if when > position:
                self.samples(when - position, into=out[:, position:when])
                position = when
            if is_on:
                synth.noteon(chan, pitch, velocity)
            else:
                synth.noteoff(chan, pitch)
        if total_samples > position:
            self.samples(total_samples - position, into=out[:, position:])
        for chan in range(16):
            synth.all_sounds_off(chan)
        self.samples(FLUSH_SAMPLES)  # let every voice die before the next stem
        return out

    def _select(self, parts: list[Part], fonts: dict[str, FontChoice]) -> list[int]:
        """The synth reset (when it has played before: a new one is in that state, without the
        General MIDI piano and kit a reset selects, and so loads, on every channel) and each part's
        preset, volume, pan and glide set on a channel of its own (the drum channel for drums);
        the channels, part by part."""
        synth = self.synth
        if self._played:
            synth.system_reset()
        self._played = True
        channels = []
        channel = 0
        for part in parts:
            choice = fonts.get(part.name)
            sfid = self.font_id(name=choice.name) if choice else self.sfid
            if part.is_drum:
                chan = DRUM_CHANNEL
                bank = DRUM_BANK
            else:
                chan = channel
                channel += 1 + (channel + 1 == DRUM_CHANNEL)
                bank = 0
            if choice and choice.bank is not None:
                bank = choice.bank
            synth.program_select(chan, sfid, bank, choice.preset if choice and choice.preset is not None else part.program)
            synth.cc(chan, 7, part.volume)
            synth.cc(chan, 10, part.pan)
            if part.portamento_ms:  # legato notes glide (FluidSynth's default: portamento on legato only)
                synth.cc(chan, 65, 127)
                synth.cc(chan, 5, part.portamento_ms // 128)
                synth.cc(chan, 37, part.portamento_ms % 128)
            channels.append(chan)
        return channels

    def close(self) -> None:
        with _SETUP:  # (its samples are let go)
            self.synth.delete()
