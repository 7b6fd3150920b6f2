"""The ACE-Step 1.5 API compatibility layer, with requests shaped as that server's clients send them."""

from __future__ import annotations

import io
import json
import time

import pytest
import soundfile as sf

from .conftest import API_KEY


def wait_task(client, task_id: str, timeout_s: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = client.post("/query_result", json={"task_id_list": [task_id]}).json()
        task = answer["data"][0]
        if task["status"] != 0:
            return task
        time.sleep(0.2)
    raise AssertionError(task)


def test_release_task_query_result_and_audio(client):
    answer = client.post("/release_task", json={
        "prompt": "upbeat pop song, piano", "lyrics": "[Verse 1]\nWalking down the street tonight",
        "audio_duration": 12, "bpm": 100, "key_scale": "C Major", "time_signature": "3", "seed": 42,
        "audio_format": "mp3", "vocal_language": "en", "thinking": True, "inference_steps": 8, "batch_size": 2,
    })
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"data", "code", "error", "timestamp", "extra"} and body["code"] == 200 and body["error"] is None
    assert body["data"]["status"] == "queued" and isinstance(body["data"]["queue_position"], int)
    task = wait_task(client, body["data"]["task_id"])
    assert task["status"] == 1, task
    items = json.loads(task["result"])
    item = items[0]
    assert item["metas"] == {"bpm": 100.0, "duration": 12.0, "genres": None, "keyscale": "C major", "timesignature": "3"}
    assert item["seed_value"] == "42" and item["progress"] == 1.0 and item["file"].startswith("/v1/audio?path=")
    audio = client.get(item["file"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
    decoded, rate = sf.read(io.BytesIO(audio.content))
    assert abs(len(decoded) / rate - 12.0) < 0.1


def test_form_request_with_ai_token_and_a_caption(server):
    with server.client(key=None) as anonymous:
        refused = anonymous.post("/release_task", data={"caption": "lofi", "audio_duration": "10"})
        assert refused.status_code == 401 and refused.json()["error"].startswith("authorization")
        answer = anonymous.post("/release_task", data={"caption": "lofi, chill", "audio_duration": "10", "instrumental": "true",
                                                        "audio_format": "wav", "ai_token": API_KEY, "time_signature": "4"})
        assert answer.status_code == 200, answer.text
        task_id = answer.json()["data"]["task_id"]
        task = None
        for _ in range(600):
            task = anonymous.post("/query_result", data={"task_id_list": json.dumps([task_id]), "ai_token": API_KEY}).json()["data"][0]
            if task["status"] != 0:
                break
            time.sleep(0.2)
        assert task["status"] == 1
        item = json.loads(task["result"])[0]
        assert item["file"].endswith(".wav") and item["metas"]["timesignature"] == "4"
        assert anonymous.get(item["file"]).status_code == 401
        assert anonymous.get(item["file"] + "&ai_token=" + API_KEY).status_code == 200


@pytest.mark.parametrize("fields, field", [
    ({"audio_duration": "long"}, "audio_duration"),
    ({"audio_duration": 9000}, "duration_s"),
    ({"time_signature": "5"}, "time_signature"),
    ({"key_scale": "H Major"}, "key"),
    ({"audio_format": "aiff"}, "audio_format"),
    ({"bpm": 999}, "tempo_bpm"),
])
def test_bad_fields_answer_in_the_envelope(client, fields, field):
    answer = client.post("/release_task", json={"prompt": "pop", "audio_duration": 10, **fields})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == 422 and body["data"] is None and body["extra"] == {"field": field} and field in body["error"]


def test_unknown_tasks_and_path_like_paths(client):
    answer = client.post("/query_result", json={"task_id_list": ["0123456789abcdef", "../../etc"]}).json()
    assert [task["status"] for task in answer["data"]] == [2, 2]
    assert client.post("/query_result", json={"task_id_list": "not a list"}).json()["data"] == [
        {"task_id": "not a list", "status": 2, "result": "[]", "error": "task not found"}]
    assert client.post("/query_result", json={"task_id_list": 5}).status_code == 422
    for path in ("/etc/passwd", "../jobs.sqlite3", "/tmp/api_audio/abc123.mp3", "0123456789abcdef.mp3/../../x",
                 "..%2F..%2Fetc%2Fpasswd"):
        response = client.get("/v1/audio", params={"path": path})
        assert response.status_code == 400, path
        assert response.json()["extra"] == {"field": "path"} and "never a file path" in response.json()["error"]
    assert client.get("/v1/audio", params={"path": "0123456789abcdef.mp3"}).status_code == 404
    assert client.get("/v1/audio").status_code == 422
