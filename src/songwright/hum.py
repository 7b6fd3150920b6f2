"""A hummed or sung tune (WAV, FLAC, OGG, MP3) transcribed to notes on the CPU, no model: pYIN's
F0 cut into notes where the voice stops, where the pitch settles on another note, and where the
loudness dips (a new breath or consonant) to start the same pitch again; each note's pitch the median of its
frames; times quantised to sixteenths of the request's tempo, or of the tempo librosa hears."""

from __future__ import annotations

import io

import numpy as np

from .errors import InvalidRequest

FIELD = "melody"
RATE = 22050
HOP = 256  # 11.6 ms
FMIN_HZ, FMAX_HZ = 65.0, 1000.0
NEW_NOTE_SEMITONES = 0.7  # a pitch this far from the note's for SETTLE_FRAMES frames is a new note
SETTLE_FRAMES = 4  # 46 ms: a glide or a vibrato swing is shorter
MIN_NOTE_S = 0.08
FRAGMENT_S = 0.15
STEADY_SEMITONES = 0.5
MIN_VOICED_PROBABILITY = 0.3  # pYIN's mean voicing probability over a note (noise: about 0.01)
ONSET_MARGIN_S = 0.1  # a dip inside a note, this far from its start and followed by this much voice, restarts it
DIP_DB = 6.0
DIP_WINDOW_S = 0.1
TEMPO_RANGE_BPM = (60.0, 180.0)
SUBDIVISION = 4  # sixteenths
PHASES = 16


def is_midi(data: bytes) -> bool:
    return data[:4] == b"MThd"


def read_audio_bytes(data: bytes) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        audio, sample_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile's errors for bytes that are no audio it reads
        raise InvalidRequest(FIELD, "must be a MIDI file or a recording (WAV, FLAC, OGG or MP3) of the tune "
                                    f"({type(exc).__name__})", f"{len(data)} bytes") from None
    return audio, sample_rate


