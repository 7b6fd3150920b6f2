"""Edits that change part of a song: retake, repaint, extend, relyric. Measured on the notes (every
note outside the edit identical, the edited part changed) and on the audio (the mix and every stem
sample-identical outside the edited window; the song file makes the edited song again)."""

import hashlib
import json
import re

import numpy as np
import pytest

import songwright as sw
from songwright.edits import (LEAD_IN_S, TAIL_S, apply, check_edit, extend_edit, make, relyric_edit,
                              repaint_edit, retake_edit)
from songwright.errors import InvalidRequest
from songwright.stages import composed

from .conftest import songwright_cli

LYRICS = """[verse]
Morning light on the window pane
Coffee cold but I feel no pain

[chorus]
Sing it loud, sing it clear
Everything I want is here

[verse]
Every street is a new refrain
I keep on walking in the rain

[chorus]
Sing it loud, sing it clear
Everything I want is here
"""
SONG = sw.SongRequest(tags="pop, female vocal", lyrics=LYRICS, duration_s=45, seed=3, tempo_bpm=120)


@pytest.fixture(scope="module")
def stages():
    return composed(SONG.validate())


@pytest.fixture(scope="module")
def source() -> sw.Song:
    return make(SONG)


@pytest.fixture(scope="module")
def retaken(source) -> sw.Song:
    return source.edit("retake", section="chorus 2", seed=9)


def _key(note):
    return (round(note.start_beats, 9), note.duration_beats, note.pitch, note.velocity, note.syllable)


def _by_bars(score, bars: range, inside: bool):
    notes = {p.name: [_key(n) for n in p.notes if (n.bar in bars) == inside] for p in score.parts}
    return {name: keys for name, keys in notes.items() if keys}


def _section(plan, name):
    from songwright.edits import find_section

    section = find_section(plan, name)
    return range(section.start_bar, section.end_bar)


def test_a_retake_writes_its_section_anew_and_keeps_every_other_note(stages):
    prepared, plan, score = stages
    bars = _section(plan, "chorus 2")
    change = apply(check_edit(retake_edit(section="chorus 2", seed=9)), prepared, plan, score)
    assert _by_bars(change.score, bars, inside=False) == _by_bars(score, bars, inside=False)
    old, new = _by_bars(score, bars, inside=True), _by_bars(change.score, bars, inside=True)
    assert old["vocals"] and new["vocals"] != old["vocals"]
    assert [n[4] for n in new["vocals"]] == [n[4] for n in old["vocals"]]  # the same words, a new tune
    assert sum(a != b for name in old for a, b in zip(old[name], new.get(name, []))) > 50
    assert [c.name(plan.key) for c in change.plan.sections[4].chords] != [c.name(plan.key) for c in plan.sections[4].chords]
    other = apply(check_edit(retake_edit(section="chorus 2", seed=10)), prepared, plan, score)
    assert _by_bars(other.score, bars, inside=True) != new  # another take, another chorus
    again = apply(check_edit(retake_edit(section="chorus 2", seed=9)), prepared, plan, score)
    assert _by_bars(again.score, bars, inside=True) == new  # the same take, the same chorus


def test_keep_chords_keeps_the_harmony_and_writes_new_lines(stages):
    prepared, plan, score = stages
    change = apply(check_edit(retake_edit(section=4, seed=9, keep_chords=True)), prepared, plan, score)
    assert [s.chords for s in change.plan.sections] == [s.chords for s in plan.sections]
    bars = range(plan.sections[3].start_bar, plan.sections[3].end_bar)
    assert _by_bars(change.score, bars, inside=True)["vocals"] != _by_bars(score, bars, inside=True)["vocals"]


def test_a_span_of_bars_is_widened_to_whole_lines_and_a_repaint_snaps_to_bar_lines(stages):
    prepared, plan, score = stages
    verse = plan.sections[1]
    first_line_bars = verse.phrase_bars[0]
    inside = verse.start_bar + first_line_bars - 1  # the last bar of the verse's first line, 1-based below
    change = apply(check_edit(retake_edit(bars=f"{inside + 1}-{inside + 1}", seed=2)), prepared, plan, score)
    assert min(change.plan.takes) == verse.start_bar and max(change.plan.takes) >= inside
    bar_s = plan.bar_s
    painted = apply(check_edit(repaint_edit(start_s=4.1 * bar_s, end_s=5.2 * bar_s, seed=2)), prepared, plan, score)
    assert sorted(painted.plan.takes)[0] <= 4 and sorted(painted.plan.takes)[-1] >= 5
    assert all(b in painted.plan.takes for b in range(4, 6))


