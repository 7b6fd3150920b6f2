"""Compatibility with clients written for the ACE-Step 1.5 API server.

`POST /release_task` (JSON or form) queues a song and answers in that server's envelope
`{data, code, error, timestamp, extra}`; `POST /query_result` reports tasks with status 0
(queued or running), 1 (succeeded) or 2 (failed), each `result` a JSON string of items as that
server shapes them; `GET /v1/audio?path=` serves our own result files by an opaque id (the
`file` of an item), never a server path. `ai_token` in the body works like the bearer key.
Unknown fields are ignored, as that server does.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from ..errors import InvalidRequest
from .jobs import JobService
from .results import JOB_ID

AUDIO_ID = re.compile(r"^([0-9a-f]{16})\.(mp3|wav|flac|ogg)$")
TIME_SIGNATURES = {"3": "3/4", "4": "4/4", "6": "6/8", "3/4": "3/4", "4/4": "4/4", "6/8": "6/8"}
STATUS = {"queued": 0, "running": 0, "succeeded": 1, "failed": 2, "canceled": 2}
_FALSE = {"", "0", "false", "no", "off"}


def envelope(data, *, code: int = 200, error: str | None = None, extra=None, status: int | None = None) -> JSONResponse:
    body = {"data": data, "code": code, "error": error, "timestamp": int(time.time() * 1000), "extra": extra}
    return JSONResponse(body, status_code=status or code)


def to_song_request(fields: dict) -> tuple[dict, str]:
    """Their fields -> our request fields and the audio format asked for."""
    get = fields.get
    out: dict = {}
    tags = get("prompt") if get("prompt") not in (None, "") else get("caption")
    if tags not in (None, ""):
        out["tags"] = tags
    if get("lyrics") not in (None, ""):
        out["lyrics"] = get("lyrics")
    duration = _first(fields, "audio_duration", "duration")
    if duration not in (None, "", -1, "-1"):
        out["duration_s"] = _number("audio_duration", duration)
    if get("bpm") not in (None, "", 0, "0"):
        out["tempo_bpm"] = _number("bpm", get("bpm"))
    key = _first(fields, "key_scale", "keyscale")
    if key not in (None, ""):
        out["key"] = key
    meter = _first(fields, "time_signature", "timesignature")
    if meter not in (None, ""):
        if str(meter).strip() not in TIME_SIGNATURES:
            raise InvalidRequest("time_signature", 'must be "3", "4" or "6" (3/4, 4/4, 6/8)', meter)
        out["time_signature"] = TIME_SIGNATURES[str(meter).strip()]
    seed = get("seed")
    if seed not in (None, "", -1, "-1") and not _boolean(get("use_random_seed", False)):
        out["seed"] = int(_number("seed", seed)) if not isinstance(seed, bool) else seed
    if get("instrumental") is not None:
        out["instrumental"] = _boolean(get("instrumental"))
    audio_format = str(get("audio_format") or "mp3").lower()
    if audio_format not in ("mp3", "wav", "flac", "ogg"):
        raise InvalidRequest("audio_format", "must be mp3, wav, flac or ogg", audio_format)
    return out, audio_format


def _first(fields: dict, *names: str):
    for name in names:
        if fields.get(name) is not None:
            return fields[name]
    return None


def _number(name: str, value) -> float:
    if isinstance(value, bool):
        raise InvalidRequest(name, "must be a number", value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(name, "must be a number", value) from None


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in _FALSE


async def _fields(request: Request, read_json) -> dict:
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data") or kind.startswith("application/x-www-form-urlencoded"):
        if kind.startswith("multipart/"):
            form = await request.form()
            return {name: value for name, value in form.items() if isinstance(value, str)}
        body = (await request.body()).decode("utf-8", "replace")
        return {name: values[-1] for name, values in parse_qs(body, keep_blank_values=True).items()}
    data = await read_json(request)
    if not isinstance(data, dict):
        raise InvalidRequest("request", "must be a JSON object of fields", type(data).__name__)
    return data


def add_compat_routes(app: FastAPI, *, service: JobService, owner, rate_limit, admit, read_json, error) -> None:
    def compat_error(status: int, message: str, field: str | None = None) -> JSONResponse:
        return envelope(None, code=status, error=message, extra={"field": field} if field else None)

    async def fields_and_caller(request: Request) -> tuple[dict, str] | JSONResponse:
        """The request's fields (JSON or form) and who sent them (`ai_token` or the bearer key)."""
        try:
            fields = await _fields(request, read_json)
        except error as failure:
            return compat_error(failure.status, failure.message, failure.field)
        except InvalidRequest as failure:
            return compat_error(422, str(failure), failure.field)
        token = fields.get("ai_token")
        try:
            return fields, owner(request, token=token if isinstance(token, str) and token else None)
        except error as failure:
            return compat_error(failure.status, failure.message, failure.field)

    @app.post("/release_task", tags=["ACE-Step 1.5 compatibility"], summary="Queue a song (ACE-Step 1.5 API)")
    async def release_task(request: Request):
        answer = await fields_and_caller(request)
        if isinstance(answer, JSONResponse):
            return answer
        fields, who = answer
        try:
            rate_limit(who)
            data, audio_format = to_song_request(fields)
            job, _ = await asyncio.to_thread(admit, data, request, who, {"audio_format": audio_format, "via": "release_task"})
        except InvalidRequest as failure:
            return compat_error(422, str(failure), failure.field)
        except error as failure:
            response = compat_error(failure.status, failure.message, failure.field)
            response.headers.update(failure.headers)
            return response
        position = service.store.queue_position(job)
        return envelope({"task_id": job.id, "status": "queued", "queue_position": position})

    @app.post("/query_result", tags=["ACE-Step 1.5 compatibility"], summary="Task states and results (ACE-Step 1.5 API)")
    async def query_result(request: Request):
        answer = await fields_and_caller(request)
        if isinstance(answer, JSONResponse):
            return answer
        fields, _ = answer
        ids = fields.get("task_id_list", fields.get("task_ids"))
        if isinstance(ids, str):
            try:
                ids = json.loads(ids) if ids.strip().startswith("[") else [i for i in ids.split(",") if i.strip()]
            except ValueError:
                ids = None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or len(ids) > 100:
            return compat_error(422, "task_id_list: must be a list of at most 100 task ids", "task_id_list")
        return envelope([await asyncio.to_thread(_task, service, task_id.strip()) for task_id in ids])

    @app.get("/v1/audio", tags=["ACE-Step 1.5 compatibility"], summary="A result file by the id /query_result gave")
    async def audio(request: Request, path: str = Query(..., max_length=64, description="the `file` id of a result")):
        try:
            owner(request, token=request.query_params.get("ai_token"))
        except error as failure:
            return compat_error(failure.status, failure.message, failure.field)
        match = AUDIO_ID.match(path.rsplit("path=", 1)[-1])
        if match is None:
            return compat_error(400, "path: must be an audio id from /query_result (like 0123456789abcdef.mp3), "
                                     "never a file path", "path")
        job_id, kind = match.groups()
        job = await asyncio.to_thread(service.get, job_id)
        if job is None:
            return compat_error(404, f"path: no result {path!r}", "path")
        if job.status != "succeeded" or not service.results.exists(job_id):
            return compat_error(409, f"path: the song is {job.status}", "path")
        file = await asyncio.to_thread(service.results.audio, job_id, kind)
        media = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg"}[kind]
        return FileResponse(file, media_type=media, filename=f"{job_id}.{kind}")


