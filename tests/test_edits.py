"""Edits of a finished song: remix (another key, another tempo), every note kept."""

import hashlib
import json

import numpy as np
import pytest

import songwright as sw
from songwright.audio.analysis import estimate_key
from songwright.edits import make, remix_edit
from songwright.errors import InvalidRequest
from songwright.theory import parse_key

from .conftest import songwright_cli

SOURCE = sw.SongRequest(tags="pop, piano", duration_s=30, seed=8, key="F major", tempo_bpm=100, instrumental=True)


@pytest.fixture(scope="module")
def source() -> sw.Song:
    return make(SOURCE)


@pytest.fixture(scope="module")
def remixed(source) -> sw.Song:
    return make(source.resolved_request(), [remix_edit(key="A major", tempo_bpm=125)])


def _notes(song, pitched: bool):
    return [[(n.start_beats, n.duration_beats, n.pitch, n.velocity) for n in p.notes]
            for p in song.score.parts if p.is_drum != pitched]


def test_a_remix_moves_every_pitched_note_by_one_interval_and_keeps_the_rest(source, remixed):
    before, after = _notes(source, pitched=True), _notes(remixed, pitched=True)
    assert [len(p) for p in before] == [len(p) for p in after] and sum(map(len, before)) > 100
    shifts = {b[2] - a[2] for pb, pa in zip(before, after) for b, a in zip(pa, pb)}
    assert shifts == {4}  # F -> A, up a major third
    assert [[n[:2] + n[3:] for n in p] for p in before] == [[n[:2] + n[3:] for n in p] for p in after]
    assert _notes(source, pitched=False) == _notes(remixed, pitched=False)  # the drums are not transposed
    chords = lambda song: [(c.root_pc, c.intervals) for s in song.plan.sections for c in s.chords]  # noqa: E731
    assert chords(remixed) == [((root + 4) % 12, intervals) for root, intervals in chords(source)]


def test_a_remix_is_heard_in_its_new_key_and_tempo(source, remixed):
    tonic, mode, _ = estimate_key(source.audio, source.sample_rate)
    assert parse_key(f"{tonic} {mode}") == parse_key("F major")
    tonic, mode, _ = estimate_key(remixed.audio, remixed.sample_rate)
    assert parse_key(f"{tonic} {mode}") == parse_key("A major")
    assert remixed.plan.tempo_bpm == 125 and remixed.score.tempo_bpm == 125
    # the notes keep their beats, so the song is shorter by the tempo ratio (its 1.2 s release kept)
    assert remixed.duration_s == pytest.approx((30 - 1.2) * 100 / 125 + 1.2, abs=1e-4)
    assert len(remixed.audio) == round(remixed.duration_s * remixed.sample_rate)


def test_a_remix_mode_change_or_no_change_is_refused():
    with pytest.raises(InvalidRequest, match="remix: must change the key, the tempo, the voice, the tags or the meter"):
        remix_edit()
    with pytest.raises(InvalidRequest, match="key: must be a note"):
        remix_edit(key="H major")
    with pytest.raises(InvalidRequest, match="tempo_bpm: must be"):
        remix_edit(tempo_bpm=400)
    with pytest.raises(InvalidRequest, match=r"key: must keep the song's mode \(major\)"):
        make(SOURCE, [remix_edit(key="D minor")])


