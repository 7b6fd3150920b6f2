"""Chord charts: read as written, planned to the section, played exactly (from the score and from
the rendered audio), and every bad chart refused with the line, bar and symbol."""

import importlib.util
from pathlib import Path

import pytest

import songwright as sw
from songwright import stages
from songwright.audio.chord_metrics import bass_agreement, chord_agreement
from songwright.charts import parse_chart, parse_chord, section_spans
from songwright.cli import main
from songwright.composer.melody import TICKS_PER_BEAT, metric_weight
from songwright.errors import InvalidRequest
from songwright.theory import Key

from .parallel import in_processes

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_charts.py"
LYRICS = """[verse]
The moon hangs low over the sleeping town
And all the lights go down
We walk along the river in the rain
And call each other's name
[chorus]
Sing it loud and sing it clear
Every one of us is here
Hold the line and hold it near
We will never disappear"""
ISSUE_CHART = """key: A minor
[verse]
| Am | F | C G | E7 |
| Am . . . | F . . . | C . G . | G |
[chorus]
| vi | IV | I | V |
| F G | Em Am | Dm7 | E7sus4 E7 |
| % | N.C. | Am/E | Am |"""
C_MAJOR = Key(0, "major")


def spans_of(text: str, meter: str = "4/4", key: Key = C_MAJOR):
    chart = parse_chart(text)
    return [[(s.start_beats, s.duration_beats, s.chord.name(key)) for s in bar]
            for section in chart.sections for bar in section_spans(section, key=chart.key or key, meter=meter)]


# ---------------------------------------------------------------- reading

@pytest.mark.parametrize("symbol, pcs", [
    ("C", {0, 4, 7}), ("Am", {9, 0, 4}), ("G7", {7, 11, 2, 5}), ("Fmaj7", {5, 9, 0, 4}), ("Dm7", {2, 5, 9, 0}),
    ("Bm7b5", {11, 2, 5, 9}), ("Bdim", {11, 2, 5}), ("Bdim7", {11, 2, 5, 8}), ("Caug", {0, 4, 8}),
    ("Dsus2", {2, 4, 9}), ("Dsus4", {2, 7, 9}), ("Cadd9", {0, 4, 7, 2}), ("C6", {0, 4, 7, 9}), ("Am6", {9, 0, 4, 6}),
    ("G9", {7, 11, 2, 5, 9}), ("G11", {7, 2, 5, 9, 0}), ("G13", {7, 11, 2, 5, 9, 4}), ("Bbmaj7", {10, 2, 5, 9}),
    ("F#m", {6, 9, 1}), ("E7sus4", {4, 9, 11, 2}),
])
def test_every_listed_quality_has_its_tones(symbol, pcs):
    assert set(parse_chord(symbol, key=None).pitch_classes()) == pcs


def test_slash_chords_and_roman_numerals():
    assert parse_chord("Am/E", key=None).bass == 4
    assert parse_chord("C/C", key=None).bass_pc is None  # its own root: not a slash chord
    assert parse_chord("G/B", key=None).name(C_MAJOR) == "G/B"
    d_major = Key(2, "major")
    assert [parse_chord(s, key=d_major).name(d_major) for s in ("I", "vi", "IV", "V7", "ii7", "bVII", "iiø")] == \
        ["D", "Bm", "G", "A7", "Em7", "C", "Em7b5"]


def test_bars_share_evenly_dots_hold_and_percent_repeats():
    assert spans_of("| C G | Am . . F | % | N.C. |") == [
        [(0, 2, "C"), (2, 2, "G")], [(0, 3, "Am"), (3, 1, "F")], [(0, 3, "Am"), (3, 1, "F")], [(0, 4, "N.C.")]]
    assert spans_of("| C G |", meter="6/8") == [[(0, 1.5, "C"), (1.5, 1.5, "G")]]
    assert spans_of("| C . . G . . |", meter="6/8") == [[(0, 1.5, "C"), (1.5, 1.5, "G")]]
    assert spans_of("| C F G |", meter="3/4") == [[(0, 1, "C"), (1, 1, "F"), (2, 1, "G")]]


def test_comments_and_sharps():
    assert spans_of("# my tune\n| F#m | C# |  # the turnaround") == [[(0, 4, "F#m")], [(0, 4, "C#")]]


def test_the_key_line_reads_the_numerals():
    assert spans_of("key: A minor\n| i | VI | III | VII |") == [[(0, 4, "Am")], [(0, 4, "F")], [(0, 4, "C")], [(0, 4, "G")]]


# ---------------------------------------------------------------- bad charts