def test_the_mix_and_stems_outside_a_retake_are_the_source_sample_for_sample(stages, source, retaken):
    prepared, plan, score = stages
    bars = _section(plan, "chorus 2")
    start_s, end_s = apply(check_edit(retake_edit(section="chorus 2", seed=9)), prepared, plan, score).window
    beat_s = plan.seconds_per_beat
    assert start_s >= bars.start * plan.bar_s - 2 * beat_s - LEAD_IN_S  # a beat, and a pickup at most
    assert end_s <= bars.stop * plan.bar_s + 4 * beat_s + TAIL_S
    rate = source.sample_rate
    a, b = round(start_s * rate), round(end_s * rate)
    assert len(retaken.audio) == len(source.audio)
    assert np.array_equal(retaken.audio[:a], source.audio[:a]) and np.array_equal(retaken.audio[b:], source.audio[b:])
    for name, stem in source.stems.items():
        assert np.array_equal(retaken.stems[name][:a], stem[:a]) and np.array_equal(retaken.stems[name][b:], stem[b:]), name
    chorus = slice(round(bars.start * plan.bar_s * rate), round(bars.stop * plan.bar_s * rate))
    assert np.abs(retaken.stems["vocals"][chorus] - source.stems["vocals"][chorus]).max() > 0.05
    # the crossfades leave no click: no sample jumps more at the edges than the music does around them
    step = np.abs(np.diff(retaken.audio, axis=0)).max(axis=1)
    assert step[a - 10:a + 10].max() < 3 * step[a - 2000:a + 2000].max() + 1e-3


def test_an_edit_in_hand_equals_the_edit_made_from_the_song_file(source, retaken):
    again = make(source.resolved_request(), [retake_edit(section="chorus 2", seed=9)])
    assert np.array_equal(again.audio, retaken.audio)
    assert retaken.edits == ({"verb": "retake", "section": "chorus 2", "bars": None, "seed": 9, "keep_chords": False},)


def test_extend_keeps_every_bar_before_the_outro_and_sings_the_chorus_again(stages, source):
    prepared, plan, score = stages
    longer = source.edit("extend", duration_s=75)
    assert longer.duration_s == pytest.approx(75, abs=1e-3)
    outro = plan.sections[-1]
    kept = range(0, outro.start_bar)
    assert _by_bars(longer.score, kept, inside=True) == _by_bars(score, kept, inside=True)
    change = apply(check_edit(extend_edit(duration_s=75)), prepared, plan, score)
    a = round(change.window[0] * source.sample_rate)
    assert change.window[0] >= outro.start_bar * plan.bar_s - 2 * plan.seconds_per_beat - LEAD_IN_S
    assert np.array_equal(longer.audio[:a], source.audio[:a])
    kinds = [s.kind for s in longer.plan.sections]
    assert kinds[:len(plan.sections) - 1] == [s.kind for s in plan.sections[:-1]] and kinds[-1] == "outro"
    assert kinds.count("chorus") == 3
    # the returning chorus keeps the tune it had: the same pitches for the same words
    vocals = longer.score.part("vocals").notes
    def tune(section):
        return [(n.syllable, n.pitch) for n in vocals if section.start_bar <= n.bar < section.end_bar]
    first, *_, last = [s for s in longer.plan.sections if s.kind == "chorus"]
    assert tune(last) == tune(first) and tune(last)


def test_extend_with_new_lyrics_sings_them_after_the_song(stages):
    prepared, plan, score = stages
    change = apply(check_edit(extend_edit(duration_s=70, lyrics="[bridge]\nOver the hills and far away\nI will find my way")),
                   prepared, plan, score)
    added = [s for s in change.plan.sections if s.kind == "bridge"]
    assert len(added) == 1 and added[0].start_bar >= plan.sections[-1].start_bar
    sung = "".join(n.syllable for n in change.score.part("vocals").notes if added[0].start_bar <= n.bar < added[0].end_bar)
    assert sung.lower().replace("'", "") == "overthehillsandfarawayiwillfindmyway"


