"""Your own melody from a MIDI file: read, fitted to the lyrics, sung exactly, harmonised, measured
from the vocal stem; every bad file refused before any work."""

import base64
import importlib.util
from pathlib import Path

import mido
import pytest

import songwright as sw
from songwright import stages
from songwright.cli import main
from songwright.errors import InvalidRequest
from songwright.tunes import MAX_MELODY_BYTES, TuneNote, decode_melody, fit_line, read_tune

from .parallel import in_processes

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_tunes.py"
_spec = importlib.util.spec_from_file_location("bench_tunes", BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
midi_file, line = bench.midi_file, bench.line

TUNE = line((1, 67), (1, 69), (1, 71), (1, 72), (2, 74), (2, 0), (1, 72), (1, 71), (1, 69), (1, 67), (4, 69))
LYRICS = "[verse]\nTake the time to sing\nSoft and clear and free"  # 5 and 5 syllables: one a note


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _song_plan(notes=TUNE, lyrics=LYRICS, settings=None, **fields):
    data = midi_file(notes, **({"tempo_bpm": 96, "key": "G"} | (settings or {})))
    request = sw.SongRequest(**({"tags": "pop", "lyrics": lyrics, "seed": 1, "duration_s": 30, "melody": b64(data)}
                                | fields)).validate()
    return stages.score_of(request)


# ---------------------------------------------------------------- reading

def test_tempo_meter_and_key_come_from_the_file_unless_given():
    plan, _ = _song_plan(settings={"tempo_bpm": 84, "meter": (3, 4), "key": "Em"})
    assert (plan.tempo_bpm, plan.time_signature, plan.key.name) == (84, "3/4", "E minor")
    plan, _ = _song_plan(settings={"tempo_bpm": 84, "meter": (3, 4), "key": "Em"}, tempo_bpm=100, key="A minor")
    assert (plan.tempo_bpm, plan.key.name) == (100, "A minor")


def test_a_file_without_a_key_gets_the_key_its_notes_imply():
    tune = read_tune(midi_file(line((1, 62), (1, 66), (1, 69), (1, 74), (2, 73), (2, 74)), tempo_bpm=90), track=None)
    from songwright.tunes import infer_tune_key

    assert infer_tune_key(tune).name == "D major"


def test_the_chosen_track_of_several():
    chords = [(b * 4.0, 4.0, p) for b in range(2) for p in (48, 52, 55)]
    data = midi_file(TUNE, tempo_bpm=96, other_tracks=(chords,))
    assert [n.pitch for n in read_tune(data, track=2).notes] == [n[2] for n in TUNE]


# ---------------------------------------------------------------- bad files

def _no_notes() -> bytes:
    midi = mido.MidiFile(type=1)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)]))
    out = __import__("io").BytesIO()
    midi.save(file=out)
    return out.getvalue()


@pytest.mark.parametrize("melody, track, field, words", [
    (b64(_no_notes()), None, "melody", "must hold notes: this MIDI file has none"),
    (b64(midi_file([(0, 2, 60), (1, 2, 64)], tempo_bpm=90)), None, "melody", "must hold one voice, but notes overlap at beat 1"),
    (b64(midi_file(TUNE, tempo_bpm=90, other_tracks=([(0, 4, 48)],))), None, "melody_track",
     "must say which track holds the melody (the file has track 2: 10 notes, track 3: 1 notes)"),
    (b64(midi_file(TUNE, tempo_bpm=90)), 1, "melody_track", "must be a track with notes (track 2: 10 notes)"),
    (b64(midi_file(TUNE, tempo_bpm=90, meter=(5, 4))), None, "melody", "must be in 4/4, 3/4 or 6/8"),
    ("not base64!", None, "melody", "must be a MIDI file's or a recording's bytes as base64 text"),
    (b64(b"RIFF this is not MIDI"), None, "melody", "must be a MIDI file or a recording (WAV, FLAC, OGG or MP3)"),
    (None, 2, "melody_track", "needs a melody"),
])
def test_bad_melodies_are_refused_naming_the_field(melody, track, field, words):
    with pytest.raises(InvalidRequest) as error:
        sw.SongRequest(melody=melody, melody_track=track, lyrics=LYRICS).validate()
    assert error.value.field == field
    assert words in str(error.value)


