"""Mixing and mastering: per-stem EQ, compression, delay and reverb, then a master bus that
compresses (or, in a genre whose master clips, rounds off its peaks), sets -14 LUFS integrated
and limits true peak to -1 dBTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pedalboard as pb

from ..audio.io import on_pcm16_grid
from ..audio.filters import butterworth_power, max_ahead, moving_mean, zero_phase
from ..audio.measure import integrated_lufs, per_channel, rms_db, true_peak_db
from .reverb import reverb_in_place

TARGET_LUFS = -14.0
TRUE_PEAK_CEILING_DB = -1.0
TRUE_PEAK_GUARD_DB = TRUE_PEAK_CEILING_DB - 0.05  # a true peak above this is corrected...
TRUE_PEAK_AIM_DB = TRUE_PEAK_CEILING_DB - 0.1  # ...to this
LIMITER_CEILING_DB = -1.5
MASTER_CORRECTIONS = 8  # passes after the first, at most: loudness to within 0.2 LU, true peak under its ceiling
END_FADE_S = 0.3
# The master styles (styles.toml `master`) and how far over the song's loudness each one's
# clipper sets its ceiling (dB; None: no clipper, the bus compressor: "glue"). A clipped master has
# no bus compressor; the peaks are rounded off from CLIP_KNEE_DB under the ceiling, before the
# limiter, which then has little left to do. Hip-hop's kick and 808 peak 17 dB over its loudness:
# the bus compressor took 5 dB off the whole mix after every kick and the limiter the rest
# (MSD_musicnn instrumental, seeds 0-5: hip-hop 6 7 7 9 6 6 with the glue; clipped, its kit 2 dB up,
# 13 dB over the loudness 2 3 2 3 4 4, 11 dB 2 3 2 3 4 3, 9 dB 2 3 2 3 3 3 but saturating the whole
# mix). "light_clip" is for genres whose loudest moments are the singer's (r&b, blues: at 11 dB the
# clipper rounded off 3.4-4.0 % of their samples, most of them sung; at 13 dB 1.6-2.0 %, and the same ranks).
MASTER_STYLES = {"glue": None, "clip": 11.0, "light_clip": 13.0}
CLIP_KNEE_DB = -6.0
# How loud each stem sits while it plays (RMS dBFS before the master bus).
STEM_LEVEL_DB = {"drums": -21.0, "bass": -22.0, "guitar": -26.0, "keys": -26.0, "strings": -28.0,
                 "lead": -24.0, "vocals": -15.0, "harmony": -27.0}
MAX_STEM_GAIN_DB = 24.0  # FluidR3's standard kit renders near -40 dB RMS: 18 dB held its drums under their level
SILENCE = 1e-6
SPAN_STRIDE = 64
DE_ESSED = ("vocals", "harmony")
DE_ESS_HZ = 5000.0
DE_ESS_HOP = 32  # samples per step of the de-esser's gain
DE_ESS_OVERLAP = 2048  # samples filtered beside each block (the high-pass rings for ~100)
DE_ESS_KEEP_SAMPLES = 1 << 23  # a stem this long (3.2 min) or shorter is filtered once, its band held (32 MB a row)
EFFECT_TAIL_S = 4.0
VOCAL_POCKET_HZ, VOCAL_POCKET_DB = 2500.0, -4.0
PRE_CHAIN_LEVEL_DB = -20.0
CHAIN_BLOCK = 1 << 18
GainCurve = Callable[[int, int], np.ndarray]  # (start, end) -> a gain per sample, float32


def stem_chain(stem: str, tempo_bpm: float) -> pb.Pedalboard:
    beat_s = 60.0 / tempo_bpm
    # Room for the words: the backing dips where consonants and vowel formants are heard (Whisper's
    # WER on the full mix: 69 % with this and the vocals 2 dB up, 81 % without, 13 songs x 3 seeds).
    def pocket() -> pb.PeakFilter:
        return pb.PeakFilter(VOCAL_POCKET_HZ, VOCAL_POCKET_DB, 0.8)

    chains = {
        "drums": [pb.HighpassFilter(35), pb.Compressor(threshold_db=-16, ratio=3, attack_ms=5, release_ms=100)],
        "bass": [pb.HighpassFilter(35), pb.LowpassFilter(6000),
                 pb.Compressor(threshold_db=-20, ratio=4, attack_ms=10, release_ms=150)],
        "keys": [pb.HighpassFilter(120), pocket(), pb.Compressor(threshold_db=-20, ratio=2),
                 pb.Reverb(room_size=0.45, damping=0.5, wet_level=0.12, dry_level=1.0, width=1.0)],
        "guitar": [pb.HighpassFilter(110), pocket(), pb.PeakFilter(3000, 2.0, 0.8)],
        "strings": [pb.HighpassFilter(150), pocket(), pb.Reverb(room_size=0.7, damping=0.4, wet_level=0.22, dry_level=1.0, width=1.0)],
        "lead": [pb.HighpassFilter(150), pocket(), pb.Delay(delay_seconds=0.75 * beat_s, feedback=0.25, mix=0.15),
                 pb.Reverb(room_size=0.5, damping=0.5, wet_level=0.15, dry_level=1.0, width=1.0)],
        # A slapback, not a beat delay: echoes of whole words cost intelligibility (Whisper's WER
        # on the stem went from 16 % to 40 % with a quarter-note delay at 12 %).
        "vocals": [pb.HighpassFilter(100), pb.Compressor(threshold_db=-20, ratio=3.5, attack_ms=5, release_ms=80),
                   pb.Delay(delay_seconds=0.09, feedback=0.0, mix=0.08),
                   pb.Reverb(room_size=0.5, damping=0.5, wet_level=0.10, dry_level=1.0, width=1.0)],
        "harmony": [pb.HighpassFilter(150), pb.Compressor(threshold_db=-22, ratio=4, attack_ms=5, release_ms=80),
                    pb.HighShelfFilter(6000, -3.0), pb.Reverb(room_size=0.6, damping=0.5, wet_level=0.2, dry_level=1.0, width=1.0)],
    }
    return pb.Pedalboard(chains[stem])


@dataclass(frozen=True)
class StemGains:
    """The gains that set a stem's level, measured on the whole stem when a song is made and kept
    so that a passage of it rendered again (an edit's window) sits at the same level."""
    chain_db: float  # after the chain: the stem at its place in the mix
    pre_chain_db: float | None = None  # before a genre's pre-chain (None: the stem has none)
    noise_gain: float | None = None  # the vinyl crackle, relative to the raw stem (lofi drums)


def process_stem(stem: str, audio: np.ndarray, sample_rate: int, tempo_bpm: float, *,
                 pre_chain: list | None = None, gain_curve: GainCurve | None = None,
                 level_offset_db: float = 0.0) -> np.ndarray:
    """A (2, samples) stem through its chain, levelled to its place in the mix (see `levelled`)."""
    return levelled(stem, audio, sample_rate, tempo_bpm, pre_chain=pre_chain, gain_curve=gain_curve,
                    level_offset_db=level_offset_db)[0]


def levelled(stem: str, audio: np.ndarray, sample_rate: int, tempo_bpm: float, *,
             pre_chain: list | None = None, gain_curve: GainCurve | None = None,
             level_offset_db: float = 0.0, gains: StemGains | None = None) -> tuple[np.ndarray, StemGains | None]:
    """A (2, samples) stem through its chain, levelled to its place in the mix, and the gains that
    levelled it (None for a silent stem). Only the span where the stem sounds (plus a tail for
    delay and reverb) is processed; the rest stays silent. `pre_chain` (a genre's amp, cabinet or
    tape) runs first, on the stem brought to PRE_CHAIN_LEVEL_DB so a distortion's drive means the
    same for every song; `gain_curve` (the gains of samples [start, end): sidechain pumping)
    multiplies the finished stem, a block at a time; `level_offset_db` moves the stem from its usual place in the mix (a genre's
    balance). `gains` (a passage of a stem already made) are used instead of measuring. A float32
    stem is overwritten: the chains run over it in place, a block at a time, so a long stem is
    never held twice."""
    if gains is None and rms_db(audio[0], sample_rate) <= -100:
        return np.zeros_like(audio), None
    audio = np.ascontiguousarray(audio, dtype=np.float32)  # worked on in place: the caller gives it up
    pre_chain_db = None
    if pre_chain:
        pre_chain_db = (gains.pre_chain_db if gains and gains.pre_chain_db is not None
                        else PRE_CHAIN_LEVEL_DB - rms_db(audio[0], sample_rate))
        audio *= np.float32(10 ** (pre_chain_db / 20))
        _run_in_place(pb.Pedalboard(pre_chain), audio, sample_rate)
    if gains is None:
        level = rms_db(audio[0], sample_rate)
        gains = StemGains(float(np.clip(STEM_LEVEL_DB[stem] + level_offset_db - level, -MAX_STEM_GAIN_DB, MAX_STEM_GAIN_DB)),
                          pre_chain_db)
    board = stem_chain(stem, tempo_bpm)
    board.append(pb.Gain(gains.chain_db))
    if stem in DE_ESSED:
        _de_ess_in_place(audio, sample_rate)
    coarse = np.abs(audio[:, ::SPAN_STRIDE]).max(axis=0)
    loud = np.flatnonzero(coarse > SILENCE)
    if not len(loud):
        return np.zeros_like(audio), gains
    start = max(0, (loud[0] - 1) * SPAN_STRIDE)
    end = min(audio.shape[1], (loud[-1] + 1) * SPAN_STRIDE + int(EFFECT_TAIL_S * sample_rate))
    audio[:, :start] = 0.0
    audio[:, end:] = 0.0
    _run_chain_in_place(board, audio[:, start:end], sample_rate)
    if gain_curve is not None:
        for begin in range(0, audio.shape[1], CHAIN_BLOCK):
            stop = min(audio.shape[1], begin + CHAIN_BLOCK)
            audio[:, begin:stop] *= gain_curve(begin, stop)
    return audio, gains


def _run_chain_in_place(board: pb.Pedalboard, audio: np.ndarray, sample_rate: int) -> None:
    """A stem's chain over it in place, its reverb applied as the room's response (render/reverb.py);
    a mono line on two channels (a sung stem) goes through the plugins before the reverb on one
    channel, copied to the other after them (the same samples as both, in half the time): the
    reverb is what makes it stereo."""
    plugins = list(board)
    at = next((i for i, plugin in enumerate(plugins) if isinstance(plugin, pb.Reverb)), len(plugins))
    if at:
        rows = _distinct_rows(audio)
        _run_in_place(pb.Pedalboard(plugins[:at]), rows, sample_rate)
        if rows.shape[0] < audio.shape[0]:
            audio[1] = audio[0]
    if at < len(plugins):
        reverb_in_place(plugins[at], audio, sample_rate)
    if at + 1 < len(plugins):
        _run_in_place(pb.Pedalboard(plugins[at + 1:]), audio, sample_rate)


def _distinct_rows(audio: np.ndarray) -> np.ndarray:
    """`audio[:1]` for a mono line on two channels (a sung stem), else `audio`."""
    return audio[:1] if audio.shape[0] == 2 and np.array_equal(audio[0], audio[1]) else audio


def _run_in_place(board: pb.Pedalboard, audio: np.ndarray, sample_rate: int) -> None:
    """`board` over (channels, samples) audio, in place, CHAIN_BLOCK samples at a time: the same
    samples as one call for these chains (no latency to compensate), without a copy of the stem."""
    for start in range(0, audio.shape[1], CHAIN_BLOCK):
        block = audio[:, start:start + CHAIN_BLOCK]
        block[:] = board(block, sample_rate, reset=start == 0)


def de_ess(audio: np.ndarray, sample_rate: int, threshold_db: float = -30.0, ratio: float = 4.0) -> np.ndarray:
    """A split-band de-esser: above 5 kHz, whatever rises over `threshold_db` (5 ms RMS, fast
    attack, 60 ms release) is turned down by `ratio`; the band below passes untouched. Returns a
    new (channels, samples) float32 array."""
    out = np.array(audio, dtype=np.float32, order="C")
    _de_ess_in_place(out, sample_rate, threshold_db=threshold_db, ratio=ratio)
    return out


def _de_ess_in_place(audio: np.ndarray, sample_rate: int, *, threshold_db: float = -30.0, ratio: float = 4.0) -> None:
    """de_ess over a float32 C-ordered stem, in place, CHAIN_BLOCK samples at a time; a sung
    line (mono on two channels) is filtered once. The band above DE_ESS_HZ is a 4th-order
    Butterworth high pass run forward and back (zero phase, through an FFT), so audio - band is
    the band below, untouched."""
    rows = _distinct_rows(audio)
    samples = audio.shape[1]
    if samples == 0:
        return
    def power(hz: np.ndarray) -> np.ndarray:  # float32: the FFTs in single precision (8 ms a block, not 11)
        return butterworth_power(hz, sample_rate=sample_rate, order=4, low_hz=DE_ESS_HZ).astype(np.float32)

    def high(start: int, end: int, before: np.ndarray | None = None) -> np.ndarray:
        """The band above DE_ESS_HZ over [start, end), filtered with DE_ESS_OVERLAP samples
        beside it; `before`: those before it as they were, when the stem there has been changed
        already. Silence (a sung stem between its lines) has none."""
        begin, stop = max(0, start - DE_ESS_OVERLAP), min(samples, end + DE_ESS_OVERLAP)
        x = rows[:, begin:stop] if before is None else np.concatenate([before, rows[:, start:stop]], axis=1)
        if not x.any():
            return np.zeros((x.shape[0], end - start), dtype=np.float32)
        return zero_phase(np.asarray(x, dtype=np.float32), power, sample_rate=sample_rate)[:, start - begin:end - begin]

    power_per_hop = np.empty(-(-samples // DE_ESS_HOP), dtype=np.float32)  # per DE_ESS_HOP samples
    kept = [] if samples <= DE_ESS_KEEP_SAMPLES else None  # the band, when it is small enough to hold
    for start, end in _spans(samples):
        band = high(start, end)
        if kept is not None:
            kept.append(band)
        block = np.mean(np.square(band), axis=0)
        block = np.pad(block, (0, -len(block) % DE_ESS_HOP))
        at = start // DE_ESS_HOP
        power_per_hop[at:at + len(block) // DE_ESS_HOP] = block.reshape(-1, DE_ESS_HOP).mean(axis=1)
    hop_gain = _de_ess_gain(power_per_hop, sample_rate, threshold_db=threshold_db, ratio=ratio)
    centres = (np.arange(len(hop_gain)) + 0.5) * DE_ESS_HOP
    before = None  # else filtered again, a block at a time: a long stem's band is never held whole
    for index, (start, end) in enumerate(_spans(samples)):  # low + high * gain == audio + high * (gain - 1)
        if kept is not None:
            band, kept[index] = kept[index], None
        else:
            band = high(start, end, before)
            before = rows[:, max(0, end - DE_ESS_OVERLAP):end].copy()
        gain = np.interp(np.arange(start, end), centres, hop_gain).astype(np.float32)
        audio[:, start:end] += band * (gain - np.float32(1.0))


def _spans(samples: int) -> list[tuple[int, int]]:
    return [(start, min(samples, start + CHAIN_BLOCK)) for start in range(0, samples, CHAIN_BLOCK)]


def _de_ess_gain(power: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float) -> np.ndarray:
    """The de-esser's gain every DE_ESS_HOP samples from the high band's power over each: its
    level over 5 ms, turned down by `ratio` above `threshold_db`, held 60 ms (a sibilant lasts
    tens of ms; the gain, drawn linearly between, moves no faster than that)."""
    window = max(1, round(0.005 * sample_rate / DE_ESS_HOP))
    level_db = 10 * np.log10(moving_mean(power, window) + 1e-12)
    reduction_db = np.minimum(0.0, (threshold_db - level_db) * (1 - 1 / ratio))
    release = max(1, round(0.06 * sample_rate / DE_ESS_HOP))
    held = max_ahead(-reduction_db, release)  # hold, then let go
    return 10 ** (-held / 20)


@dataclass(frozen=True)
class MasterGains:
    """The master bus's gains, set on the whole song and kept for a passage of it made again."""
    gain_db: float  # before the limiter: the song to TARGET_LUFS
    trim_db: float = 0.0  # after it: the true peak under TRUE_PEAK_CEILING_DB
    ceiling_db: float = LIMITER_CEILING_DB  # the limiter's: lower where a song's inter-sample peaks overshoot
    clip_db: float | None = None  # a clipped master's ceiling, dBFS of the pre-master (None: the bus compressor)


@dataclass(frozen=True)
class MixLevels:
    """Every gain a song's mix and master measured: what a passage rendered again is set at."""
    stems: dict[str, StemGains]
    master: MasterGains

    def to_dict(self) -> dict:
        return {"stems": {name: dataclasses.asdict(gains) for name, gains in sorted(self.stems.items())},  # (rendered in any order)
                "master": dataclasses.asdict(self.master)}

    @classmethod
    def from_dict(cls, data: dict) -> MixLevels:
        """The levels `to_dict` wrote (JSON keeps every float exactly); KeyError or TypeError if
        they are not that."""
        return cls({str(name): StemGains(**gains) for name, gains in data["stems"].items()}, MasterGains(**data["master"]))


@dataclass(frozen=True)
class Mastered:
    audio: np.ndarray
    loudness_lufs: float
    true_peak_dbtp: float
    gains: MasterGains


def master(premaster: np.ndarray, sample_rate: int, *, gains: MasterGains | None = None, ends: bool = True,
           style: str = "glue") -> Mastered:
    """(2, samples) pre-master -> bus compression ("glue") or a soft clipper ("clip", "light_clip"), loudness to
    -14 LUFS, a limiter, a true-peak guard and (`ends`) a short fade at the very end, on the 16-bit
    grid (`on_pcm16_grid`: a 16-bit file of the song holds exactly the song). With `gains` (a
    passage of a song mastered before) the song's own gains are used, not measured, its style
    among them. The bus works in place, so a float32 pre-master is overwritten; a long song then
    costs two copies of itself, not four."""
    master_style(style)
    compressed = np.ascontiguousarray(premaster, dtype=np.float32)
    clip_db = gains.clip_db if gains is not None else None
    if gains is None and MASTER_STYLES[style] is not None:
        loudness = integrated_lufs(compressed.T, sample_rate)
        clip_db = loudness + MASTER_STYLES[style] if np.isfinite(loudness) else None  # silence: nothing to round off
    if clip_db is None:
        _compress_bus(compressed, sample_rate)
    else:
        _soft_clip_in_place(compressed, ceiling=10 ** (clip_db / 20))
    if ends:
        _fade_end(compressed, sample_rate)
    if gains is not None:
        limited = _limit(compressed, gains.gain_db, sample_rate, ceiling_db=gains.ceiling_db)
        if gains.trim_db:
            limited *= np.float32(10 ** (gains.trim_db / 20))
        limited = on_pcm16_grid(limited, in_place=True)
        return Mastered(limited, *_measured(limited, sample_rate), gains)
    gain_db, ceiling_db = TARGET_LUFS - integrated_lufs(compressed.T, sample_rate), LIMITER_CEILING_DB
    limited = _limit(compressed, gain_db, sample_rate, ceiling_db=ceiling_db)
    loudness, peak = _measured(limited, sample_rate)
    for _ in range(MASTER_CORRECTIONS):  # limiting lowers loudness a little; peaks between samples overshoot
        if abs(TARGET_LUFS - loudness) <= 0.2 and peak <= TRUE_PEAK_GUARD_DB:
            break
        gain_db += TARGET_LUFS - loudness
        if peak > TRUE_PEAK_GUARD_DB:  # limit harder by the overshoot, rather than turn the song down
            ceiling_db = float(ceiling_db - (peak - TRUE_PEAK_AIM_DB))
        del limited
        limited = _limit(compressed, gain_db, sample_rate, ceiling_db=ceiling_db)
        loudness, peak = _measured(limited, sample_rate)
    trim_db = 0.0
    del compressed
    if peak > TRUE_PEAK_GUARD_DB:  # the last guard: scaling shifts loudness and peak by the same dB
        trim_db = TRUE_PEAK_AIM_DB - peak
        limited *= np.float32(10 ** (trim_db / 20))
        loudness, peak = loudness + trim_db, peak + trim_db
    return Mastered(on_pcm16_grid(limited, in_place=True), loudness, peak, MasterGains(gain_db, trim_db, ceiling_db, clip_db))


def master_style(name: str) -> str:
    """`name` if it is one of MASTER_STYLES, else ValueError naming them."""
    if name not in MASTER_STYLES:
        raise ValueError(f"unknown master style {name!r} (known: {', '.join(MASTER_STYLES)})")
    return name


def _measured(audio: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of (2, samples) audio (one after the other:
    side by side in two threads took as long, 0.09-0.11 s for a 60 s song)."""
    return integrated_lufs(audio.T, sample_rate), true_peak_db(audio.T)


def _compress_bus(audio: np.ndarray, sample_rate: int) -> None:
    """The glue, in place: each channel on its own core (pedalboard's compressor is not linked:
    the same samples as both at once)."""
    def compress(channel: int) -> None:
        board = pb.Pedalboard([pb.Compressor(threshold_db=-14, ratio=2, attack_ms=20, release_ms=200)])
        _run_in_place(board, audio[channel:channel + 1], sample_rate)

    per_channel(compress, range(audio.shape[0]))


def _soft_clip_in_place(audio: np.ndarray, *, ceiling: float) -> None:
    """Samples louder than CLIP_KNEE_DB under `ceiling` bent towards it (a tanh from the knee up,
    its slope 1 there); quieter ones untouched. A block at a time: a long song is never copied."""
    knee = np.float32(ceiling * 10 ** (CLIP_KNEE_DB / 20))
    room = np.float32(ceiling) - knee
    for begin in range(0, audio.shape[1], CHAIN_BLOCK):
        block = audio[:, begin:begin + CHAIN_BLOCK]
        over = np.abs(block) > knee
        loud = block[over]
        block[over] = np.sign(loud) * (knee + room * np.tanh((np.abs(loud) - knee) / room))


def _limit(audio: np.ndarray, gain_db: float, sample_rate: int, *, ceiling_db: float) -> np.ndarray:
    limiter = pb.Pedalboard([pb.Gain(gain_db), pb.BrickwallLimiter(ceiling_db=ceiling_db, release_ms=80)])
    return limiter(audio, sample_rate)


def _fade_end(audio: np.ndarray, sample_rate: int) -> None:
    n = min(audio.shape[1], int(END_FADE_S * sample_rate))
    audio[:, audio.shape[1] - n:] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
