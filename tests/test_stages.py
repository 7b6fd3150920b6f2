"""The composer as stages with named random streams, and the song file that makes a song again."""

import json

import numpy as np
import pytest

import songwright as sw
from songwright.song import pinned_request
from songwright.stages import score_of
from songwright.streams import Streams
from songwright.styles import load_styles

from .conftest import songwright_cli, shared_requests


def _notes(score) -> list[tuple]:
    return [(p.name, round(n.start_beats, 9), round(n.duration_beats, 9), n.pitch, n.velocity, n.syllable)
            for p in score.parts for n in p.notes]


def test_a_stream_depends_only_on_the_seed_and_its_name():
    draw = lambda seed, *name: Streams(seed).rng(*name).random(4).tolist()  # noqa: E731
    assert draw(3, "drums", "chorus", 1, 2) == draw(3, "drums", "chorus", 1, 2)
    others = [draw(4, "drums", "chorus", 1, 2), draw(3, "bass", "chorus", 1, 2), draw(3, "drums", "verse", 1, 2),
              draw(3, "drums", "chorus", 0, 2), draw(3, "drums", "chorus", 1, 3), draw(3, "drums", "chorus", 1)]
    assert all(other != draw(3, "drums", "chorus", 1, 2) for other in others)
    assert len({tuple(o) for o in others}) == len(others)


@pytest.mark.parametrize("genre", sorted(load_styles()["genre"]))
def test_pinning_what_the_seed_chose_changes_nothing_else(genre):
    """rock, seed 1 was 123 BPM C minor, and with --bpm 123 D major: tempo and key shared a stream."""
    request = sw.SongRequest(tags=genre, duration_s=40, seed=1)
    plan, score = score_of(request)
    for pinned in ({"tempo_bpm": plan.tempo_bpm}, {"key": plan.key.name}, {"time_signature": plan.time_signature}):
        plan2, score2 = score_of(request.replace(**pinned))
        assert (plan2.tempo_bpm, plan2.key.name) == (plan.tempo_bpm, plan.key.name), pinned
        assert [c.name(plan.key) for s in plan2.sections for c in s.chords] == \
               [c.name(plan.key) for s in plan.sections for c in s.chords]
        assert _notes(score2) == _notes(score), pinned


@pytest.mark.parametrize("entry", shared_requests(), ids=lambda e: e["name"])
def test_the_resolved_request_gives_the_same_notes(entry):
    fields = {k: v for k, v in entry.items() if k != "name"}
    request = sw.SongRequest(**fields).replace(seed=entry.get("seed", 11))
    plan, score = score_of(request)
    resolved = pinned_request(request, seed=request.seed, plan=plan)
    assert resolved.tempo_bpm == plan.tempo_bpm and resolved.key == plan.key.name
    plan2, score2 = score_of(resolved)
    assert plan2.to_dict() == plan.to_dict()
    assert _notes(score2) == _notes(score)


def test_seeds_still_vary_the_song():
    keys = {score_of(sw.SongRequest(tags="pop", duration_s=30, seed=seed))[0].key.name for seed in range(12)}
    assert len(keys) >= 4


def test_a_song_file_makes_the_song_again_byte_for_byte(tmp_path):
    made = songwright_cli("generate", "--tags", "folk, male vocal", "--duration", "14", "--lyrics-text",
                "[verse] Down by the river [chorus] turn turn turn", "-o", "a.wav", "--json", "a.json", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["format"] == "songwright-song" and report["resolved_request"]["seed"] == report["request"]["seed"]
    again = songwright_cli("generate", "--from", "a.json", "-o", "b.wav", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    song = sw.Song.load(tmp_path / "a.json")
    assert song.seed == report["request"]["seed"] and song.plan.key.name == report["resolved"]["key"]


@pytest.mark.parametrize("content,message", [
    ("not json at all", "must be a song file in JSON"),
    ('{"tags": "pop"}', 'must be a song file (JSON with "format": "songwright-song")'),
    ('{"format": "songwright-song", "format_version": 99, "resolved_request": {"tags": "pop"}}', "written by a newer Songwright"),
    ('{"format": "songwright-song", "format_version": 1, "resolved_request": {"tags": "pop", "key": "H major"}}', "key: must be"),
])
def test_a_bad_song_file_is_refused_and_nothing_is_written(tmp_path, content, message):
    (tmp_path / "song.json").write_text(content)
    result = songwright_cli("generate", "--from", "song.json", "-o", "out.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out.wav").exists()


def test_from_refuses_options_that_would_change_the_request(tmp_path):
    (tmp_path / "song.json").write_text('{"format": "songwright-song", "format_version": 1, "resolved_request": {"tags": "pop"}}')
    result = songwright_cli("generate", "--from", "song.json", "--bpm", "100", "-o", "out.wav", cwd=tmp_path)
    assert result.returncode == 2 and "bpm: cannot be combined with --from" in result.stderr
    assert not (tmp_path / "out.wav").exists()
    missing = songwright_cli("generate", "--from", "nope.json", "-o", "out.wav", cwd=tmp_path)
    assert missing.returncode == 2 and "from: must be a readable song file" in missing.stderr
