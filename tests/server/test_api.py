"""Every endpoint of `songwright serve`, over a real uvicorn server on loopback, with bad input."""

from __future__ import annotations

import io
import json
import time
import zipfile

import mido
import numpy as np
import pytest
import soundfile as sf

from .conftest import LYRICS, Server, wait_finished

SHORT = {"tags": "rock", "duration_s": 10, "instrumental": True, "seed": 1}


def error_of(response, status: int, field: str | None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field, error
    assert "Traceback" not in error["message"] and "/tmp" not in error["message"] and "/work" not in error["message"]
    return error["message"]


# ------------------------------------------------------------------ submit and status

def test_post_queues_and_answers_202_with_links(client):
    response = client.post("/v1/songs", json=SHORT)
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) >= {"id", "status", "queue_position", "links"}
    assert body["status"] in ("queued", "running") and response.headers["location"] == f"/v1/songs/{body['id']}"
    assert body["links"]["audio"] == f"/v1/songs/{body['id']}/audio?format=mp3"
    assert body["request"]["seed"] == 1
    assert wait_finished(client, body["id"])["status"] == "succeeded"


def test_prefer_wait_returns_the_finished_song_with_its_result(song):
    result = song["result"]
    assert song["progress"] == 1.0 and song["error"] is None
    assert result["duration_s"] == 12.0 and result["seed"] == 5
    assert 40 <= result["tempo_bpm"] <= 240 and result["key"].endswith(("major", "minor")) and result["time_signature"]
    assert result["sections"][0]["start_s"] == 0.0 and all(s["chords"] for s in result["sections"])
    assert [line["text"] for line in result["lyrics"]] == ["Hello there my friend", "Sing it loud tonight"]
    assert result["lyrics"][0]["words"][0]["text"] == "Hello"
    assert isinstance(result["warnings"], list) and "vocals" in result["stems"]


def test_a_seedless_request_gets_its_seed_fixed_at_admission(client):
    body = client.post("/v1/songs", json={**SHORT, "seed": None}, headers={"Prefer": "wait=60"}).json()
    assert isinstance(body["request"]["seed"], int)
    assert body["result"]["seed"] == body["request"]["seed"]


@pytest.mark.parametrize("fields, field, words", [
    ({"duration_s": "long"}, "duration_s", "must be a number"),
    ({"duration_s": 5000}, "duration_s", "between 10 and 600"),
    ({"tempo_bpm": 999}, "tempo_bpm", "between 40 and 240"),
    ({"seed": -3}, "seed", "whole number"),
    ({"seed": 1.5}, "seed", "whole number"),
    ({"instrumental": "yes"}, "instrumental", "true or false"),
    ({"key": "H major"}, "key", "note A-G"),
    ({"key": 5}, "key", "must be text"),
    ({"time_signature": "5/4"}, "time_signature", "4/4, 3/4, 6/8"),
    ({"tags": ""}, "tags", "at least one"),
    ({"tags": ["pop"]}, "tags", "must be text"),
    ({"engine": "magic"}, "engine", "composer, acestep"),
    ({"engine": ["composer"]}, "engine", "must be text"),
    ({"voice": "zz9"}, "voice", "must be one of"),
    ({"voice": {"name": "us1"}}, "voice", "must be text"),
    ({"sampler": []}, "sampler", "must be text"),
    ({"tagz": "pop"}, "tagz", "not a request field"),
    ({"checkpoint": "/models"}, "checkpoint", "not a request field"),
    ({"lyrics": "x" * 20_001}, "lyrics", "at most 20000 characters"),
    ({"lyrics": "[verse]\n" + "every word of this long line must be sung\n" * 12, "duration_s": 12, "tempo_bpm": 60,
      "instrumental": False},
     "duration_s", "too short for these lyrics"),
])
def test_bad_fields_are_422_naming_the_field(client, fields, field, words):
    message = error_of(client.post("/v1/songs", json={**SHORT, **fields}), 422, field)
    assert words in message