def test_remix_from_the_cli_writes_a_new_song_file_that_makes_it_again(tmp_path):
    made = songwright_cli("generate", "--tags", "rock, male vocal", "--duration", "14", "--seed", "2", "--lyrics-text",
                "[verse] Engines roar across the plain [chorus] never stop", "-o", "a.wav", "--json", "a.json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    digest = hashlib.sha256((tmp_path / "a.json").read_bytes()).hexdigest()
    remix = songwright_cli("remix", "a.json", "--bpm", "150", "-o", "r.wav", "--json", "r.json", "--lrc", "r.lrc", cwd=tmp_path)
    assert remix.returncode == 0, remix.stderr
    assert hashlib.sha256((tmp_path / "a.json").read_bytes()).hexdigest() == digest  # the source is never changed
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["edits"] == [{"verb": "remix", "key": None, "tempo_bpm": 150.0}]
    assert report["resolved"]["tempo_bpm"] == 150.0
    assert report["resolved_request"] == json.loads((tmp_path / "a.json").read_text())["resolved_request"]
    again = songwright_cli("generate", "--from", "r.json", "-o", "r2.wav", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "r.wav").read_bytes() == (tmp_path / "r2.wav").read_bytes()
    source_words = [w["text"] for line in json.loads((tmp_path / "a.json").read_text())["lyrics"] for w in line["words"]]
    assert [w["text"] for line in report["lyrics"] for w in line["words"]] == source_words


@pytest.mark.parametrize("args,message", [
    (["--key", "Bb minor"], "key: must keep the song's mode"),
    (["--key", "H major"], "key: must be a note"),
    ([], "remix: must change the key, the tempo, the voice, the tags or the meter"),
    (["--bpm", "41"], "tempo_bpm: makes the song"),
])
def test_a_bad_remix_is_refused_and_nothing_is_written(tmp_path, args, message):
    request = sw.SongRequest(tags="pop", duration_s=590, seed=1, tempo_bpm=200, key="C major", instrumental=True)
    report = {"format": "songwright-song", "format_version": 1, "resolved_request": request.to_dict(), "edits": []}
    (tmp_path / "a.json").write_text(json.dumps(report))
    result = songwright_cli("remix", "a.json", *args, "-o", "r.wav", "--json", "r.json", cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.wav").exists() and not (tmp_path / "r.json").exists()


VOCAL = sw.SongRequest(tags="pop, female vocal", duration_s=30, seed=3,
                       lyrics="[verse]\nMorning light on the window pane\n[chorus]\nSing it loud, sing it clear")


def test_a_remix_with_another_voice_keeps_every_note_and_moves_the_line_by_octaves():
    from songwright.edits import apply, check_edit
    from songwright.stages import composed

    prepared, plan, score = composed(VOCAL.validate())
    change = apply(check_edit(remix_edit(voice="us2")), prepared, plan, score)
    assert plan.lead_voice == "slt" and change.plan.lead_voice == "us2"
    before, after = score.part("vocals").notes, change.score.part("vocals").notes
    assert {b.pitch - a.pitch for a, b in zip(before, after)} == {-12}  # slt to us2: an octave down
    assert [(n.start_beats, n.duration_beats, n.syllable) for n in before] == \
           [(n.start_beats, n.duration_beats, n.syllable) for n in after]
    assert {n.voice for n in after} == {"us2"} and all(n.phones is not None for n in after)
    for name in ("drums", "bass", "comp", "keys"):
        assert score.part(name).notes == change.score.part(name).notes


def test_a_remix_with_other_tags_swaps_and_silences_instruments():
    from songwright.edits import apply, check_edit
    from songwright.stages import composed

    prepared, plan, score = composed(VOCAL.validate())
    change = apply(check_edit(remix_edit(tags="+strings, -guitar")), prepared, plan, score)
    assert change.plan.request.tags == "pop, female vocal, strings"
    assert score.part("comp").stem == "guitar" and change.score.part("comp") is None  # the guitar is silent
    assert score.part("pad").program != 48 and change.score.part("pad").program == 48  # GM strings
    assert change.score.part("pad").notes == score.part("pad").notes
    with pytest.raises(InvalidRequest, match="tags: 'kazoo' is not a tag"):
        apply(check_edit(remix_edit(tags="+kazoo")), prepared, plan, score)
    with pytest.raises(InvalidRequest, match="voice: must be one of slt, sltm, us1"):
        apply(check_edit(remix_edit(voice="zz9")), prepared, plan, score)
    everything = "-drums, -bass, -guitar, -keys, -strings, -lead, -vocals, -harmony"
    with pytest.raises(InvalidRequest, match="tags: must leave at least one instrument or voice playing"):
        apply(check_edit(remix_edit(tags=everything)), prepared, plan, score)  # was an AttributeError while mixing


def test_a_voice_remix_is_sung_by_the_new_voice(tmp_path):
    song = make(VOCAL, [remix_edit(voice="us2")])
    assert song.voices() == {"us2": len(song.score.part("vocals").notes)}
    assert song.to_dict()["resolved_request"]["voice"] is None  # the source's request, the edit listed after it
    assert song.edits[0]["voice"] == "us2"


def test_a_remix_into_another_meter_keeps_the_form_chords_and_words():
    from songwright.edits import apply, check_edit
    from songwright.stages import composed

    prepared, plan, score = composed(VOCAL.validate())
    assert plan.time_signature == "4/4"
    change = apply(check_edit(remix_edit(time_signature="3/4")), prepared, plan, score)
    new = change.plan
    assert new.time_signature == "3/4" and change.score.time_signature == "3/4"
    assert [(s.kind, s.start_bar, s.bars, s.chords) for s in new.sections] == \
           [(s.kind, s.start_bar, s.bars, s.chords) for s in plan.sections]
    sung = lambda sc: [n.syllable for n in sc.part("vocals").notes]  # noqa: E731
    assert sung(change.score) == sung(score)
    assert new.duration_s == pytest.approx(plan.content_bars * new.bar_s + plan.duration_s - plan.content_bars * plan.bar_s)
    assert max(n.end_beats for n in change.score.part("vocals").notes) <= new.content_bars * 3
    with pytest.raises(InvalidRequest, match="time_signature: must differ from the song's"):
        apply(check_edit(remix_edit(time_signature="4/4")), prepared, plan, score)
