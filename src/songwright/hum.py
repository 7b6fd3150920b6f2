"""A hummed or sung tune (WAV, FLAC, OGG, MP3) transcribed to notes on the CPU, no model: pYIN's
F0 cut into notes where the voice stops, where the loudness dips (a breath or a consonant) to start
the voice again, and where the pitch leaves a settled note for another (the cut where the glide
begins); loudness is measured in the vowels' formant band, where a voiced consonant is quiet, and a
note starts where its vowel gets loud; a short note pitched between its neighbours is a glide; each
note's pitch the median of its middle frames; times quantised to sixteenths of the request's
tempo, or of the tempo librosa hears, fitted to the onsets. `songwright.tunes` takes the notes as the request's tune."""

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
GLIDE_NOTE_S = 0.2  # a shorter note pitched between its neighbours is a glide from one to the other
STEADY_SEMITONES = 0.5
MIN_VOICED_PROBABILITY = 0.3  # pYIN's mean voicing probability over a note (noise: about 0.01)
ONSET_MARGIN_S = 0.1  # a dip inside a note, this far from its start and followed by this much voice, restarts it
DIP_DB = 6.0
DIP_WINDOW_S = 0.1
PITCHED_PROBABILITY = 0.3  # a voiced frame pYIN is less sure of than this (a consonant's edge) sets no pitch
SETTLED_SEMITONES = 0.4  # a note has settled when SETTLE_FRAMES frames span no more than this
DRIFT_SEMITONES = 0.2  # ...and their last is this near their first
DEPART_SEMITONES = 0.3  # a glide to the next note starts where the pitch leaves the note by this
VOWEL_DB = 10.0  # the vowel starts where the voice is this close to its loudest...
VOWEL_WINDOW_S = 0.1  # ...over this long
VOWEL_BAND_HZ = (300.0, 3000.0)  # loudness is measured here: a vowel's formants, little of a nasal's murmur
FRAME_S = HOP / RATE
TEMPO_RANGE_BPM = (60.0, 180.0)
SUBDIVISION = 4  # sixteenths
PHASES = 16
TEMPO_FIT_SHARE = 0.04
TEMPO_FIT_STEPS = 81  # 0.1 % apart


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
    """The notes of a hummed or sung line as (start s, end s, MIDI pitch)."""
    import librosa

    from .audio.analysis import mono_at
    from .audio.pitch import pyin

    y = mono_at(audio, sample_rate, RATE)
    if not np.any(np.abs(y) > 1e-4):
        raise InvalidRequest(FIELD, "must hold a hummed or sung tune: the recording is silent", "silence")
    f0, voiced, probability = pyin(y, fmin=FMIN_HZ, fmax=FMAX_HZ, sr=RATE, frame_length=2048, hop_length=HOP)
    midi = librosa.hz_to_midi(np.where(voiced, f0, 1.0))
    pitched = voiced & (probability >= PITCHED_PROBABILITY)
    loudness_db = _vowel_band_db(y)
    notes = _without_fragments(_segments(midi, voiced, pitched, loudness_db))
    out = [(a * FRAME_S, b * FRAME_S, _pitch(midi[a:b], pitched[a:b])) for a, b in notes
           if (b - a) * FRAME_S >= MIN_NOTE_S and _steady(midi[a:b][pitched[a:b]])
           and float(np.mean(probability[a:b])) >= MIN_VOICED_PROBABILITY]
    out = _without_glides(out)
    if not out:
        raise InvalidRequest(FIELD, "must hold a hummed or sung tune: no pitched note was found in the recording",
                             f"{len(y) / RATE:.1f} s of audio")
    return out