@pytest.mark.parametrize("chart, meter, words", [
    ("| C | G |\n| Am | Fmaj13 |", None, ["line 2, bar 2 (bar 4 of the chart)", "'Fmaj13'"]),
    ("[chorus]\n| C | Hm |", None, ["line 2, bar 2 (bar 2 of [chorus])", "'Hm'"]),
    ("| C/X |", None, ["bar 1", "'C/X'"]),
    ("| C G Am |", "4/4", ["bar 1", "3 chords cannot share a bar of 4 counts"]),
    ("| C . . |", "4/4", ["bar 1", "needs one token per count, 4 in 4/4, but has 3"]),
    ("| C . . . |", "3/4", ["bar 1", "3 in 3/4, but has 4"]),
    ("| % |", None, ["% repeats the bar before"]),
    ("[chorus]\n", None, ["[chorus] has no bars"]),
    ("C G Am F", None, ["bars must stand between '|'"]),
    ("| C || G |", None, ["an empty bar"]),
    ("key: H major\n| C |", None, ["must be a note A-G"]),
    ("[fish]\n| C |", None, ["[fish] is not a section tag"]),
])
def test_bad_charts_name_the_line_bar_and_symbol(chart, meter, words):
    with pytest.raises(InvalidRequest) as error:
        sw.SongRequest(chords=chart, time_signature=meter).validate()
    assert error.value.field == "chords"
    for word in words:
        assert word in str(error.value)


def _cli_refuses(tmp_path, *args) -> str:
    out = tmp_path / "out"
    out.mkdir()
    code = main(["generate", "-q", "--seed", "1", "--duration", "20", *args, "-o", str(out / "song.wav"),
                 "--json", str(out / "song.json"), "--stems", str(out / "stems")])
    assert code == 2
    assert list(out.iterdir()) == []
    return str(code)


@pytest.mark.parametrize("chart, words", [
    ("[verse]\n| Am | F |\n[chorus]\n| F | Gx7 |", ["chords: line 4, bar 2 (bar 2 of [chorus])", "'Gx7'"]),
    ("[verse]\n| Am | F G C |", ["chords: line 2, bar 2 (bar 2 of [verse])", "3 chords cannot share"]),
    ("[bridge]\n| Am | F |", ["chords: the chart's [bridge] is not a section of the lyrics", "[chorus], [verse]"]),
])
def test_the_cli_refuses_a_bad_chart_with_exit_2_and_writes_nothing(tmp_path, capsys, chart, words):
    path = tmp_path / "chart.txt"
    path.write_text(chart, encoding="utf-8")
    _cli_refuses(tmp_path, "--lyrics-text", "[verse]\nhello there\n[chorus]\nla la la", "--chords", str(path))
    error = capsys.readouterr().err
    for word in words:
        assert word in error


def test_the_cli_refuses_an_unreadable_chart_file(tmp_path, capsys):
    _cli_refuses(tmp_path, "--chords", str(tmp_path / "missing.txt"))
    assert "chords: must be a readable file" in capsys.readouterr().err


# ---------------------------------------------------------------- planning

def _plan_and_score(**fields):
    return stages.score_of(sw.SongRequest(**({"seed": 2, "duration_s": 60} | fields)).validate())


def test_the_sections_play_the_chart_as_written():
    plan, _ = _plan_and_score(tags="pop", lyrics=LYRICS, chords=ISSUE_CHART)
    assert plan.key.name == "A minor"
    verse = next(s for s in plan.sections if s.kind == "verse")
    chorus = next(s for s in plan.sections if s.kind == "chorus")
    assert verse.bars == 8 and chorus.bars == 12  # each its chart's length, the lines fit in it
    assert [[c.chord.name(plan.key) for c in bar] for bar in verse.spans[:4]] == [["Am"], ["F"], ["C", "G"], ["E7"]]
    assert [[c.chord.name(plan.key) for c in bar] for bar in chorus.spans[8:]] == \
        [["E7sus4", "E7"], ["N.C."], ["Am/E"], ["Am"]]
    assert plan.chord_at_beat(verse.start_bar * 4 + 8 + 2.5).name(plan.key) == "G"
    intro = plan.sections[0]
    assert intro.spans is None  # no chart for it: the composer's own chords


