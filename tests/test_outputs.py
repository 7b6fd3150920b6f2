"""MIDI, LRC and JSON carry what was played and sung."""

import json
import re

import mido
import numpy as np
import pytest

import songwright as sw
from songwright.audio.io import atomic_path, on_pcm16_grid


def test_midi_has_tempo_meter_key_tracks_and_lyrics(seed_song, tmp_path):
    path = tmp_path / "song.mid"
    seed_song.save_midi(path)
    midi = mido.MidiFile(path, charset="utf-8")
    meta = {m.type: m for m in midi.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(seed_song.plan.tempo_bpm)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (4, 4)
    assert meta["key_signature"].key == seed_song.plan.key.mido_name
    names = [next(m.name for m in t if m.type == "track_name") for t in midi.tracks[1:]]
    assert {"drums", "bass", "comp", "vocals"} <= set(names)
    vocal = midi.tracks[1 + names.index("vocals")]
    sung = "".join(m.text for m in vocal if m.type == "lyrics").replace(" ", "")
    assert sung == "霓虹闪烁街道流淌脚步轻快心跳跟上城市的脉搏在夜里跳荡代码与光影编织梦想"
    drums = midi.tracks[1 + names.index("drums")]
    assert all(m.channel == 9 for m in drums if m.type == "note_on")
    assert abs(midi.length - seed_song.duration_s) < seed_song.plan.bar_s + 1


def test_lrc_times_every_line_and_word(seed_song, tmp_path):
    path = tmp_path / "song.lrc"
    seed_song.save_lrc(path)
    lines = [l for l in path.read_text(encoding="utf-8").splitlines() if re.match(r"\[\d\d:", l)]
    assert len(lines) == 8
    stamps = [float(m[0]) * 60 + float(m[1]) for m in (re.match(r"\[(\d\d):(\d\d\.\d\d)\]", l).groups() for l in lines)]
    assert stamps == sorted(stamps)
    words = re.findall(r"<(\d\d):(\d\d\.\d\d)>([^<]+)", lines[0])
    assert "".join(w[2].strip() for w in words) == "霓虹闪烁"
    verse_start = next(s for s in seed_song.plan.sections if s.kind == "verse").start_bar * seed_song.plan.bar_s
    assert abs(stamps[0] - verse_start) < 0.6


def test_english_lrc_words_match_the_lyrics(tmp_path):
    song = sw.generate(sw.SongRequest(tags="pop", lyrics="[verse]\nMorning light on the window pane\n[chorus]\nSing it loud",
                                      duration_s=20, seed=2))
    timings = song.lyric_timings()
    assert [line.text for line in timings] == ["Morning light on the window pane", "Sing it loud"]
    assert [w.text for w in timings[0].words] == "Morning light on the window pane".split()
    assert all(w.end_s > w.start_s for line in timings for w in line.words)


def test_json_reports_the_resolved_request_and_plan(seed_song, tmp_path):
    path = tmp_path / "song.json"
    seed_song.save_json(path)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["request"]["seed"] == 7
    assert report["resolved"]["tempo_bpm"] == seed_song.plan.tempo_bpm
    assert report["resolved"]["key"] == seed_song.plan.key.name
    assert report["resolved"]["time_signature"] == "4/4"
    sections = report["plan"]["sections"]
    assert sections[0]["start_s"] == 0 and sections[-1]["end_s"] == pytest.approx(report["plan"]["ending_s"])
    assert all(len(s["chords"]) == s["bars"] for s in sections)
    assert report["unknown_tags"] == []
    assert report["versions"]["songwright"]
    assert report["style"]["groove"] == "funk" and report["style"]["harmony"] == "pop"
    assert report["loudness_lufs"] == pytest.approx(-14, abs=1)


def test_unknown_tags_are_reported_not_fatal():
    song = sw.generate(sw.SongRequest(tags="pop, zorblax", lyrics="[verse]\nHey\n[spoken word]\nYo", duration_s=12, seed=1))
    assert any("zorblax" in w for w in song.warnings)
    assert any("spoken word" in w for w in song.warnings)
    assert song.to_dict()["unknown_tags"] == ["zorblax"]


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "song.wav"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half a file")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_the_16_bit_grid_in_place_is_the_grid_made_anew():
    x = np.random.default_rng(3).uniform(-1.2, 1.2, (2, 5000)).astype(np.float32)
    anew = on_pcm16_grid(x)
    assert anew is not x and not np.array_equal(anew, x)
    same = x.copy()
    assert on_pcm16_grid(same, in_place=True) is same and np.array_equal(same, anew)
    wide = x.astype(np.float64)
    converted = on_pcm16_grid(wide, in_place=True)  # not float32: a new array, the same grid
    assert converted is not wide and np.array_equal(converted, anew)