def test_bad_bodies(client):
    assert "must be JSON" in error_of(client.post("/v1/songs", content=b"{not json"), 400, "body")
    assert "JSON object" in error_of(client.post("/v1/songs", json=[1, 2]), 422, "request")
    error_of(client.post("/v1/songs", content=b"x" * 300_000, headers={"content-type": "application/json"}), 413, "body")
    error_of(client.post("/v1/songs", json=SHORT, headers={"Idempotency-Key": "bad key with spaces"}), 422,
             "idempotency-key")


def test_an_engine_without_its_checkpoint_is_503_before_queueing(client):
    before = client.get("/v1/stats").json()
    message = error_of(client.post("/v1/songs", json={"engine": "acestep", "duration_s": 10}), 503, "engine")
    assert "checkpoint" in message
    assert client.get("/v1/stats").json()["queued"] <= before["queued"]


def test_unknown_job_ids_are_404(client):
    for path in ("/v1/songs/0123456789abcdef", "/v1/songs/nope", "/v1/songs/0123456789abcdef/audio",
                 "/v1/songs/0123456789abcdef/events", "/v1/songs/..%2F..%2Fetc/json"):
        assert client.get(path).status_code == 404, path
    error_of(client.get("/v1/songs/0123456789abcdef"), 404, "id")
    error_of(client.post("/v1/songs/0123456789abcdef/cancel"), 404, "id")
    error_of(client.delete("/v1/songs/0123456789abcdef"), 404, "id")


def test_idempotency_key_returns_the_same_job(client):
    headers = {"Idempotency-Key": f"retry-{time.time()}"}
    first = client.post("/v1/songs", json=SHORT, headers=headers)
    second = client.post("/v1/songs", json=SHORT, headers=headers)
    assert first.status_code == 202 and second.json()["id"] == first.json()["id"]
    error_of(client.post("/v1/songs", json={**SHORT, "seed": 2}, headers=headers), 409, "idempotency-key")
    wait_finished(client, first.json()["id"])


# ------------------------------------------------------------------ auth

