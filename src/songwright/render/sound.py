"""A genre's sound beyond its General MIDI programs, as data (data/styles.toml, `[genre.NAME.sound]`):
which soundfont plays which part, which parts are double-tracked and panned wide, which stems go
through an amp, a cabinet or a tape machine first, and how deep the bass and pads duck under the
kick (sidechain pumping).

    [genre.metal.sound]
    fonts = { drums = "avl_red_zeppelin:0:0" }   # part -> soundfont ("name" or "name:bank:preset")
    double = ["comp"]                            # parts played twice, hard left and hard right
    fx = { guitar = "high_gain_amp" }            # stem -> a chain of STEM_FX, before the mix chain
    colour = "tape"                              # every stem through one of COLOURS
    pump_db = 6.0                                # depth of the kick-keyed duck on PUMPED stems
    crackle_db = -42.0                           # vinyl crackle in the drums stem, RMS dBFS
    levels_db = { drums = 3.0, strings = -8.0 }  # the balance: each stem this much louder than usual
    master = "clip"                              # the master bus: "glue" (a bus compressor), "clip", "light_clip"

Everything here is a function of the score, the style and the seed, so a song stays
byte-identical for the same request and seed, and each stem is processed on its own, so the
stems still add up to the pre-master.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pedalboard as pb

from ..score import Part, Score, midi_velocity
from ..streams import Streams
from .mix import master_style
from .synth import FontChoice

KICK_PITCHES = (35, 36)
PUMPED = ("bass", "keys", "strings", "lead", "guitar")
DOUBLE_PAN = (8, 120)  # the two takes of a double-tracked part: hard left, hard right
DOUBLE_TIMING_MS = 9.0  # the second take's notes land this far (sd) from the first's
DOUBLE_VELOCITY = 6.0


def _high_gain_amp() -> list:
    # Metal rhythm tone: tighten the lows, drive hard, scoop the mids, then a 4x12 cabinet's
    # band (nothing under 80 Hz or over ~5.5 kHz, a presence bump).
    return [pb.HighpassFilter(100), pb.PeakFilter(800, 3.0, 1.0), pb.Distortion(drive_db=22),
            pb.PeakFilter(450, -5.0, 0.8), pb.PeakFilter(2800, 3.0, 1.0),
            pb.LowpassFilter(5500), pb.HighpassFilter(80), pb.LowpassFilter(7000)]


def _crunch_amp() -> list:
    # Rock and blues: an amp on the edge of break-up into an open-back cabinet.
    return [pb.HighpassFilter(90), pb.Distortion(drive_db=10), pb.PeakFilter(1200, 2.5, 0.9),
            pb.LowpassFilter(6000)]


def _bass_drive() -> list:
    return [pb.Distortion(drive_db=8), pb.LowpassFilter(3500)]


def _funk_bite() -> list:
    # Clav and muted chops: bright and snappy, the body taken out.
    return [pb.HighpassFilter(200), pb.PeakFilter(1800, 4.0, 1.2), pb.Compressor(threshold_db=-24, ratio=4, attack_ms=1,
                                                                                  release_ms=60)]


def _808_sub() -> list:
    # Sub bass that is felt: a little drive for harmonics a phone speaker can play, lows kept.
    return [pb.LowpassFilter(900), pb.Distortion(drive_db=6), pb.LowShelfFilter(80, 4.0)]


def _acoustic_air() -> list:
    return [pb.HighpassFilter(90), pb.PeakFilter(250, -2.5, 1.0), pb.HighShelfFilter(6000, 3.0)]


STEM_FX = {
    "high_gain_amp": _high_gain_amp,
    "crunch_amp": _crunch_amp,
    "bass_drive": _bass_drive,
    "funk_bite": _funk_bite,
    "808_sub": _808_sub,
    "acoustic_air": _acoustic_air,
}


def _tape() -> list:
    # Lo-fi: a worn cassette or a sampled record: bandwidth gone above ~4 kHz and below ~60 Hz,
    # soft saturation, 12-bit grit, a slow wow.
    return [pb.HighpassFilter(60), pb.LowpassFilter(4200), pb.Distortion(drive_db=4), pb.Gain(-4),
            pb.Bitcrush(bit_depth=12), pb.Chorus(rate_hz=0.6, depth=0.12, centre_delay_ms=3.0, feedback=0.0, mix=0.5)]


COLOURS = {"tape": _tape}


@dataclass(frozen=True)
class GenreSound:
    fonts: dict[str, FontChoice] = field(default_factory=dict)
    double: tuple[str, ...] = ()
    fx: dict[str, str] = field(default_factory=dict)
    colour: str | None = None
    pump_db: float = 0.0
    crackle_db: float | None = None
    levels_db: dict[str, float] = field(default_factory=dict)
    master: str = "glue"  # render/mix.py MASTER_STYLES

    @classmethod
    def from_table(cls, *, table: dict) -> "GenreSound":
        unknown = set(table) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown sound setting(s) {sorted(unknown)}")
        fx = dict(table.get("fx", {}))
        for stem, name in fx.items():
            if name not in STEM_FX:
                raise ValueError(f"unknown stem effect {name!r} for {stem} (known: {', '.join(STEM_FX)})")
        master = master_style(table.get("master", "glue"))
        colour = table.get("colour")
        if colour is not None and colour not in COLOURS:
            raise ValueError(f"unknown colour {colour!r} (known: {', '.join(COLOURS)})")
        return cls(fonts={part: FontChoice.parse(spec=spec) for part, spec in table.get("fonts", {}).items()},
                   double=tuple(table.get("double", ())), fx=fx, colour=colour,
                   pump_db=float(table.get("pump_db", 0.0)), crackle_db=table.get("crackle_db"),
                   levels_db={stem: float(db) for stem, db in table.get("levels_db", {}).items()}, master=master)

    def pre_chain(self, *, stem: str) -> list:
        """The genre's effects that go before a stem's mix chain (amp, cabinet, tape)."""
        chain = STEM_FX[self.fx[stem]]() if stem in self.fx else []
        if self.colour is not None and stem not in ("vocals", "harmony"):
            chain += COLOURS[self.colour]()
        return chain


def doubled(parts: list[Part], *, sound: GenreSound, tempo_bpm: float, streams: Streams) -> list[Part]:
    """Each double-tracked part as two takes panned wide: the second is the same notes played
    again, a few milliseconds early or late and a little softer or harder, note by note."""
    out = []
    for part in parts:
        if part.name not in sound.double or part.is_drum:
            out.append(part)
            continue
        rng = streams.rng("double", part.name)
        beats_per_ms = tempo_bpm / 60000.0
        second = []
        for note in part.notes:
            shift = float(min(max(rng.normal(0.0, DOUBLE_TIMING_MS), -2.5 * DOUBLE_TIMING_MS), 2.5 * DOUBLE_TIMING_MS))
            velocity = midi_velocity(round(note.velocity + rng.normal(0.0, DOUBLE_VELOCITY)))
            start = max(0.0, note.start_beats + shift * beats_per_ms)
            second.append(dataclasses.replace(note, start_beats=start, velocity=velocity))
        out.append(dataclasses.replace(part, pan=DOUBLE_PAN[0]))
        out.append(dataclasses.replace(part, name=part.name + ":double", pan=DOUBLE_PAN[1], notes=second))
    return out


@dataclass(frozen=True)
class Pump:
    """A sidechain pump: a gain curve that drops `depth_db` at every kick and recovers over most of
    a beat, shaped like a compressor's release; made a block at a time (`block`), so a long song's
    curve is never held whole."""
    kicks: tuple[int, ...]  # the sample each kick starts on, before total_samples
    shape: np.ndarray  # the gain over a beat from a kick, float32
    total_samples: int

    @classmethod
    def of(cls, score: Score, *, depth_db: float, total_samples: int, sample_rate: int) -> "Pump":
        drums = score.part("drums")
        beat = int(round(60.0 / score.tempo_bpm * sample_rate))
        attack = int(0.004 * sample_rate)
        t = np.arange(beat, dtype=np.float64)
        shape_db = -depth_db * np.where(t < attack, t / attack, np.exp(-(t - attack) / (0.28 * beat)))
        kicks = () if drums is None or depth_db <= 0 else tuple(sorted(
            {round(score.seconds(n.start_beats) * sample_rate) for n in drums.notes if n.pitch in KICK_PITCHES}))
        return cls(tuple(k for k in kicks if k < total_samples), (10 ** (shape_db / 20)).astype(np.float32), total_samples)

    def block(self, start: int, end: int) -> np.ndarray:
        """The gain over samples [start, end), float32: where kicks overlap, the deeper dip."""
        gain = np.ones(end - start, dtype=np.float32)
        for kick in self.kicks[max(0, bisect.bisect_right(self.kicks, start - len(self.shape))):]:
            if kick >= end:
                break
            lo, hi = max(kick, start), min(self.total_samples, kick + len(self.shape), end)
            if hi > lo:
                np.minimum(gain[lo - start:hi - start], self.shape[lo - kick:hi - kick], out=gain[lo - start:hi - start])
        return gain


def pump_envelope(score: Score, *, depth_db: float, total_samples: int, sample_rate: int) -> np.ndarray:
    """The whole pump's gain curve (float32, one per sample); see `Pump`."""
    return Pump.of(score, depth_db=depth_db, total_samples=total_samples, sample_rate=sample_rate).block(0, total_samples)


def crackle(*, total_samples: int, sample_rate: int, level_db: float, streams: Streams) -> np.ndarray:
    """Vinyl surface noise: sparse clicks of random size over a faint hiss, (2, samples)."""
    rng = streams.rng("crackle")
    hiss = rng.normal(0.0, 1.0, (2, total_samples)).astype(np.float32) * 0.15
    clicks = np.zeros((2, total_samples), dtype=np.float32)
    count = int(total_samples / sample_rate * 14)  # about 14 clicks a second
    where = rng.integers(0, total_samples, count)
    sizes = (rng.pareto(2.5, count) + 0.3).astype(np.float32) * rng.choice([-1.0, 1.0], count).astype(np.float32)
    clicks[0, where] += sizes
    clicks[1, where] += sizes * rng.uniform(0.5, 1.0, count).astype(np.float32)
    noise = pb.Pedalboard([pb.HighpassFilter(700), pb.LowpassFilter(6000)])(hiss + clicks, sample_rate)
    rms = float(np.sqrt(np.mean(noise**2))) or 1.0
    return (noise * (10 ** (level_db / 20) / rms)).astype(np.float32)