def test_relyric_sings_the_new_words_on_that_line_only(stages, source):
    prepared, plan, score = stages
    edited = source.edit("relyric", line=2, text="Coffee hot and the radio plays")
    lines = [line.text for line in edited.lyric_timings()]
    old_lines = [line.text for line in source.lyric_timings()]
    assert lines[1] == "Coffee hot and the radio plays" and lines[:1] + lines[2:] == old_lines[:1] + old_lines[2:]
    vocals = [n for n in edited.score.part("vocals").notes]
    line_id = sorted({n.line for n in vocals})[1]
    assert "".join(n.syllable for n in vocals if n.line == line_id).lower() == "coffeehotandtheradioplays"
    for name in ("drums", "bass", "comp", "keys"):
        assert [_key(n) for n in edited.score.part(name).notes] == [_key(n) for n in source.score.part(name).notes]
    others = lambda song: [_key(n) for n in song.score.part("vocals").notes if n.line != line_id]  # noqa: E731
    assert others(edited) == others(source)
    assert "Coffee hot and the radio plays" in re.sub(r"<[^>]*>", "", edited.lrc())


@pytest.mark.parametrize("edit,field", [
    ({"verb": "retake", "section": "bridge", "bars": None, "seed": 1, "keep_chords": False}, "section"),
    ({"verb": "retake", "section": 99, "bars": None, "seed": 1, "keep_chords": False}, "section"),
    ({"verb": "retake", "section": None, "bars": [200, 210], "seed": 1, "keep_chords": False}, "bars"),
    ({"verb": "repaint", "start_s": 44.0, "end_s": 45.0, "seed": 1, "keep_chords": False}, "start_s"),
    ({"verb": "repaint", "start_s": 10.0, "end_s": 80.0, "seed": 1, "keep_chords": False}, "end_s"),
    ({"verb": "extend", "duration_s": 30.0, "lyrics": None}, "duration_s"),
    ({"verb": "relyric", "line": 12, "text": "la la"}, "line"),
    ({"verb": "relyric", "line": 1, "text": " ".join(["syllable"] * 40)}, "text"),
])
def test_an_edit_that_does_not_fit_the_song_names_its_field(stages, edit, field):
    with pytest.raises(InvalidRequest) as caught:
        apply(check_edit(edit), *stages)
    assert caught.value.field == field