def _task(service: JobService, task_id: str) -> dict:
    job = service.get(task_id) if JOB_ID.match(task_id) else None
    if job is None:
        return {"task_id": task_id, "status": 2, "result": "[]", "error": "task not found"}
    audio_format = job.meta.get("audio_format", "mp3")
    request = job.request.get("song", job.request)  # an edit job: its source request
    item = {"file": "", "wave": "", "status": STATUS[job.status], "create_time": int(job.created_s),
            "env": "songwright", "prompt": request.get("tags", ""), "lyrics": request.get("lyrics", ""),
            "metas": {"bpm": request.get("tempo_bpm"), "duration": request.get("duration_s"), "genres": None,
                      "keyscale": request.get("key") or "", "timesignature": _meter(request.get("time_signature"))},
            "seed_value": str(request.get("seed", "")), "progress": round(job.progress, 4), "stage": job.stage}
    if job.status == "succeeded" and service.results.exists(job.id):
        result = service.result(job.id)
        item["file"] = f"/v1/audio?path={job.id}.{audio_format}"
        item["metas"] = {"bpm": result["tempo_bpm"], "duration": result["duration_s"], "genres": None,
                         "keyscale": result["key"] or "", "timesignature": _meter(result["time_signature"])}
    out = {"task_id": job.id, "status": STATUS[job.status], "result": json.dumps([item], ensure_ascii=False)}
    if job.error:
        out["error"] = job.error
    return out


def _meter(time_signature: str | None) -> str:
    return {"3/4": "3", "4/4": "4", "6/8": "6"}.get(time_signature or "", "")