def test_a_longer_section_repeats_the_chart_and_a_cut_is_reported():
    plan, _ = _plan_and_score(tags="pop", lyrics=LYRICS, chords="[verse]\n| Am | F |\n[chorus]\n| C | G | Am | F | C | G | Am | F | C | G | Am | F | C | G | Am | F | C | G | Am | F |",
                              duration_s=30)
    verse = next(s for s in plan.sections if s.kind == "verse")
    assert verse.bars % 2 == 0 and verse.bars >= 4
    assert [c.name(plan.key) for c in verse.chords] == ["Am", "F"] * (verse.bars // 2)
    assert any("[verse] plays its chart of 2 bars" in a for a in plan.adjustments)
    chorus = next(s for s in plan.sections if s.kind == "chorus")
    assert chorus.bars < 20
    assert any(f"[chorus] plays only the first {chorus.bars} of its chart's 20 bars" in w for w in plan.warnings)


def test_the_cadence_never_overwrites_the_users_last_bars():
    chart = "| C | Am | Dm | Em |"  # every section, the outro too
    plan, _ = _plan_and_score(tags="jazz", lyrics=LYRICS, chords=chart, key="C major")
    outro = plan.sections[-1]
    assert outro.spans is not None
    assert [c.name(plan.key) for c in outro.chords] == (["C", "Am", "Dm", "Em"] * 4)[:outro.bars]
    plain, _ = _plan_and_score(tags="jazz", lyrics=LYRICS, key="C major")
    assert [c.name(plain.key) for c in plain.sections[-1].chords][-2:] == ["Dm7", "G7"]  # ii7-V7 when it is ours


def test_letter_chords_give_the_key_and_the_request_key_wins():
    plan, _ = _plan_and_score(tags="pop", chords="| Em | C | G | D |", instrumental=True)
    assert plan.key.name == "E minor"
    plan, _ = _plan_and_score(tags="pop", chords="| Em | C | G | D |", instrumental=True, key="G major")
    assert plan.key.name == "G major"


# ---------------------------------------------------------------- playing (the score)

@pytest.mark.parametrize("tags", ["pop", "jazz", "metal", "reggae", "blues", "ambient", "latin"])
def test_the_band_plays_each_span_in_its_written_quality_with_the_bass_lowest(tags):
    chart = "| C G/B | Am7 . . D7 | Fmaj7 | Bm7b5 E7 |\n| Am | Dm7 G7 | Csus4 C | N.C. |"
    plan, score = _plan_and_score(tags=tags, chords=chart, instrumental=True, key="C major", duration_s=40)
    bpb = plan.beats_per_bar
    checked = 0
    for bar in range(plan.content_bars):
        for span in plan.spans_of_bar(bar):
            start = bar * bpb + span.start_beats
            end = start + span.duration_beats
            # the written span, moved by the timing feel's jitter (a few ms)
            inside = lambda part: [n for n in part.notes if start - 0.06 <= n.start_beats < end - 0.06]  # noqa: E731
            for name in ("comp", "keys", "pad"):
                part = score.part(name)
                if part is None:
                    continue
                notes = inside(part)
                if not span.chord.intervals:
                    assert notes == [], (tags, bar, name)
                    continue
                off = [n.pitch for n in notes if n.pitch % 12 not in span.chord.pitch_classes()]
                assert off == [], (tags, bar, span.chord.symbol, name, off)
            bass = inside(score.part("bass"))
            if bass and span.chord.intervals:
                assert min(n.pitch for n in bass) % 12 == span.chord.bass, (tags, bar, span.chord.symbol)
                assert bass[0].pitch % 12 == span.chord.bass, (tags, bar, span.chord.symbol)  # on the change
                checked += 1
    assert checked >= 10


def test_the_vocal_melody_takes_chord_tones_on_strong_beats_of_the_chord_sounding_there():
    chart = "[verse]\n| Am | F | C G | E7 |\n[chorus]\n| F G | Em Am | Dm7 | E7sus4 E7 |"
    plan, score = _plan_and_score(tags="pop", lyrics=LYRICS, chords=chart)
    strong = 0
    for note in score.part("vocals").notes:
        beat = round(note.start_beats * 4) / 4  # the written beat, before the timing feel
        ticks = int(round((beat % plan.beats_per_bar) * TICKS_PER_BEAT))
        if metric_weight(tick=ticks, beats_per_bar=plan.beats_per_bar) >= 2:
            strong += 1
            assert note.pitch % 12 in plan.chord_at_beat(beat + 1e-3).pitch_classes(), (beat, note.syllable)
    assert strong >= 20


def test_songs_without_a_chart_are_unchanged_by_an_empty_chords_field():
    a = _plan_and_score(tags="funk", lyrics=LYRICS)[1]
    b = _plan_and_score(tags="funk", lyrics=LYRICS, chords=None)[1]
    assert [(n.start_beats, n.pitch) for p in a.parts for n in p.notes] == \
        [(n.start_beats, n.pitch) for p in b.parts for n in p.notes]


# ---------------------------------------------------------------- measured from the audio

def _bench():
    spec = importlib.util.spec_from_file_location("bench_charts", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chart_heard(index: int) -> tuple[int, int, int, int]:
    """The bench's chart `index` made and measured: (bars recognised, bars, bass spans right, spans)."""
    bench = _bench()
    _, tags, chart, fields = bench.CHARTS[index]
    (good, bars, _), (bass_good, spans, _), _ = bench.measure(tags, chart, fields)
    return good, bars, bass_good, spans


def test_chords_and_bass_heard_in_the_audio_follow_the_charts():
    """benchmarks/bench_charts.py's 13 charts (pop, jazz ii-V-I, blues, two per bar, slash chords,
    roman numerals, 3/4, 6/8...): >= 90 % of bars recognised, >= 95 % of bass spans on the bass note."""
    charts = len(_bench().CHARTS)
    assert charts >= 10
    good, bars, bass_good, spans = map(sum, zip(*in_processes(_chart_heard, range(charts))))
    assert bars >= 150 and spans >= 150
    assert good / bars >= 0.90, (good, bars)
    assert bass_good / spans >= 0.95, (bass_good, spans)


def test_the_measure_fails_a_song_that_plays_other_chords():
    """The recogniser is not a rubber stamp: the composer's own chords, measured against a chart
    they do not follow, fail it."""
    song = sw.generate(sw.SongRequest(tags="pop", chords="| C | G | Am | F |", instrumental=True, seed=1,
                                      duration_s=24, key="C major"))
    for section in song.plan.sections:  # the chart the audio is measured against, moved a tritone
        if section.spans is not None:
            section.spans = [tuple(type(s)(s.start_beats, s.duration_beats,
                                           parse_chord({"C": "F#", "G": "C#", "Am": "D#m", "F": "B"}[s.chord.symbol],
                                                       key=None)) for s in bar) for bar in section.spans]
    good, bars, _ = chord_agreement(song)
    bass_good, spans, _ = bass_agreement(song)
    assert good / bars < 0.2 and bass_good / spans < 0.2


# ---------------------------------------------------------------- the lead sheet

ROUND_TRIP_LYRICS = LYRICS + "\n[verse]\nWe walk along the river\n[bridge]\nhold on\n[chorus]\nSing it loud and sing it clear"


@pytest.mark.parametrize("tags, meter, chart", [
    ("pop", None, None), ("jazz", "3/4", None), ("rock", None, None),
    ("folk", "6/8", "[verse]\n| G D/F# | Em . . C . . | C D | G |"),
    ("blues", None, "| A7 | D7 | A7 . . E7 | N.C. |"),
])
def test_the_exported_chart_round_trips(tags, meter, chart):
    """A song's chart, given back as its chart, is read without a complaint and every section
    plays the exported bars from the top. (The form may differ: a charted section is as long as its
    chart or whole repeats of it, where the composer's own fills 2, 4, 8... bars.)"""
    request = sw.SongRequest(tags=tags, lyrics=ROUND_TRIP_LYRICS, time_signature=meter, duration_s=90, seed=4,
                             chords=chart).validate()
    first, _ = stages.score_of(request)
    text = first.chart_text()
    again, _ = stages.score_of(request.replace(chords=text).validate())
    exported = parse_chart(text)
    for section in again.sections:
        written = exported.section_for(kind=section.kind, label=section.label)
        if written is None:
            continue
        bars = section_spans(written, key=again.key, meter=again.time_signature)
        assert section.spans == [bars[i % len(bars)] for i in range(section.bars)]


def test_a_given_chart_comes_back_as_written():
    plan, _ = _plan_and_score(tags="pop", lyrics=LYRICS, chords=ISSUE_CHART)
    text = plan.chart_text()
    assert "[verse]\n| Am | F | C G | E7 |\n| Am | F | C G | G |\n" in text
    assert "[chorus]\n| Fm | D | A | E |\n| F G | Em Am | Dm7 | E7sus4 E7 |\n| E7sus4 E7 | N.C. | Am/E | Am |\n" in text


def test_cli_writes_the_chart_and_the_json_lists_chord_changes_with_times(tmp_path):
    import json

    code = main(["generate", "-q", "--tags", "jazz", "--instrumental", "--seed", "1", "--duration", "20", "--bpm", "120",
                 "--chords-text", "| Dm7 G7 | Cmaj7 | Bm7b5 . . E7 | Am |", "-o", str(tmp_path / "s.wav"),
                 "--chart", str(tmp_path / "lead.txt"), "--json", str(tmp_path / "s.json")])
    assert code == 0
    text = (tmp_path / "lead.txt").read_text(encoding="utf-8")
    assert "| Dm7 G7 | Cmaj7 | Bm7b5 . . E7 | Am |" in text
    changes = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["plan"]["chord_changes"]
    assert changes[:3] == [{"chord": "Dm7", "start_beats": 0.0, "start_s": 0.0},
                           {"chord": "G7", "start_beats": 2.0, "start_s": 1.0},
                           {"chord": "Cmaj7", "start_beats": 4.0, "start_s": 2.0}]
    assert changes[-1]["start_s"] == pytest.approx(20 - 2.0, abs=2.0)  # the final chord, before the ring-out
