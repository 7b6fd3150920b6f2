"""Control measured from the audio: over 24 requests spanning the genres, 70-170 BPM and major
and minor keys, the tempo and key a listener's estimator hears are the ones asked for."""

import json
from pathlib import Path

import pytest

import songwright as sw
from songwright.audio.analysis import estimate_key, estimate_tempo
from songwright.theory import parse_key

from .parallel import in_processes

REQUESTS = Path(__file__).parent / "data" / "control_requests.jsonl"


def tempo_ok(heard: float, asked: float) -> bool:
    return any(abs(heard - asked * f) <= 0.04 * asked * f for f in (0.5, 1.0, 2.0))


def _measured(line: str) -> tuple:
    """One request's song (30 s, seed 0), and the tempo and key heard in it."""
    request = sw.SongRequest(**json.loads(line), duration_s=30, seed=0)
    song = sw.generate(request)
    tonic, mode, _ = estimate_key(song.audio, song.sample_rate)
    return request, estimate_tempo(song.audio, song.sample_rate), parse_key(f"{tonic} {mode}")


@pytest.fixture(scope="module")
def measurements():
    return in_processes(_measured, REQUESTS.read_text(encoding="utf-8").splitlines())


def test_the_request_set_spans_genres_tempi_and_keys(measurements):
    requests = [r for r, _, _ in measurements]
    assert len(requests) >= 20
    assert min(r.tempo_bpm for r in requests) <= 70 and max(r.tempo_bpm for r in requests) >= 170
    assert len({parse_key(r.key) for r in requests}) >= 15
    assert {parse_key(r.key).mode for r in requests} == {"major", "minor"}


def test_tempo_heard_within_4_percent_in_95_percent_of_songs(measurements):
    hits = [tempo_ok(heard, r.tempo_bpm) for r, heard, _ in measurements]
    assert sum(hits) / len(hits) >= 0.95, [(r.tags, r.tempo_bpm, round(h, 1)) for r, h, _ in measurements]


def test_key_heard_equals_the_request_in_90_percent_of_songs(measurements):
    hits = [key == parse_key(r.key) for r, _, key in measurements]
    assert sum(hits) / len(hits) >= 0.90, [(r.tags, r.key, k.name) for r, _, k in measurements]


@pytest.mark.parametrize("tempo_bpm, seed", [(120, 2), (140, 3)])
def test_bossa_nova_is_heard_at_its_tempo(tempo_bpm, seed):
    """Bossa's drums, guitar and bass play at one speed (its clave over two bars in 8ths, the kick
    with the bass): before, the drums and guitar ran a 16th clave against the bass, heard at 4/3
    or 2/3 of the tempo in 12 of 12 songs."""
    song = sw.generate(sw.SongRequest(tags="bossa nova", tempo_bpm=tempo_bpm, key="D major", duration_s=20, seed=seed))
    assert tempo_ok(estimate_tempo(song.audio, song.sample_rate), tempo_bpm)
