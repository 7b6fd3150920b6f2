"""Score -> one stereo array per stem, rendered by FluidSynth with a General MIDI soundfont."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
from pathlib import Path

import numpy as np

from ..errors import MissingDependency
from ..score import Part

SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
)
SYNTH_GAIN = 0.3
DRUM_CHANNEL = 9
DRUM_BANK = 128
FLUSH_SAMPLES = 22050
POLYPHONY = 32  # per stem: steals only voices deep in their release tails (the mix changes by ~-56 dB)


def soundfont_path() -> Path:
    override = os.environ.get("SONGWRIGHT_SOUNDFONT")
    for candidate in ([override] if override else []) + list(SOUNDFONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise MissingDependency("a General MIDI soundfont (FluidR3_GM.sf2)", "bash scripts/setup-system.sh  (apt-get install fluid-soundfont-gm)")


class FluidRenderer:
    """One FluidSynth instance with the soundfont loaded; renders part lists to stereo arrays.

    FluidSynth keeps state from one render to the next (per-sample data computed on first use,
    reused voice slots), so the same notes can come out slightly different the second time.
    A song therefore gets a fresh renderer and renders its stems in a fixed order.
    """

    def __init__(self, sample_rate: int, soundfont: Path, cpu_cores: int = 1):
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # pyfluidsynth prints where it found the library when CI is set
                import fluidsynth
        except (ImportError, OSError) as exc:  # the Python binding or libfluidsynth3 is missing
            raise MissingDependency("FluidSynth", "bash scripts/setup-system.sh  (apt-get install libfluidsynth3)") from exc
        self.sample_rate = sample_rate
        settings = {"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": POLYPHONY,
                    "synth.cpu-cores": cpu_cores}
        self.synth = fluidsynth.Synth(samplerate=float(sample_rate), gain=SYNTH_GAIN, **settings)
        self._write_float = fluidsynth._fl.fluid_synth_write_float
        self._write_float.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                      ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        self.sfid = self.synth.sfload(str(soundfont))
        if self.sfid < 0:
            raise MissingDependency(f"a readable soundfont at {soundfont}", "bash scripts/setup-system.sh")

    def samples(self, count: int) -> np.ndarray:
        """The next `count` frames, (2, count) float32 (no 16-bit dither, so no hidden state)."""
        out = np.empty((2, count), dtype=np.float32)
        self._write_float(self.synth.synth, count, out[0].ctypes.data, 0, 1, out[1].ctypes.data, 0, 1)
        return out

    def render(self, parts: list[Part], tempo_bpm: float, total_samples: int) -> np.ndarray:
        """The parts as one (2, total_samples) float32 stereo array."""
        synth = self.synth
        synth.system_reset()
        events = []
        channel = 0
        for part in parts:
            if part.is_drum:
                chan = DRUM_CHANNEL
                synth.program_select(chan, self.sfid, DRUM_BANK, part.program)
            else:
                chan = channel
                channel += 1 + (channel + 1 == DRUM_CHANNEL)
                synth.program_select(chan, self.sfid, 0, part.program)
            synth.cc(chan, 7, part.volume)
            synth.cc(chan, 10, part.pan)
            for note in part.notes:
                on = round(note.start_beats * 60.0 / tempo_bpm * self.sample_rate)
                off = round(note.end_beats * 60.0 / tempo_bpm * self.sample_rate)
                if on >= total_samples:
                    continue
                events.append((on, 1, chan, note.pitch, note.velocity))
                events.append((max(on + 1, off), 0, chan, note.pitch, 0))
        events.sort()
        chunks, position = [], 0
        for when, is_on, chan, pitch, velocity in events:
            when = min(when, total_samples)
            if when > position:
                chunks.append(self.samples(when - position))
                position = when
            if is_on:
                synth.noteon(chan, pitch, velocity)
            else:
                synth.noteoff(chan, pitch)
        if total_samples > position:
            chunks.append(self.samples(total_samples - position))
        for chan in range(16):
            synth.all_sounds_off(chan)
        self.samples(FLUSH_SAMPLES)  # let every voice die before the next stem
        return np.concatenate(chunks, axis=1)


    def close(self) -> None:
        self.synth.delete()