def test_api_key_is_required_and_checked(server):
    with server.client(key=None) as anonymous:
        error_of(anonymous.post("/v1/songs", json=SHORT), 401, "authorization")
        error_of(anonymous.get("/v1/songs"), 401, "authorization")
        assert anonymous.get("/health").json()["auth_required"] is True
        assert anonymous.get("/").status_code == 200
    with server.client(key="wrong") as wrong:
        assert "wrong" in error_of(wrong.get("/v1/stats"), 401, "authorization")
    with server.client(key=None) as basic:
        error_of(basic.get("/v1/stats", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "authorization")


def test_cors_is_off_by_default(client):
    response = client.options("/v1/songs", headers={"Origin": "https://elsewhere.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


# ------------------------------------------------------------------ files

def test_audio_in_every_format_named_by_job_id(client, song):
    for kind, rate in (("mp3", 44100), ("wav", 44100), ("flac", 44100), ("ogg", 44100)):
        response = client.get(f"/v1/songs/{song['id']}/audio", params={"format": kind})
        assert response.status_code == 200, response.text
        assert f'filename="{song["id"]}.{kind}"' in response.headers["content-disposition"]
        audio, sample_rate = sf.read(io.BytesIO(response.content))
        assert sample_rate == rate and abs(len(audio) / rate - 12.0) < 0.1 and abs(audio).max() > 0.05
    error_of(client.get(f"/v1/songs/{song['id']}/audio", params={"format": "aiff"}), 422, "format")


def test_stems_midi_lrc_json(client, song):
    base = f"/v1/songs/{song['id']}"
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/stems.zip").content))
    names = sorted(name.split("/")[-1] for name in archive.namelist())
    assert names == sorted(f"{stem}.wav" for stem in song["result"]["stems"])
    vocals, rate = sf.read(io.BytesIO(client.get(f"{base}/stems/vocals").content))
    assert rate == 44100 and abs(vocals).max() > 0.01
    error_of(client.get(f"{base}/stems/kazoo"), 404, "name")
    assert client.get(f"{base}/stems/..%2F..%2Fjobs.sqlite3").status_code == 404
    midi = mido.MidiFile(file=io.BytesIO(client.get(f"{base}/midi").content))
    assert len(midi.tracks) > 2
    lrc = client.get(f"{base}/lrc").text
    assert "Hello" in lrc and lrc.count("\n[0") >= 2
    report = client.get(f"{base}/json").json()
    assert report["request"]["seed"] == 5 and report["plan"]["sections"]


def test_files_of_an_unfinished_song_are_409(client):
    job = client.post("/v1/songs", json={**SHORT, "duration_s": 30, "seed": 9}).json()
    error_of(client.get(f"/v1/songs/{job['id']}/audio"), 409, "id")
    client.post(f"/v1/songs/{job['id']}/cancel")
    wait_finished(client, job["id"])


# ------------------------------------------------------------------ progress, cancel, delete, list

def test_events_stream_progress_then_the_final_status(client):
    job = client.post("/v1/songs", json={**SHORT, "seed": 11}).json()
    events = []
    with client.stream("GET", f"/v1/songs/{job['id']}/events") as stream:
        kind = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if kind == "status":
                    break
    assert events[-1][0] == "status" and events[-1][1]["status"] == "succeeded"
    fractions = [data["progress"] for kind, data in events]
    assert fractions == sorted(fractions) and len(set(fractions)) >= 3
    assert {"rendering", "writing files"} <= {data["stage"] for _, data in events}


def test_the_events_stream_never_says_queued_after_the_steps_it_read():
    """The stream polls the job, then reads its progress log: a job polled while queued that
    started in between has logged steps, and saying "queued" after them sent its progress back
    to 0 (seen once in the suite: 0.0, 0.09, 0.0...). The steps alone are said then; the queued
    job is said when no step is read; a finished job is said after its last steps."""
    import dataclasses

    from songwright.server.app import _event_states
    from songwright.server.store import Job

    queued = Job(seq=1, id="j1", owner="o", idempotency_key=None, request_hash="h", request={}, status="queued",
                 stage="queued", progress=0.0, error=None, attempts=0, cancel_requested=False, created_s=0.0,
                 started_s=None, finished_s=None, meta={})
    steps = [(1, "planning", 0.0), (2, "rendering", 0.09)]
    assert [state[:3] for state in _event_states(queued, steps, position=0, logged=0)] == [
        ("running", "planning", 0.0), ("running", "rendering", 0.09)]
    assert _event_states(queued, [], position=2, logged=0) == [("queued", "queued", 0.0, 2, None)]
    running = dataclasses.replace(queued, status="running", stage="rendering", progress=0.09)
    assert _event_states(running, [], position=0, logged=2) == []
    assert _event_states(running, [], position=0, logged=0)[0][:3] == ("running", "rendering", 0.09)
    done = dataclasses.replace(queued, status="succeeded", stage="succeeded", progress=1.0)
    assert [state[0] for state in _event_states(done, steps, position=0, logged=0)] == ["running", "running", "succeeded"]


def test_cancel_a_running_song_stops_it_and_leaves_no_files(client, server):
    job = client.post("/v1/songs", json={**SHORT, "duration_s": 60, "seed": 21}).json()
    deadline = time.monotonic() + 60
    while client.get(f"/v1/songs/{job['id']}").json()["stage"] != "rendering" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.post(f"/v1/songs/{job['id']}/cancel").status_code == 200
    final = wait_finished(client, job["id"])
    assert final["status"] == "canceled" and final["progress"] < 1.0
    results = server.data_dir / "results"
    assert not (results / job["id"]).exists() and not list(results.glob(f".{job['id']}*"))


def test_cancel_a_queued_song(client):
    ahead = client.post("/v1/songs", json={**SHORT, "duration_s": 30, "seed": 31}).json()
    queued = client.post("/v1/songs", json={**SHORT, "seed": 32}).json()
    canceled = client.post(f"/v1/songs/{queued['id']}/cancel").json()
    assert canceled["status"] == "canceled" and canceled["started_at"] is None
    client.post(f"/v1/songs/{ahead['id']}/cancel")
    wait_finished(client, ahead["id"])


def test_delete_removes_the_job_and_its_files(client, server):
    job = client.post("/v1/songs", json={**SHORT, "seed": 41}, headers={"Prefer": "wait=60"}).json()
    assert (server.data_dir / "results" / job["id"]).is_dir()
    assert client.delete(f"/v1/songs/{job['id']}").status_code == 204
    assert client.get(f"/v1/songs/{job['id']}").status_code == 404
    assert not (server.data_dir / "results" / job["id"]).exists()


def test_history_is_paginated_newest_first(client):
    ids = [client.post("/v1/songs", json={**SHORT, "seed": 50 + i}).json()["id"] for i in range(3)]
    first = client.get("/v1/songs", params={"limit": 2}).json()
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    second = client.get("/v1/songs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["items"][0]["id"] == ids[0]
    error_of(client.get("/v1/songs", params={"limit": 0}), 422, "limit")
    error_of(client.get("/v1/songs", params={"limit": "many"}), 422, "limit")
    for job_id in ids:
        wait_finished(client, job_id)


# ------------------------------------------------------------------ catalogue

def test_catalogue_and_stats(client, song):
    styles = client.get("/v1/styles").json()
    assert {"genres", "moods", "instruments", "vocals"} <= set(styles)
    assert any(genre["name"] == "funk" and genre["tempo_bpm"] for genre in styles["genres"])
    voices = client.get("/v1/voices").json()["voices"]
    assert any(v["name"] == "us1" and v["installed"] for v in voices)
    engines = {e["name"]: e for e in client.get("/v1/engines").json()["engines"]}
    assert engines["composer"]["capabilities"]["stems"] is True and engines["composer"]["available"] is True
    assert engines["acestep"]["capabilities"]["midi"] is False and engines["acestep"]["available"] is False
    stats = client.get("/v1/stats").json()
    assert stats["succeeded"] >= 1 and stats["average_job_s"] > 0 and stats["queue"] == "embedded"
    assert client.get("/openapi.json").json()["paths"]["/v1/songs"]["post"]
    assert client.get("/docs").status_code == 200


# ------------------------------------------------------------------ limits (their own servers)

def test_a_full_queue_answers_429_with_retry_after(tmp_path):
    server = Server(tmp_path / "data", "--max-queue", "1", "--rate-limit", "1000")
    try:
        with server.client() as client:
            answers = [client.post("/v1/songs", json={**SHORT, "duration_s": 30, "seed": i}) for i in range(4)]
            codes = [a.status_code for a in answers]
            assert set(codes) == {202, 429} and codes[0] == 202, codes
            full = next(a for a in answers if a.status_code == 429)
            assert int(full.headers["retry-after"]) > 0 and full.json()["error"]["code"] == "queue_full"
    finally:
        server.stop()


def test_rate_limit_and_retention(tmp_path):
    server = Server(tmp_path / "data", "--rate-limit", "2", "--retention", "2s")
    try:
        with server.client() as client:
            first = client.post("/v1/songs", json=SHORT, headers={"Prefer": "wait=60"}).json()
            assert first["status"] == "succeeded"
            client.post("/v1/songs", json={**SHORT, "seed": 2})
            limited = client.post("/v1/songs", json={**SHORT, "seed": 3})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert "2 submissions a minute" in limited.json()["error"]["message"]
            deadline = time.monotonic() + 15
            while client.get(f"/v1/songs/{first['id']}").status_code != 404 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get(f"/v1/songs/{first['id']}").status_code == 404
            assert not (server.data_dir / "results" / first["id"]).exists()
    finally:
        server.stop()


def test_prefer_wait_gives_up_after_n_seconds(client):
    started = time.monotonic()
    response = client.post("/v1/songs", json={**SHORT, "duration_s": 60, "seed": 61}, headers={"Prefer": "wait=0.5"})
    assert response.status_code == 202 and response.headers["preference-applied"] == "wait=0.5"
    assert time.monotonic() - started < 5
    client.post(f"/v1/songs/{response.json()['id']}/cancel")
    wait_finished(client, response.json()["id"])


@pytest.mark.parametrize("args, field", [(["--retention", "forever"], "retention"), (["--workers", "0"], "workers"),
                                         (["--max-queue", "0"], "max_queue")])
def test_serve_refuses_bad_options_naming_them(args, field, capsys):
    from songwright.cli import main

    assert main(["serve", *args]) == 2
    assert capsys.readouterr().err.startswith(f"songwright: error: {field}:")


# ------------------------------------------------------------------ edits

def _wav(client, job_id):
    audio, rate = sf.read(io.BytesIO(client.get(f"/v1/songs/{job_id}/audio", params={"format": "wav"}).content),
                          dtype="float32")
    return audio, rate


def test_an_edit_is_a_new_song_that_keeps_its_source_outside_the_edit(client, song):
    response = client.post(f"/v1/songs/{song['id']}/edits", json={"verb": "retake", "section": "chorus", "seed": 3})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"] != song["id"] and body["request"]["source"] == song["id"]
    assert body["request"]["edits"] == [{"verb": "retake", "section": "chorus", "bars": None, "seed": 3,
                                         "keep_chords": False}]
    edited = wait_finished(client, body["id"])
    assert edited["status"] == "succeeded", edited
    before, rate = _wav(client, song["id"])
    after, _ = _wav(client, body["id"])
    chorus = next(s for s in song["result"]["sections"] if s["kind"] == "chorus")
    assert len(after) == len(before)
    head = int((chorus["start_s"] - 1.5) * rate)  # a beat and a pickup before the chorus: untouched
    assert np.array_equal(after[:head], before[:head])
    assert not np.array_equal(after, before)
    assert client.get(f"/v1/songs/{song['id']}").json()["result"] == song["result"]  # the source is kept


@pytest.mark.parametrize("edit, status, field", [
    ({"verb": "retake", "section": "bridge"}, 422, "section"),
    ({"verb": "retake", "section": "chorus", "bars": "1-2"}, 422, "section"),
    ({"verb": "repaint", "start_s": 30, "end_s": 40}, 422, "start_s"),
    ({"verb": "extend", "duration_s": 5}, 422, "duration_s"),
    ({"verb": "retake", "section": 2, "colour": "blue"}, 422, "colour"),
    ({"verb": "transmogrify"}, 422, "verb"),
    (["retake"], 422, "edit"),
])
def test_an_edit_that_does_not_fit_is_422_naming_the_field(client, song, edit, status, field):
    error_of(client.post(f"/v1/songs/{song['id']}/edits", json=edit), status, field)


def test_an_edit_of_an_unknown_or_unfinished_song_is_refused(client):
    error_of(client.post("/v1/songs/0123456789abcdef/edits", json={"verb": "retake", "section": 1}), 404, "id")
    queued = client.post("/v1/songs", json={**SHORT, "duration_s": 30}).json()
    response = client.post(f"/v1/songs/{queued['id']}/edits", json={"verb": "retake", "section": 1})
    if response.status_code != 202:  # it may have finished already on a fast machine
        error_of(response, 409, "id")
    client.post(f"/v1/songs/{queued['id']}/cancel")