@pytest.mark.parametrize("name, data, words", [
    ("tune.mid", midi_file([(0, 2, 60), (0.5, 2, 64)], tempo_bpm=90), "melody: track 2 must hold one voice"),
    ("tune.mid", _no_notes(), "melody: must hold notes"),
    ("tune.txt", b"C D E", "melody: must be a MIDI file (.mid, .midi) or a recording"),
])
def test_the_cli_refuses_a_bad_melody_with_exit_2_and_writes_nothing(tmp_path, capsys, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    code = main(["generate", "-q", "--lyrics-text", LYRICS, "--melody", str(path), "--seed", "1", "--duration", "20",
                 "-o", str(out / "song.wav"), "--json", str(out / "song.json")])
    assert code == 2
    assert list(out.iterdir()) == []
    assert words in capsys.readouterr().err


# ---------------------------------------------------------------- fitting

def test_one_syllable_a_note_a_melisma_and_a_split():
    notes = [TuneNote(float(i), 1.0, 60 + i) for i in range(4)]
    assert fit_line(notes, 4, line="x").syllables == [0, 1, 2, 3]
    melisma = fit_line(notes, 2, line="x")
    assert melisma.syllables == [0, 1, None, None] and not melisma.warnings
    longer = [TuneNote(0.0, 1.0, 60), TuneNote(1.0, 3.0, 62)]
    split = fit_line(longer, 4, line="more words")
    assert [(n.start_beats, n.duration_beats, n.pitch) for n in split.notes] == \
        [(0.0, 1.0, 60), (1.0, 0.75, 62), (1.75, 0.75, 62), (2.5, 1.5, 62)]
    assert split.warnings == ['"more words": 4 syllables on 2 notes; 2 long note(s) split to sing them all']


def test_the_singer_sings_exactly_the_given_notes_and_rests_end_phrases():
    plan, score = _song_plan()
    sung = sorted(score.part("vocals").notes, key=lambda n: n.start_beats)
    offset = plan.sections[1].start_bar * plan.beats_per_bar
    assert [(n.start_beats - offset, n.duration_beats, n.pitch) for n in sung] == [(s, d, p) for s, d, p in TUNE]
    assert [n.syllable for n in sung] == ["Take", "the", "time", "to", "sing", "Soft", "and", "clear", "and", "free"]
    assert [n.phrase_start for n in sung] == [True] + [False] * 4 + [True] + [False] * 4


def test_a_melisma_is_sung_on_one_vowel_and_every_line_gets_the_tune_again():
    lyrics = "[verse]\nOh night\nStay here\n[chorus]\nSing it now\nSo free"
    plan, score = _song_plan(lyrics=lyrics, duration_s=45)
    sung = sorted(score.part("vocals").notes, key=lambda n: n.start_beats)
    assert len(sung) == 2 * len(TUNE)  # two rounds of the tune, one per two lines
    first = sung[:5]
    assert [n.syllable for n in first] == ["Oh", "night", "", "", ""]
    # "night" held over four notes: its onset on the first, one vowel throughout, its coda "t" on the last
    assert first[1].phones.onset and first[1].phones.coda == ()
    assert all(n.phones.onset == () and n.phones.vowel == first[1].phones.vowel for n in first[2:])
    assert first[2].phones.coda == () and first[4].phones.coda
    assert [s.kind for s in plan.sections if s.tune] == ["verse", "chorus"]
    assert any("a melisma" in w for w in plan.warnings)


def test_notes_outside_the_voice_move_by_octaves_with_a_warning():
    low = [(s, d, p - 24) for s, d, p in TUNE]
    plan, score = _song_plan(notes=low)
    sung = sorted(score.part("vocals").notes, key=lambda n: n.start_beats)
    assert {n.pitch - p for n, (_, _, p) in zip(sung, low)} == {24}
    assert any("octave(s) up into the voice's range" in w for w in plan.warnings)


def test_the_band_harmonises_the_melody_or_follows_a_chart():
    plan, _ = _song_plan(duration_s=40)
    strong = [n for n in plan.tune_notes if n.start_beats % 2 == 0]
    fits = [n.pitch % 12 in plan.chord_at_beat(n.start_beats).pitch_classes() for n in strong]
    assert sum(fits) / len(fits) >= 0.8, fits
    plan, _ = _song_plan(chords="[verse]\n| Em | C | G | D |", duration_s=40)
    verse = next(s for s in plan.sections if s.tune)
    assert [c.name(plan.key) for c in verse.chords] == ["Em", "C", "G", "D"]


def test_songs_without_a_melody_are_unchanged_by_an_empty_field():
    a = stages.score_of(sw.SongRequest(tags="pop", lyrics=LYRICS, seed=3, duration_s=30).validate())[1]
    b = stages.score_of(sw.SongRequest(tags="pop", lyrics=LYRICS, seed=3, duration_s=30, melody=None).validate())[1]
    assert [(n.start_beats, n.pitch) for p in a.parts for n in p.notes] == [(n.start_beats, n.pitch) for p in b.parts for n in p.notes]


def test_decode_refuses_an_oversized_file():
    with pytest.raises(InvalidRequest, match="at most"):
        decode_melody(b64(b"M" * (MAX_MELODY_BYTES + 1)))


# ---------------------------------------------------------------- measured from the vocal stem

def _melody_sung(index: int) -> tuple[int, ...]:
    """The bench's melody `index` sung and measured: notes pitched, in tune, onsets, on time,
    syllables, syllables heard."""
    score, _ = bench.measure(*bench.MELODIES[index], band=False)
    return score.pitched, score.in_tune, score.onsets, score.on_time, score.syllables, score.heard


def test_the_given_melodies_are_sung_in_tune_on_time_every_syllable():
    """benchmarks/bench_tunes.py's 11 melodies (4/4, 3/4, 6/8, a pickup, melismas, more syllables
    than notes, syncopation, an octave move, a second track, two rounds)."""
    assert len(bench.MELODIES) >= 10
    measured = in_processes(_melody_sung, range(len(bench.MELODIES)))
    pitched, in_tune, onsets, on_time, syllables, heard = map(sum, zip(*measured))
    assert pitched >= 140 and in_tune / pitched >= 0.95, (in_tune, pitched)
    assert heard == syllables
    assert onsets >= 50 and on_time / onsets >= 0.95, (on_time, onsets)
