"""Festival's slt voice (an HTS voice: Debian festvox-us-slt-hts, female American English) singing a
line, as itself (`slt`) or, sung low with its formants lowered 17 % by its vocoder's frequency
warping, as a male voice (`sltm`). Spoken, it is heard far better than MBROLA's voices (Whisper
recall 96.9 % against us1's 81.7 %, benchmarks/bench_voices.py). Each line, on its own clock:

1. Festival (one `festival --pipe` process per part) reads the line: its phones, syllables and
   words (each of our words one of its tokens), and writes its HTS labels; hts_engine's duration
   model says how long the voice speaks each phone.
2. Every phone is timed from the notes: a syllable's onset consonants just before its note at their
   spoken lengths (at most MAX_ONSET_S; sung legato, they take their time from the vowel before,
   which keeps MIN_VOWEL_SHARE of itself), its vowel on the note, its coda at the note's end (at
   most MAX_CODA_SHARE of it); pauses fill the gaps. A melisma's later notes belong to their
   syllable; a word Festival reads as another number of syllables spreads them evenly over its
   notes. Festival writes the labels again with those times.
3. Debian's libhtsengine1 (hts_engine API 1.10, through ctypes) keeps those durations (phoneme
   alignment) and generates the spectrum and voicing. A held vowel is said at its spoken length and
   only its steady middle is stretched to the note (`spoken_clock`): its first and last
   VOWEL_EDGE_S, the moves from and to the consonants, keep their speed.
4. The pitch is ours: every vowel frame is voiced and every voiced frame's log-F0 is the sung
   contour (the same scoops, drift and late vibrato, drawn per note, as the MBROLA singer's), and
   hts_engine's own MLSA vocoder, driven a frame at a time, makes the sound: every note on its
   written pitch, every vowel voiced from its beat.

A line Festival reads as another number of words than the melody has (rare: the words are sent as
plain tokens) is sung by the voice's MBROLA twin instead, so no word is ever left out."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MissingDependency, RenderError
from ..score import Note
from ..streams import Streams
from .casting import latin_letters
from .synthesis import (MAX_CODA_SHARE, MIN_VOWEL_SHARE, Envelope, Expression, Segment, _bent, _vowel_contour,
                        midi_hz, render_line, resampled)
from .voices import VOICES, Voice

VOICE_FILE = Path("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts/hts/cmu_us_slt_arctic_hts.htsvoice")
FESTIVAL_VOICE = "voice_cmu_us_slt_arctic_hts"
LIBRARY = "libHTSEngine.so.1"
INSTALL = "bash scripts/setup-system.sh  (apt-get install festival festvox-us-slt-hts libhtsengine1)"
LEAD_IN_S = 0.3  # a line's own clock starts this long before its first note
MAX_ONSET_S = 0.15  # (the MBROLA singer's is 0.16; this voice was measured with 0.15)
# hts_engine gives every phone 5 states of at least one 5 ms frame: a shorter phone is lengthened
# (with a warning on stderr), which would move every phone after it.
MIN_PHONE_S = 0.03
VOWEL_EDGE_S = 0.05  # a held vowel's start and end said at spoken speed
UNVOICED = -1.0e10  # hts_engine's log-F0 of an unvoiced frame
LEVEL = 0.6  # the engine's 16-bit-scale output, brought to about the MBROLA voices' level (RMS)

# Festival's analysis of a line without its own synthesis (SynthText would also make the spoken wave):
# its phones and HTS labels (hts_engine then says how long the voice speaks each phone), then the
# labels again with the times we give them.
FESTIVAL_SCHEME = """(%(voice)s)
(define (analysed text)
  (let ((utt (eval (list 'Utterance 'Text text))))
    (Initialize utt) (Text utt) (Token_POS utt) (Token utt) (POS utt) (Phrasify utt) (Word utt)
    (Pauses utt) (Intonation utt) (PostLex utt) (Duration utt) (Int_Targets utt) utt))
(define (dump-labels utt out)
  (let ((fd (fopen out "w")))
    (mapcar (lambda (label) (format fd "%%s\\n" label)) (hts_dump_feats_string_list utt hts_feats_list))
    (fclose fd)))