def test_the_cli_keeps_the_verse_and_retakes_the_chorus(tmp_path):
    made = songwright_cli("generate", "--tags", "folk, male vocal", "--duration", "24", "--seed", "4", "--lyrics-text",
                "[verse] Down by the river [chorus] turn turn turn", "-o", "a.wav", "--json", "a.json", "--stems", "a",
                cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    source_file = (tmp_path / "a.json").read_bytes()
    edited = songwright_cli("retake", "a.json", "--section", "chorus", "--seed", "5", "-o", "b.wav", "--json", "b.json",
                  "--lrc", "b.lrc", "--stems", "b", cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert (tmp_path / "a.json").read_bytes() == source_file  # the source is never changed
    report = json.loads((tmp_path / "b.json").read_text())
    assert report["edits"] == [{"verb": "retake", "section": "chorus", "bars": None, "seed": 5, "keep_chords": False}]
    again = songwright_cli("generate", "--from", "b.json", "-o", "c.wav", "--stems", "c", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert hashlib.sha256((tmp_path / "b.wav").read_bytes()).digest() == hashlib.sha256((tmp_path / "c.wav").read_bytes()).digest()
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(p.name for p in (tmp_path / "c").iterdir())
    assert all((tmp_path / "b" / p.name).read_bytes() == p.read_bytes() for p in (tmp_path / "c").iterdir())
    assert (tmp_path / "a.wav").read_bytes() != (tmp_path / "b.wav").read_bytes()


def test_an_edit_of_a_song_file_splices_into_its_mix_and_gives_the_same_bytes(tmp_path, source):
    """A song file beside its 16-bit WAV: the edit reads that mix back (checked by its samples' hash)
    and renders its window only; the result is the song `make` renders whole, sample for sample."""
    from songwright.audio.stems import StemsNotKept
    from songwright.song import read_song_mix

    source.save_all(tmp_path / "a.wav", json_path=tmp_path / "a.json", stems_dir=tmp_path / "stems")
    mix = read_song_mix(tmp_path / "a.json")
    assert mix is not None and np.array_equal(mix.audio, source.audio) and mix.levels == source.levels
    edit = retake_edit(section="chorus 2", seed=8)
    request, earlier = sw.song.read_song_file(tmp_path / "a.json")
    spliced = make(request, earlier + (edit,), source=mix)
    whole = make(request, earlier + (edit,))
    assert isinstance(spliced.stems, StemsNotKept) and list(spliced.stems) == list(whole.stems)
    assert np.array_equal(spliced.audio, whole.audio) and spliced.loudness_lufs == whole.loudness_lufs
    assert spliced.to_dict() == whole.to_dict()
    with pytest.raises(sw.RenderError, match="not kept"):
        spliced.stems["drums"]
    with_stems = make(request, earlier + (edit,), source=read_song_mix(tmp_path / "a.json", stems=True))
    assert list(with_stems.stems) == list(whole.stems)
    assert all(np.array_equal(with_stems.stems[name], whole.stems[name]) for name in whole.stems)
    sw.audio.io.write_audio(tmp_path / "stems" / "bass.wav", whole.stems["bass"], 44100, subtype="FLOAT")
    assert read_song_mix(tmp_path / "a.json", stems=True) is None  # a stem changed: rendered again

    source.save(tmp_path / "a.flac")  # the same samples in FLAC: found as well
    report = json.loads((tmp_path / "a.json").read_text())
    (tmp_path / "f.json").write_text(json.dumps(report | {"mix": report["mix"] | {"file": "a.flac"}}))
    assert read_song_mix(tmp_path / "f.json") is not None
    changed = source.audio.copy()  # the mix is not the song file's any more: rendered again instead
    changed[1000, 0] += 1 / 32767
    sw.audio.io.write_audio(tmp_path / "a.wav", changed, 44100)
    assert read_song_mix(tmp_path / "a.json") is None
    (tmp_path / "a.wav").unlink()
    assert read_song_mix(tmp_path / "a.json") is None
    (tmp_path / "v.json").write_text(json.dumps(report | {"mix": report["mix"] | {"file": "a.flac"},
                                                          "versions": report["versions"] | {"pedalboard": "0.1"}}))
    assert read_song_mix(tmp_path / "v.json") is None
    source.save_all(tmp_path / "m.mp3", json_path=tmp_path / "m.json")  # lossy: no mix to splice into
    assert "mix" not in json.loads((tmp_path / "m.json").read_text()) and read_song_mix(tmp_path / "m.json") is None


@pytest.mark.parametrize("args,message", [
    (("retake", "a.json", "--section", "bridge"), "section: must be a section of the song"),
    (("retake", "a.json", "--bars", "9-999"), "bars: must lie within the song's"),
    (("retake", "a.json", "--bars", "nine"), "bars: must be a bar or a span of bars"),
    (("repaint", "a.json", "--start-s", "50", "--end-s", "60"), "start_s: must be before the final chord"),
    (("repaint", "a.json", "--start-s", "5", "--end-s", "60"), "end_s: must be within the song's 20 s"),
    (("repaint", "a.json", "--start-s", "5", "--end-s", "2"), "end_s: must be after start_s"),
    (("extend", "a.json", "--duration", "10"), "duration_s: must be longer than the song's"),
    (("extend", "a.json", "--duration", "21", "--before"), "duration_s: must add at least 4 bars"),
    (("relyric", "a.json", "--line", "7", "--text", "la"), "line: must be a sung line of the song"),
    (("retake", "nothing.json", "--section", "1"), "from: must be a readable song file"),
    (("retake", "newer.json", "--section", "1"), "written by a newer Songwright"),
])
def test_a_bad_edit_is_refused_with_exit_2_and_nothing_is_written(tmp_path, args, message):
    request = {"tags": "folk", "duration_s": 20, "seed": 1, "lyrics": "[verse] Down by the river"}
    (tmp_path / "a.json").write_text(json.dumps({"format": "songwright-song", "format_version": 1,
                                                 "resolved_request": request}))
    (tmp_path / "newer.json").write_text(json.dumps({"format": "songwright-song", "format_version": 9,
                                                     "resolved_request": request}))
    result = songwright_cli(*args, "-o", "out.wav", "--json", "out.json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out.json").exists()


def test_an_edit_made_from_its_song_file_reports_progress_once_through(source):
    seen = []
    make(source.resolved_request(), [remix_edit_key(), retake_edit(section="verse", seed=1)],
         progress=lambda stage, fraction: seen.append(fraction))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len({round(f, 3) for f in seen}) > 6


def remix_edit_key():
    from songwright.edits import remix_edit

    return remix_edit(tempo_bpm=126)


def test_extend_before_puts_new_sections_after_the_intro_and_keeps_the_song_later(stages, source):
    prepared, plan, score = stages
    edit = extend_edit(duration_s=62, before=True, lyrics="[verse]\nOnce upon a time in a little town\nEvery light was burning down")
    change = apply(check_edit(edit), prepared, plan, score)
    intro = plan.sections[0]
    inserted = change.plan.content_bars - plan.content_bars
    assert [s.kind for s in change.plan.sections][:2] == ["intro", "verse"] and inserted >= 4
    assert change.plan.duration_s == pytest.approx(plan.duration_s + inserted * plan.bar_s)
    beats = inserted * plan.beats_per_bar
    for part in score.parts:  # the intro where it was, every later note the same, later by the new bars
        new = change.score.part(part.name).notes
        expected = sorted([_key(n) if n.bar < intro.bars else (round(n.start_beats + beats, 9),) + _key(n)[1:]
                           for n in part.notes])
        got = sorted(_key(n) for n in new if n.bar < intro.bars or n.bar >= intro.bars + inserted)
        assert got == expected, part.name
    longer = source.edit("extend", duration_s=62, before=True, lyrics=edit["lyrics"])
    lines = [line.text for line in longer.lyric_timings()]
    assert lines[:2] == ["Once upon a time in a little town", "Every light was burning down"]
    assert lines[2:] == [line.text for line in source.lyric_timings()]
    rate = source.sample_rate
    a, b, shift = (round(t * rate) for t in (*change.window, change.shift_s))
    assert np.array_equal(longer.audio[:a], source.audio[:a])
    assert np.array_equal(longer.audio[b:], source.audio[b - shift:])
    assert len(longer.audio) == len(source.audio) + shift


def _envelope_db(audio: np.ndarray, rate: int) -> np.ndarray:
    """Loudness every 50 ms, dB (mono)."""
    mono = np.asarray(audio, dtype=np.float64).mean(axis=1)
    frame = rate // 20
    frames = mono[:len(mono) // frame * frame].reshape(-1, frame)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)


def test_a_passage_rendered_on_its_own_at_the_songs_levels_is_that_passage_of_the_song(source):
    """What an edit renders instead of the whole song: a passage after a pre-roll. The instruments
    come out as in the song (60 dB down: compressors and reverbs remember the notes before the
    pre-roll a little), the singer sings the
    same notes at the same loudness (MBROLA's waveform is not the same sample for sample when a
    line starts later)."""
    from songwright.stages import perform_passage

    rate = source.sample_rate
    passage = perform_passage(source.plan, source.score, start_s=20.3, end_s=31.0, levels=source.levels)
    assert passage.start == round(20.3 * rate) and len(passage.audio) == round(31.0 * rate) - passage.start
    span = slice(passage.start, passage.start + len(passage.audio))
    for name in ("drums", "bass", "keys", "guitar", "strings"):
        if name in passage.stems:
            error = np.mean((passage.stems[name] - source.stems[name][span]) ** 2) / np.mean(source.stems[name][span] ** 2)
            assert 10 * np.log10(error + 1e-30) < -60, name
    got, want = _envelope_db(passage.audio, rate), _envelope_db(source.audio[span], rate)
    heard = want > want.max() - 40
    assert np.median(np.abs(got - want)[heard]) < 0.5 and np.percentile(np.abs(got - want)[heard], 95) < 1.5


def test_a_retaken_section_sits_at_the_level_of_the_section_it_replaces(stages, source, retaken):
    prepared, plan, score = stages
    rate = source.sample_rate
    bars = _section(plan, "chorus 2")
    chorus = slice(round(bars.start * plan.bar_s * rate), round(bars.stop * plan.bar_s * rate))
    from songwright.audio.measure import integrated_lufs

    assert abs(integrated_lufs(retaken.audio[chorus], rate) - integrated_lufs(source.audio[chorus], rate)) < 1.5
    assert retaken.levels == source.levels