def transcribe_s(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float, int]]:
    """The notes of a hummed line as (start s, end s, MIDI pitch)."""
    import librosa

    from .audio.analysis import mono_at

    y = mono_at(audio, sample_rate, RATE)
    if not np.any(np.abs(y) > 1e-4):
        raise InvalidRequest(FIELD, "must hold a hummed or sung tune: the recording is silent", "silence")
    f0, voiced, probability = librosa.pyin(y, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=RATE, frame_length=2048, hop_length=HOP)
    midi = librosa.hz_to_midi(np.where(voiced, f0, 1.0))
    notes = _without_fragments(_segments(midi, voiced, _dips(y)))
    frame_s = HOP / RATE
    out = [(a * frame_s, b * frame_s, int(round(float(np.median(midi[a + (b - a) // 4:b - (b - a) // 4 or b])))))
           for a, b in notes if (b - a) * frame_s >= MIN_NOTE_S and _steady(midi[a:b])
           and float(np.mean(probability[a:b])) >= MIN_VOICED_PROBABILITY]
    if not out:
        raise InvalidRequest(FIELD, "must hold a hummed or sung tune: no pitched note was found in the recording",
                             f"{len(y) / RATE:.1f} s of audio")
    return out


def _steady(pitches: np.ndarray) -> bool:
    """A held pitch: half its frames within STEADY_SEMITONES of its median (noise's F0 wanders)."""
    return float(np.median(np.abs(pitches - np.median(pitches)))) <= STEADY_SEMITONES


def _dips(y: np.ndarray) -> set[int]:
    """Frames where the loudness dips DIP_DB or more below the loudest within DIP_WINDOW_S on both
    sides: a new breath or a consonant restarting the voice (vibrato moves the spectrum, not this)."""
    import librosa

    rms_db = librosa.amplitude_to_db(librosa.feature.rms(y=y, frame_length=1024, hop_length=HOP)[0] + 1e-9)
    half = int(DIP_WINDOW_S * RATE / HOP)
    dips = set()
    for i in range(half, len(rms_db) - half):
        here = rms_db[i]
        if here == rms_db[i - 2:i + 3].min() and min(rms_db[i - half:i].max(), rms_db[i + 1:i + half + 1].max()) - here >= DIP_DB:
            dips.add(i)
    return dips


def _segments(midi: np.ndarray, voiced: np.ndarray, dips: set[int]) -> list[tuple[int, int]]:
    """Frame ranges of notes: a voiced run, cut where the pitch settles elsewhere or a loudness
    dip restarts it."""
    margin = int(ONSET_MARGIN_S * RATE / HOP)
    notes, start, reference = [], None, 0.0
    i = 0
    while i < len(midi):
        if not voiced[i]:
            if start is not None:
                notes.append((start, i))
                start = None
            i += 1
            continue
        if start is None:
            start, reference = i, float(np.median(midi[i:i + SETTLE_FRAMES][voiced[i:i + SETTLE_FRAMES]]))
            i += 1
            continue
        window = slice(i, i + SETTLE_FRAMES)
        away = voiced[window].all() and np.all(np.abs(midi[window] - reference) > NEW_NOTE_SEMITONES)
        restart = i in dips and i - start > margin and voiced[i:i + margin].all()
        if away or restart:
            notes.append((start, i))
            start = i
            reference = float(np.median(midi[i + SETTLE_FRAMES // 2:i + 2 * SETTLE_FRAMES][
                voiced[i + SETTLE_FRAMES // 2:i + 2 * SETTLE_FRAMES]])) if away else reference
        i += 1
    if start is not None:
        notes.append((start, len(midi)))
    return notes


def _without_fragments(notes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A piece shorter than FRAGMENT_S that runs straight into the next note (a glide or a scoop
    into it) is that note's start; one that only follows a note is that note's end."""
    shortest = int(FRAGMENT_S * RATE / HOP)
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for i, (a, b) in enumerate(notes):
        a = pending if pending is not None else a
        pending = None
        touches_next = i + 1 < len(notes) and notes[i + 1][0] - b <= 1
        if b - a < shortest and touches_next:
            pending = a
        elif b - a < shortest and out and a - out[-1][1] <= 1:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def estimate_tempo_bpm(notes_s: list[tuple[float, float, int]]) -> float:
    """A tempo from the note onsets' spacing (the hummer's own), folded into TEMPO_RANGE_BPM."""
    import librosa

    starts = np.array([s for s, _, _ in notes_s])
    envelope = np.zeros(int((starts[-1] + 1.0) * RATE / HOP) + 1)
    envelope[(starts * RATE / HOP).astype(int)] = 1.0
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=envelope, sr=RATE, hop_length=HOP))[0])
    while tempo < TEMPO_RANGE_BPM[0]:
        tempo *= 2
    while tempo > TEMPO_RANGE_BPM[1]:
        tempo /= 2
    return round(tempo, 1)


def grid_start_s(notes_s: list[tuple[float, float, int]], *, tempo_bpm: float) -> float:
    """Where the sixteenth grid starts: of PHASES offsets within a sixteenth before the first note,
    the one that puts the onsets nearest to grid lines."""
    step = 60.0 / tempo_bpm / SUBDIVISION
    starts = np.array([s for s, _, _ in notes_s])
    candidates = starts[0] - step * np.arange(PHASES) / PHASES
    error = [np.sum(np.abs((starts - c) / step - np.round((starts - c) / step))) for c in candidates]
    return float(candidates[int(np.argmin(error))])


def quantise(notes_s: list[tuple[float, float, int]], *, tempo_bpm: float) -> list[tuple[float, float, int]]:
    """(start beats, duration beats, pitch) on a sixteenth grid from `grid_start_s`; two notes on
    one sixteenth keep the longer; each note at least a sixteenth, ending before the next."""
    beat_s = 60.0 / tempo_bpm
    first = grid_start_s(notes_s, tempo_bpm=tempo_bpm)
    grid = lambda t: round((t - first) / beat_s * SUBDIVISION) / SUBDIVISION  # noqa: E731
    placed: dict[float, tuple[float, int]] = {}
    for start, end, pitch in notes_s:
        at = grid(start)
        length = max(1.0 / SUBDIVISION, grid(end) - at)
        if at not in placed or length > placed[at][0]:
            placed[at] = (length, pitch)
    starts = sorted(placed)
    return [(at, min(placed[at][0], (starts[i + 1] - at) if i + 1 < len(starts) else placed[at][0]), placed[at][1])
            for i, at in enumerate(starts)]