(define (dump-phones text phones labels)
  (let ((utt (analysed text)) (fd (fopen phones "w")))
    (mapcar (lambda (s)
      (format fd "%%s %%s %%s %%s\\n" (item.name s) (item.feat s "ph_vc")
              (item.feat s "R:SylStructure.parent.parent.R:Token.parent.id")
              (item.feat s "R:SylStructure.parent.id")))
      (utt.relation.items utt 'Segment))
    (fclose fd)
    (dump-labels utt labels)))
(define (timed-labels text ends out)
  (let ((utt (analysed text)) (left ends))
    (mapcar (lambda (s) (item.set_feat s "end" (car left)) (set! left (cdr left)))
            (utt.relation.items utt 'Segment))
    (dump-labels utt out)))
""" % {"voice": FESTIVAL_VOICE}
DONE = "songwright-festival-done"
FESTIVAL_TIMEOUT_S = 600
KEPT_FESTIVALS = 2  # (a song's vocals and harmony are sung side by side)


def available() -> bool:
    """Whether Festival, the slt voice and libhtsengine1 are installed."""
    return VOICE_FILE.is_file() and shutil.which("festival") is not None and _library() is not None


@functools.cache
def _library() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL(LIBRARY)
    except OSError:
        return None
    boolean, size, double, pointer = ctypes.c_bool, ctypes.c_size_t, ctypes.c_double, ctypes.c_void_p
    signatures = {  # name: (restype, argtypes); HTS_Boolean is a char
        "HTS_Engine_initialize": (None, [pointer]),
        "HTS_Engine_load": (boolean, [pointer, pointer, size]),
        "HTS_Engine_set_phoneme_alignment_flag": (None, [pointer, boolean]),
        "HTS_Engine_generate_state_sequence_from_fn": (boolean, [pointer, ctypes.c_char_p]),
        "HTS_Engine_generate_parameter_sequence": (boolean, [pointer]),
        "HTS_Engine_generate_sample_sequence": (boolean, [pointer]),
        "HTS_Engine_set_stop_flag": (None, [pointer, boolean]),
        "HTS_Engine_get_total_frame": (size, [pointer]),
        "HTS_Engine_get_total_state": (size, [pointer]),
        "HTS_Engine_get_nstate": (size, [pointer]),
        "HTS_Engine_get_state_duration": (size, [pointer, size]),
        "HTS_Engine_get_fperiod": (size, [pointer]),
        "HTS_Engine_get_sampling_frequency": (size, [pointer]),
        "HTS_Engine_get_alpha": (double, [pointer]),
        "HTS_Engine_get_beta": (double, [pointer]),
        "HTS_Engine_get_volume": (double, [pointer]),
        "HTS_Engine_save_generated_parameter": (None, [pointer, size, pointer]),
        "HTS_Engine_refresh": (None, [pointer]),
        "HTS_Engine_clear": (None, [pointer]),
        "HTS_Vocoder_initialize": (None, [pointer, size, size, boolean, size, size]),
        "HTS_Vocoder_synthesize": (None, [pointer, size, double, pointer, size, pointer, double, double, double,
                                          pointer, pointer]),
        "HTS_Vocoder_clear": (None, [pointer]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


# ---------------------------------------------------------------- Festival

@dataclass
class Phone:
    """One of Festival's phones of a line, and the span it is given on the line's clock."""
    name: str
    vowel: bool
    token: str  # "0" on a pause
    syllable: str
    spoken_s: float  # its length as the voice speaks it (hts_engine's duration model)
    target: tuple[float, float] | None = None  # (start, end) s; None: a pause, filling the gap around it
    note: int | None = None  # the index of the note it is sung on


class Festival:
    """One Festival process reading Scheme from its standard input (`festival --pipe`), the voice
    loaded once. A part lends one (`lend`) and gives it back when its lines are read (`give_back`):
    it is kept, up to KEPT_FESTIVALS, for the next part of this process (Festival reads each line
    afresh: the same labels whatever it read before), instead of starting another (0.14 s, loading
    the voice, for every sung part: an English song's vocals and harmony paid it twice)."""

    _kept: list[Festival] = []
    _kept_lock = threading.Lock()

    def __init__(self) -> None:
        self.process = subprocess.Popen(["festival", "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, encoding="ascii")
        self.watchdog: threading.Timer | None = None
        self._watch()
        try:
            self.run([FESTIVAL_SCHEME])
        except RenderError:
            self.close()
            raise

    @classmethod
    def lend(cls) -> Festival:
        """A kept process that is still running, or a new one; watched for FESTIVAL_TIMEOUT_S."""
        while True:
            with cls._kept_lock:
                kept = cls._kept.pop() if cls._kept else None
            if kept is None:
                return cls()
            if kept.process.poll() is None:
                kept._watch()
                return kept
            kept.close()

    def give_back(self) -> None:
        """Kept for the next part (or closed when enough are kept or it has stopped)."""
        self._unwatch()
        with self._kept_lock:
            if self.process.poll() is None and len(self._kept) < KEPT_FESTIVALS:
                self._kept.append(self)
                return
        self.close()

    def run(self, calls: list[str]) -> None:
        """Runs the calls and waits until Festival has done them."""
        try:
            self.process.stdin.write("".join(calls) + f'(format t "\\n{DONE}\\n")\n(fflush nil)\n')
            self.process.stdin.flush()
            for row in self.process.stdout:
                if row.strip() == DONE:
                    return
        except BrokenPipeError:
            pass
        raise RenderError(f"festival stopped (exit status {self.process.poll()})")

    def close(self) -> None:
        self._unwatch()
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()

    def _watch(self) -> None:
        self.watchdog = threading.Timer(FESTIVAL_TIMEOUT_S, self.process.kill)
        self.watchdog.daemon = True
        self.watchdog.start()

    def _unwatch(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None

    @classmethod
    def _let_go(cls) -> None:
        """At exit: each kept process told to stop (its input closed), not waited for."""
        with cls._kept_lock:
            kept, cls._kept = cls._kept, []
        for festival in kept:
            with contextlib.suppress(OSError):
                festival.process.stdin.close()

    @classmethod
    def _forget(cls) -> None:
        """In a forked child: the parent's processes are the parent's (their pipes are shared)."""
        cls._kept = []
        cls._kept_lock = threading.Lock()


atexit.register(Festival._let_go)
os.register_at_fork(after_in_child=Festival._forget)


def token_text(word_notes: list[Note]) -> str:
    """What Festival reads for a word: its letters and digits in Latin script (a transliteration
    for other scripts), so that every word of ours is one token of Festival's."""
    return latin_letters("".join(n.syllable or "" for n in word_notes)).strip("'") or "la"


def read_phones(path: Path, spoken_s: list[float]) -> list[Phone]:
    """The phones Festival wrote, with the lengths hts_engine speaks them."""
    if not path.is_file():
        raise RenderError(f"festival could not read a line ({path.name})")
    rows = [row.split() for row in path.read_text(encoding="ascii").split("\n") if row.strip()]
    if len(rows) != len(spoken_s):
        raise RenderError(f"festival wrote {len(rows)} phones and {len(spoken_s)} labels for a line")
    return [Phone(name, vc == "+", token, syllable, length) for (name, vc, token, syllable), length in zip(rows, spoken_s)]


def words_of(phones: list[Phone]) -> list[list[list[Phone]]]:
    """Festival's tokens (our words), each a list of its syllables' phones; pauses left out."""
    words: list[list[list[Phone]]] = []
    for phone in phones:
        if phone.name == "pau":
            continue
        if not words or words[-1][0][0].token != phone.token:
            words.append([[]])
        elif words[-1][-1][0].syllable != phone.syllable:
            words[-1].append([])
        words[-1][-1].append(phone)
    return words


# ---------------------------------------------------------------- timing

def time_syllable(phones: list[Phone], start_s: float, end_s: float, note: int,
                  previous: list[Phone] | None = None) -> None:
    """Onset before the note, vowel on it, coda at its end. Where the onset would start before the
    `previous` syllable ends (notes sung legato), that syllable's vowel and coda end earlier to make
    room, the vowel keeping MIN_VOWEL_SHARE of its length; what room is still missing is taken
    from the onset, down to MIN_PHONE_S a phone (shorter, hts_engine would lengthen it, and the
    vowel after it would start late)."""
    for phone in phones:
        phone.note = note
    vowel = next((i for i, p in enumerate(phones) if p.vowel), None)
    if vowel is None:
        _spread(phones, start_s, end_s)
        return
    onset, coda = phones[:vowel], phones[vowel + 1:]
    onset_start_s = start_s - min(MAX_ONSET_S, sum(p.spoken_s for p in onset))
    if previous:
        onset_start_s = max(onset_start_s, _end_earlier(previous, onset_start_s))
    onset_start_s = min(onset_start_s, start_s - MIN_PHONE_S * len(onset))
    coda_s = min(MAX_CODA_SHARE * (end_s - start_s), sum(p.spoken_s for p in coda))
    _spread(onset, onset_start_s, start_s)
    phones[vowel].target = (start_s, end_s - coda_s)
    _spread(coda, end_s - coda_s, end_s)


def _end_earlier(phones: list[Phone], wanted_end_s: float) -> float:
    """Ends the syllable `phones` by `wanted_end_s` if its vowel can give the time (keeping
    MIN_VOWEL_SHARE of it), else as early as it can; where it ends now."""
    end_s = phones[-1].target[1]
    vowel = next((p for p in phones if p.vowel), None)
    if end_s <= wanted_end_s or vowel is None:
        return end_s
    start, stop = vowel.target
    cut_s = min(end_s - wanted_end_s, max(0.0, (1 - MIN_VOWEL_SHARE) * (stop - start)))
    at = phones.index(vowel)
    vowel.target = (start, stop - cut_s)
    for phone in phones[at + 1:]:
        phone.target = (phone.target[0] - cut_s, phone.target[1] - cut_s)
    return end_s - cut_s


def _spread(phones: list[Phone], start_s: float, end_s: float) -> None:
    """Phones share a span in proportion to their spoken lengths."""
    total = sum(p.spoken_s for p in phones) or 1.0
    for phone in phones:
        length = (end_s - start_s) * phone.spoken_s / total
        phone.target = (start_s, start_s + length)
        start_s += length


def phone_ends(phones: list[Phone]) -> list[float]:
    """Each phone's end on the line's clock, increasing, every phone at least MIN_PHONE_S long; a
    pause lasts until the next phone's start."""
    ends, last = [], 0.0
    for i, phone in enumerate(phones):
        if phone.target is not None:
            end = phone.target[1]
        else:
            end = next((p.target[0] for p in phones[i + 1:] if p.target is not None), last + LEAD_IN_S)
        last = max(end, last + MIN_PHONE_S)
        ends.append(last)
    return ends


@dataclass
class TimedLine:
    index: int
    text: str
    phones: list[Phone]
    ends_s: list[float]
    origin_s: float  # where its clock starts on the song's
    notes: list[tuple[int, float, float]]  # its notes: (index, start s, end s) on its clock
    spoken_ends_s: list[float]  # the phones' ends as hts_engine is given them
    sung_knots_s: np.ndarray  # a piecewise linear map from the sung clock (the notes') ...
    spoken_knots_s: np.ndarray  # ... to the spoken one (hts_engine's)


def time_line(index: int, text: str, phones: list[Phone], words: list[list[tuple[int, Note]]],
              seconds_per_beat: float) -> TimedLine | None:
    """The line's phones timed by its notes (`words`: each word's (note index, note)), or None when
    Festival read another number of words."""
    festival_words = words_of(phones)
    if len(festival_words) != len(words):
        return None
    origin_s = words[0][0][1].start_beats * seconds_per_beat - LEAD_IN_S
    previous = None
    for syllables, notes in zip(festival_words, words):
        groups: list[list[tuple[int, Note]]] = []  # the word's syllables: a melisma's later notes ("") join theirs
        for i, n in notes:
            if n.syllable or not groups:
                groups.append([])
            groups[-1].append((i, n))
        spans = [(g[0][1].start_beats * seconds_per_beat - origin_s, g[-1][1].end_beats * seconds_per_beat - origin_s,
                  g[0][0]) for g in groups]
        if len(spans) != len(syllables):  # Festival's syllables spread evenly over the word's notes
            first, last = spans[0][0], spans[-1][1]
            step = (last - first) / len(syllables)
            owner = lambda t: next((i for s, e, i in spans if t < e), spans[-1][2])  # noqa: E731
            spans = [(first + k * step, first + (k + 1) * step, owner(first + (k + 0.5) * step))
                     for k in range(len(syllables))]
        for syllable, (start_s, end_s, note) in zip(syllables, spans):
            time_syllable(syllable, start_s, end_s, note, previous)
            previous = syllable
    ends = phone_ends(phones)
    for phone, start_s, end_s in zip(phones, [0.0] + ends[:-1], ends):  # the spans hts_engine is given
        phone.target = (start_s, end_s) if phone.note is not None else None
    spans = [(i, n.start_beats * seconds_per_beat - origin_s, n.end_beats * seconds_per_beat - origin_s)
             for word in words for i, n in word]
    return TimedLine(index, text, phones, ends, origin_s, spans, *spoken_clock(phones, ends))


def spoken_clock(phones: list[Phone], ends_s: list[float]) -> tuple[list[float], np.ndarray, np.ndarray]:
    """The line as hts_engine is asked to say it, and a map from the sung clock to that one: every
    phone at its sung length except a vowel held longer than the voice speaks it, which is said at
    its spoken length; its first and last VOWEL_EDGE_S (the moves from and to the consonants) are
    sung at that speed and only its steady middle is stretched to the note. (hts_engine stretches
    all five states of a phone alike: a 1.8 s vowel after k spent 370 ms in its first state, the
    aspirated release, and was heard voiced up to 130 ms late.)"""
    spoken_ends, sung_knots, spoken_knots = [], [0.0], [0.0]
    sung_start = spoken_start = 0.0
    for phone, sung_end in zip(phones, ends_s):
        sung_s = sung_end - sung_start
        spoken_s = min(sung_s, max(MIN_PHONE_S, phone.spoken_s)) if phone.vowel else sung_s
        if spoken_s < sung_s:
            edge_s = min(VOWEL_EDGE_S, spoken_s / 3)
            sung_knots += [sung_start + edge_s, sung_end - edge_s]
            spoken_knots += [spoken_start + edge_s, spoken_start + spoken_s - edge_s]
        sung_start, spoken_start = sung_end, spoken_start + spoken_s
        spoken_ends.append(spoken_start)
        sung_knots.append(sung_end)
        spoken_knots.append(spoken_start)
    return spoken_ends, np.asarray(sung_knots), np.asarray(spoken_knots)


# ---------------------------------------------------------------- pitch

def pitch_points(line: TimedLine, notes: list[Note], expressions: list[Expression] | None) -> tuple[np.ndarray, np.ndarray]:
    """(seconds on the line's clock, log Hz): every note sung with its expression over its vowel,
    or over its own span where it has none (a melisma's later notes, or a word Festival reads with
    fewer syllables than it has notes: the vowel is shared, each note keeps its pitch); voiced
    consonants between notes glide from one to the next."""
    vowels: dict[int, tuple[float, float]] = {}
    for phone in line.phones:
        if phone.vowel and phone.target is not None:
            vowels.setdefault(phone.note, phone.target)
    times, hz = [], []
    previous_f0, previous_end = None, None
    for k, (index, note_start_s, note_end_s) in enumerate(line.notes):
        start_s, end_s = vowels.get(index, (note_start_s, note_end_s))
        if k + 1 < len(line.notes):
            end_s = min(end_s, line.notes[k + 1][1])
        if end_s <= start_s:
            continue
        f0 = midi_hz(notes[index].pitch)
        gap = start_s - previous_end if previous_end is not None else 1.0
        for t, f in _vowel_contour(end_s - start_s, f0, previous_f0, gap, 0.0,
                                   expressions[index] if expressions else Expression()):
            times.append(start_s + t)
            hz.append(f)
        previous_f0, previous_end = f0, end_s
    order = np.argsort(times, kind="stable")
    return np.asarray(times)[order], np.log(np.asarray(hz))[order]


# ---------------------------------------------------------------- hts_engine

class Engine:
    """The slt voice loaded once into hts_engine; `sing` a labelled line with a given pitch."""

    def __init__(self, *, formant_ratio: float = 1.0) -> None:
        self.formant_ratio = formant_ratio
        self.lib = _library()
        if self.lib is None or not VOICE_FILE.is_file():
            raise MissingDependency("the slt HTS voice", INSTALL)
        self.engine = ctypes.create_string_buffer(1 << 16)  # larger than HTS_Engine
        self.lib.HTS_Engine_initialize(self.engine)
        if not self.lib.HTS_Engine_load(self.engine, (ctypes.c_char_p * 1)(str(VOICE_FILE).encode()), 1):
            raise RenderError(f"hts_engine could not load {VOICE_FILE}")
        self.lib.HTS_Engine_set_phoneme_alignment_flag(self.engine, True)
        self.sample_rate = self.lib.HTS_Engine_get_sampling_frequency(self.engine)
        self.fperiod = self.lib.HTS_Engine_get_fperiod(self.engine)

    def close(self) -> None:
        self.lib.HTS_Engine_clear(self.engine)

    def spoken_lengths_s(self, label_file: Path) -> list[float]:
        """How long the voice speaks each phone of the labels (its duration model)."""
        lib, engine = self.lib, self.engine
        lib.HTS_Engine_set_phoneme_alignment_flag(engine, False)
        try:
            if not lib.HTS_Engine_generate_state_sequence_from_fn(engine, str(label_file).encode()):
                raise RenderError(f"hts_engine refused the labels {label_file}")
            states = lib.HTS_Engine_get_nstate(engine)
            frames = [lib.HTS_Engine_get_state_duration(engine, i) for i in range(lib.HTS_Engine_get_total_state(engine))]
        finally:
            lib.HTS_Engine_set_phoneme_alignment_flag(engine, True)
            lib.HTS_Engine_refresh(engine)
        frame_s = self.fperiod / self.sample_rate
        return [sum(frames[i:i + states]) * frame_s for i in range(0, len(frames), states)]

    def sing(self, label_file: Path, line: TimedLine, times_s: np.ndarray, log_hz: np.ndarray, *,
             spoken: bool = False) -> np.ndarray:
        """The labelled line at the voice's rate on its sung clock, float32: hts_engine's frames
        read through the line's map from the sung clock to the spoken one, every voiced frame at the
        pitch interpolated from (times_s, log_hz). Every frame of a vowel is voiced (the voice's
        own decision leaves a vowel after a voiceless consonant unvoiced for its first frames). A
        `spoken` line (rapped) keeps the voice's own speaking melody instead, moved to the written
        notes' median: its glides, accents and fall, at the line's register."""
        lib, engine = self.lib, self.engine
        try:
            if not lib.HTS_Engine_generate_state_sequence_from_fn(engine, str(label_file).encode()):
                raise RenderError(f"hts_engine refused the labels {label_file}")
            lib.HTS_Engine_set_stop_flag(engine, True)  # the parameters only: the vocoder is ours
            if not (lib.HTS_Engine_generate_parameter_sequence(engine) and lib.HTS_Engine_generate_sample_sequence(engine)):
                raise RenderError("hts_engine could not generate the line")
            frames = lib.HTS_Engine_get_total_frame(engine)
            spectrum = self._parameters(0, label_file.with_suffix(".mcp")).reshape(frames, -1).astype(np.float64)
            own_lf0 = self._parameters(1, label_file.with_suffix(".lf0"))
            voiced = own_lf0 > UNVOICED / 2
            alpha, beta = warped_alpha(lib.HTS_Engine_get_alpha(engine), self.formant_ratio), lib.HTS_Engine_get_beta(engine)
            volume = 10 ** (lib.HTS_Engine_get_volume(engine) / 20)  # the API gives it in dB
        finally:
            lib.HTS_Engine_set_stop_flag(engine, False)
            lib.HTS_Engine_refresh(engine)
        frame_s = self.fperiod / self.sample_rate
        centres_s = (np.arange(round(line.ends_s[-1] / frame_s)) + 0.5) * frame_s  # the sung clock's frames
        at = np.clip(np.interp(centres_s, line.sung_knots_s, line.spoken_knots_s) / frame_s - 0.5, 0, frames - 1)
        below = np.floor(at).astype(int)
        above, share = np.minimum(below + 1, frames - 1), at - below

        def on_sung_clock(values: np.ndarray) -> np.ndarray:
            """hts_engine's frames read at the sung clock's, linearly."""
            weight = share[:, None] if values.ndim > 1 else share
            return (1 - weight) * values[below] + weight * values[above]

        spectrum = on_sung_clock(spectrum)
        spoken = spoken and bool(voiced.any())
        if spoken:  # the voice's own melody, bridged over its unvoiced frames
            known = np.flatnonzero(voiced)
            own = on_sung_clock(np.interp(np.arange(frames), known, own_lf0[known]))
        voiced = voiced[np.rint(at).astype(int)]
        for phone in line.phones:
            if phone.vowel and phone.target is not None:
                voiced |= (centres_s >= phone.target[0]) & (centres_s < phone.target[1])
        pitch = np.interp(centres_s, times_s, log_hz)  # the written notes'
        if spoken:
            pitch = own + (np.median(pitch[voiced]) - np.median(own[voiced]))
        lf0 = np.where(voiced, pitch, UNVOICED)
        return self._vocode(spectrum, lf0, alpha=alpha, beta=beta, volume=volume)

    def _parameters(self, stream: int, path: Path) -> np.ndarray:
        libc = _libc()
        handle = libc.fopen(str(path).encode(), b"wb")
        if not handle:
            raise RenderError(f"cannot write {path}")
        try:
            self.lib.HTS_Engine_save_generated_parameter(self.engine, stream, handle)
        finally:
            libc.fclose(handle)
        return np.fromfile(path, dtype=np.float32)

    def _vocode(self, spectrum: np.ndarray, lf0: np.ndarray, *, alpha: float, beta: float, volume: float) -> np.ndarray:
        """hts_engine's MLSA vocoder (stage 0, the voice's mel-cepstra), a frame at a time."""
        lib, fperiod = self.lib, self.fperiod
        order = spectrum.shape[1] - 1
        spectrum = np.ascontiguousarray(spectrum)
        out = np.zeros(len(lf0) * fperiod, dtype=np.float64)
        vocoder = ctypes.create_string_buffer(1 << 12)  # larger than HTS_Vocoder
        lib.HTS_Vocoder_initialize(vocoder, order, 0, False, self.sample_rate, fperiod)
        try:
            spectrum_at, spectrum_step = spectrum.ctypes.data, spectrum.strides[0]
            out_at, out_step = out.ctypes.data, fperiod * out.itemsize
            for frame, value in enumerate(lf0.tolist()):
                lib.HTS_Vocoder_synthesize(vocoder, order, value, spectrum_at + frame * spectrum_step, 0, None, alpha,
                                           beta, volume, out_at + frame * out_step, None)
        finally:
            lib.HTS_Vocoder_clear(vocoder)
        return (out * (LEVEL / 32768.0)).astype(np.float32)


def warped_alpha(alpha: float, formant_ratio: float) -> float:
    """The vocoder's all-pass constant that moves the voice's formants by `formant_ratio`: a mel-
    cepstrum made with `alpha` read with a larger constant puts each formant lower, by
    (1 + alpha) / (1 - alpha) over (1 + a) / (1 - a) at low frequencies (0.45 -> 0.52: x0.833, and
    within 1 % of that up to 3.5 kHz at 32 kHz)."""
    if formant_ratio == 1.0:
        return alpha
    stretch = (1 + alpha) / (1 - alpha) / formant_ratio
    return (stretch - 1) / (stretch + 1)


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    return libc


# ---------------------------------------------------------------- the line

def render_hts_line(notes: list[Note], voice: Voice, seconds_per_beat: float, sample_rate: int, total_samples: int,
                    *, streams: Streams | None = None, stem: str = "vocals",
                    into: np.ndarray | None = None, spoken_bars: frozenset[int] = frozenset()) -> np.ndarray:
    """One HTS voice's notes, sung (`synthesis.render_line`'s contract): added into `into`
    (float32, total_samples) when given, which is returned. A line that starts in one of the
    `spoken_bars` (a rapped section's) keeps the voice's speaking melody (`Engine.sing`)."""
    if not available():
        raise MissingDependency("the slt HTS voice", INSTALL)
    ordered = sorted(notes, key=lambda n: n.start_beats)
    expressions = [_bent(Expression.draw(streams.rng("expression", stem, voice.name, round(n.start_beats * 4))), n)
                   for n in ordered] if streams is not None else None
    lines = _lines(ordered)
    out = np.zeros(total_samples, dtype=np.float32) if into is None else into
    engine = Engine(formant_ratio=voice.formant_ratio)
    try:
        with tempfile.TemporaryDirectory(prefix="songwright-hts-") as name:
            folder = Path(name)
            timed, left = _read_lines(lines, folder, engine, seconds_per_beat)
            segments = [Segment(p.name, t.origin_s + p.target[0], t.origin_s + p.target[1], note=p.note)
                        for t in timed for p in t.phones if p.target is not None]
            envelope = Envelope.of(ordered, segments, seconds_per_beat, sample_rate, total_samples)
            for line in timed:  # each line into the part as it is sung: no second song-long buffer
                spoken = ordered[line.notes[0][0]].bar in spoken_bars
                audio = engine.sing(_label_file(folder / f"{line.index}.lab"), line, *pitch_points(line, ordered, expressions),
                                    spoken=spoken)
                _add(out, resampled(audio, engine.sample_rate, sample_rate), round(line.origin_s * sample_rate),
                     envelope.block)
    finally:
        engine.close()
    if left:  # lines Festival read as another number of words: sung by the voice's MBROLA twin
        render_line(left, VOICES[voice.fallback], seconds_per_beat, sample_rate, total_samples, streams=streams,
                    stem=stem, into=out)
    return out


def _read_lines(lines: list[list[list[tuple[int, Note]]]], folder: Path, engine: Engine,
                seconds_per_beat: float) -> tuple[list[TimedLine], list[Note]]:
    """Festival's two rounds over a part's lines, its labels written in `folder`: the lines timed
    by their notes, and the notes of lines Festival read as another number of words. The process
    is given back as soon as they are read, so the song's other sung part, started later, reads
    with it instead of starting one more while this part is vocoded."""
    reader = Festival.lend()
    try:
        texts = [" ".join(token_text([n for _, n in word]) for word in line) for line in lines]
        reader.run([f'(dump-phones "{text}" "{folder}/{i}.phones" "{folder}/{i}.spoken")\n'
                    for i, text in enumerate(texts)])
        timed, left = [], []
        for i, (text, line) in enumerate(zip(texts, lines)):
            spoken_s = engine.spoken_lengths_s(_label_file(folder / f"{i}.spoken"))
            one = time_line(i, text, read_phones(folder / f"{i}.phones", spoken_s), line, seconds_per_beat)
            if one is None:
                left += [n for word in line for _, n in word]
            else:
                timed.append(one)
        reader.run([f'(timed-labels "{t.text}" (list {" ".join(f"{e:.4f}" for e in t.spoken_ends_s)}) '
                    f'"{folder}/{t.index}.lab")\n' for t in timed])
    except BaseException:  # stopped half-way through a call, perhaps: not lent again
        reader.close()
        raise
    reader.give_back()
    return timed, left


def _lines(ordered: list[Note]) -> list[list[list[tuple[int, Note]]]]:
    """The notes by line, each line a list of words, each word its (index, note)."""
    lines: dict[int | None, list[list[tuple[int, Note]]]] = {}
    for index, note in enumerate(ordered):
        words = lines.setdefault(note.line, [])
        if note.word_start or not words:
            words.append([])
        words[-1].append((index, note))
    return list(lines.values())


def _label_file(path: Path) -> Path:
    """Festival's label lines as hts_engine reads them: stripped, no blank lines."""
    if not path.is_file():
        raise RenderError(f"festival could not label a line ({path.name})")
    rows = path.read_text(encoding="ascii").split("\n")
    path.write_text("".join(row.strip() + "\n" for row in rows if row.strip()), encoding="ascii")
    return path


def _add(out: np.ndarray, audio: np.ndarray, start: int, gain) -> None:
    """`audio` times `gain(start, end)` added into `out` from sample `start` (clipped to `out`)."""
    if start < 0:
        audio, start = audio[-start:], 0
    end = min(len(out), start + len(audio))
    if end > start:
        out[start:end] += audio[:end - start] * gain(start, end)