def _vowel_band_db(y: np.ndarray) -> np.ndarray:
    """Each frame's loudness in VOWEL_BAND_HZ, where a vowel's first two formants are: a voiced
    consonant (the murmur of m, n, ng; l, w, the "th" of "the") is much quieter there than the
    vowel it leads into, so the vowel's start and a consonant's dip between two vowels stand out
    better than in the whole spectrum's loudness."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=1024, hop_length=HOP)) ** 2
    hz = librosa.fft_frequencies(sr=RATE, n_fft=1024)
    band = (hz >= VOWEL_BAND_HZ[0]) & (hz < VOWEL_BAND_HZ[1])
    return 10 * np.log10(power[band].sum(axis=0) + 1e-10)


def _pitch(midi: np.ndarray, pitched: np.ndarray) -> int:
    """A note's pitch: the median of its pitched frames in the second and third quarters (a
    scoop into it and a glide out of it left out), of all its pitched frames when those are few."""
    n = len(midi)
    middle = slice(n // 4, n - n // 4)
    frames = midi[middle][pitched[middle]]
    return int(round(float(np.median(frames if len(frames) >= SETTLE_FRAMES else midi[pitched]))))


def _steady(pitches: np.ndarray) -> bool:
    """A held pitch: half its frames within STEADY_SEMITONES of its median (noise's F0 wanders)."""
    return len(pitches) > 0 and float(np.median(np.abs(pitches - np.median(pitches)))) <= STEADY_SEMITONES


def _segments(midi: np.ndarray, voiced: np.ndarray, pitched: np.ndarray,
              loudness_db: np.ndarray) -> list[tuple[int, int]]:
    """Frame ranges of notes: each voiced run, starting where its vowel gets loud, cut where a
    loudness dip (a consonant) restarts the voice, and each of those pieces cut again where the
    pitch leaves for another note (legato). A consonant's restart is the stronger cue: a glide the
    voice starts in the consonant before it stays with the note before."""
    notes = []
    for a, b in _runs(voiced):
        a = _vowel_start(loudness_db, a, b)
        edges = [a, *_dip_cuts(loudness_db, a, b), b]
        for start, end in zip(edges, edges[1:]):
            piece = [start, *_pitch_cuts(midi, pitched, start, end), end]
            notes += list(zip(piece, piece[1:]))
    return notes


def _runs(voiced: np.ndarray) -> list[tuple[int, int]]:
    """(first, past last) frame of each run of voiced frames."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def _vowel_start(loudness_db: np.ndarray, a: int, b: int) -> int:
    """The first frame from `a` within VOWEL_DB of the loudest of the next VOWEL_WINDOW_S: a voiced
    consonant (m, n, l, r, w, the "th" of "the") before the vowel is quieter and sung before the beat."""
    window = loudness_db[a:min(b, a + int(VOWEL_WINDOW_S / FRAME_S))]
    loud = np.flatnonzero(window >= window.max() - VOWEL_DB)
    return a + int(loud[0])


def _pitch_cuts(midi: np.ndarray, pitched: np.ndarray, a: int, b: int) -> list[int]:
    """Frames where the pitch leaves a settled note for another: SETTLE_FRAMES pitched frames all
    more than NEW_NOTE_SEMITONES away. The cut is where the pitch began to leave (more than
    DEPART_SEMITONES away), so a glide belongs to the note it goes to; the next note's pitch is
    taken once it settles (SETTLE_FRAMES within SETTLED_SEMITONES). A last cut after which no
    pitch settles is dropped: the voice glided on through a consonant (the "l" of "Sail the"), and
    the glide is the end of the note before, not a note."""
    cuts, reference, last = [], None, a
    for i in range(a, b - SETTLE_FRAMES + 1):
        window = slice(i, i + SETTLE_FRAMES)
        if not pitched[window].all():
            continue
        if reference is None:
            if _settled(midi[window]):
                reference = float(np.median(midi[window]))
            continue
        if np.all(np.abs(midi[window] - reference) > NEW_NOTE_SEMITONES):
            j = i
            while j - 1 > last and abs(midi[j - 1] - reference) > DEPART_SEMITONES:
                j -= 1
            cuts.append(j)
            reference, last = None, j
    if cuts and reference is None:  # no note settled after the last cut: a glide into the next consonant
        cuts.pop()
    return cuts


def _settled(window: np.ndarray) -> bool:
    """A pitch that holds: spanning at most SETTLED_SEMITONES and drifting at most DRIFT_SEMITONES
    (a glide's middle is neither)."""
    return np.ptp(window) <= SETTLED_SEMITONES and abs(window[-1] - window[0]) <= DRIFT_SEMITONES


def _dip_cuts(loudness_db: np.ndarray, a: int, b: int) -> list[int]:
    """Vowel starts after loudness dips of DIP_DB or more below the loudest within DIP_WINDOW_S on
    both sides: a breath or a consonant restarting the voice (vibrato moves the spectrum, not this)."""
    half = int(DIP_WINDOW_S / FRAME_S)
    margin = int(ONSET_MARGIN_S / FRAME_S)
    cuts = []
    for i in range(a + margin, b - margin):
        here = loudness_db[i]
        if here == loudness_db[i - 2:i + 3].min() and \
                min(loudness_db[i - half:i].max(), loudness_db[i + 1:i + half + 1].max()) - here >= DIP_DB:
            cuts.append(_vowel_start(loudness_db, i, b))
    return cuts


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


def _without_glides(notes: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """A note shorter than GLIDE_NOTE_S, joined to the notes on both sides and pitched strictly
    between them, is the voice gliding from one to the other through a consonant (the dip of
    "night" between 69 and 67 heard as a 68): it becomes the end of the note before. A legato run
    of passing notes each shorter than that (sixteenths above about 75 BPM) is lost with it."""
    joined = 2 * FRAME_S
    out: list[tuple[float, float, int]] = []
    for i, (a, b, pitch) in enumerate(notes):
        after = notes[i + 1] if i + 1 < len(notes) else None
        if out and after and b - a < GLIDE_NOTE_S and a - out[-1][1] <= joined and after[0] - b <= joined \
                and min(out[-1][2], after[2]) < pitch < max(out[-1][2], after[2]):
            out[-1] = (out[-1][0], b, out[-1][2])
        else:
            out.append((a, b, pitch))
    return out


def estimate_tempo_bpm(notes_s: list[tuple[float, float, int]]) -> float:
    """A tempo from the note onsets' spacing (the hummer's own), folded into TEMPO_RANGE_BPM, then
    fitted within TEMPO_FIT_SHARE of it so that the onsets lie nearest sixteenth lines: a tempo 2 %
    off puts the notes of the fourth bar a sixteenth off the grid."""
    import librosa

    starts = np.array([s for s, _, _ in notes_s])
    envelope = np.zeros(int((starts[-1] + 1.0) * RATE / HOP) + 1)
    envelope[(starts * RATE / HOP).astype(int)] = 1.0
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=envelope, sr=RATE, hop_length=HOP))[0])
    while tempo < TEMPO_RANGE_BPM[0]:
        tempo *= 2
    while tempo > TEMPO_RANGE_BPM[1]:
        tempo /= 2
    candidates = tempo * (1 + np.linspace(-TEMPO_FIT_SHARE, TEMPO_FIT_SHARE, TEMPO_FIT_STEPS))
    misfit = [_grid_misfit(starts, tempo_bpm=t)[0] for t in candidates]
    return round(float(candidates[int(np.argmin(misfit))]), 1)


def _grid_misfit(starts: np.ndarray, *, tempo_bpm: float) -> tuple[float, float]:
    """How far, in sixteenths summed over the onsets, they lie from the nearest grid lines of the
    best of PHASES grid starts before the first onset; and that start."""
    step = 60.0 / tempo_bpm / SUBDIVISION
    candidates = starts[0] - step * np.arange(PHASES) / PHASES
    offsets = (starts[None, :] - candidates[:, None]) / step
    error = np.abs(offsets - np.round(offsets)).sum(axis=1)
    best = int(np.argmin(error))
    return float(error[best]), float(candidates[best])


def grid_start_s(notes_s: list[tuple[float, float, int]], *, tempo_bpm: float) -> float:
    """Where the sixteenth grid starts: of PHASES offsets within a sixteenth before the first note,
    the one that puts the onsets nearest to grid lines."""
    return _grid_misfit(np.array([s for s, _, _ in notes_s]), tempo_bpm=tempo_bpm)[1]


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
