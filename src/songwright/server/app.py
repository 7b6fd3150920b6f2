"""The FastAPI app: routes over the job service, the web page at `/`, errors as JSON naming the field.

Every error answer is `{"error": {"code", "field", "message"}}` with a 4xx status (5xx only for
the server's own faults, never with a trace or a path).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import zipfile
from collections import defaultdict, deque
from contextlib import asynccontextmanager, contextmanager
from importlib import resources
from typing import Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InvalidRequest, SongwrightError
from ..request import MAX_CHART_CHARS, MAX_MELODY_CHARS, MAX_DURATION_S, MAX_LYRICS_CHARS, MAX_TAGS_CHARS, SongRequest
from .config import ServerConfig
from .jobs import JobService
from .results import JOB_ID
from .runner import public_error, public_status
from .store import FINISHED, IdempotencyConflict, Job, QueueFull

log = logging.getLogger("songwright.server")
VERSION = "0.1.0"
EVENTS_POLL_S = 0.25
RETRY_AFTER_S = 10
_PREFER_WAIT = re.compile(r"(?:^|[;,\s])wait\s*=\s*(\d+(?:\.\d+)?)", re.I)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None, headers: dict | None = None):
        self.status, self.code, self.message, self.field, self.headers = status, code, message, field, headers or {}


class SongIn(BaseModel):
    """A song request (the same fields and rules as the CLI and `songwright.SongRequest`)."""

    model_config = ConfigDict(extra="forbid")
    tags: str = Field("pop", max_length=MAX_TAGS_CHARS, description="style, mood, instrument and vocal tags")
    lyrics: str = Field("", max_length=MAX_LYRICS_CHARS, description="[verse]/[chorus]... tagged lyrics; empty: instrumental")
    duration_s: float = Field(60.0, ge=1, le=MAX_DURATION_S)
    tempo_bpm: float | None = Field(None, ge=40, le=240)
    key: str | None = Field(None, description='"A minor", "Eb major", "F#m"')
    time_signature: Literal["4/4", "3/4", "6/8"] | None = None
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    instrumental: bool = False
    engine: str = "composer"
    voice: str | None = None
    steps: int | None = Field(None, ge=1, le=200)
    sampler: Literal["euler", "heun", "pingpong"] = "euler"
    guidance_scale: float = Field(15.0, ge=0, le=200)
    guided: bool = False
    guide_strength: float = Field(0.5, ge=0, le=0.95)
    melody: str | None = Field(None, max_length=MAX_MELODY_CHARS, description="a MIDI file's or a hummed recording's (WAV, FLAC, OGG, MP3) bytes, base64: the tune to sing")
    melody_track: int | None = Field(None, ge=1, le=1024, description="the MIDI track of the tune, when several have notes")
    chords: str | None = Field(None, max_length=MAX_CHART_CHARS,
                               description="a chord chart: | Am | F | C G | E7 | per line, [verse]/[chorus] tags, 'key: A minor'")


class EditIn(BaseModel):
    """An edit of a finished song: the verb and its fields (the same as the CLI's)."""

    model_config = ConfigDict(extra="forbid")
    verb: Literal["retake", "repaint", "extend", "relyric", "remix"]
    section: str | int | None = Field(None, description='retake: "chorus", "chorus 2" or a number from 1')
    bars: str | None = Field(None, description='retake: "17-24", 1-based, inclusive')
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="retake, repaint: which take (default: a new one)")
    keep_chords: bool = False
    start_s: float | None = Field(None, ge=0, le=MAX_DURATION_S, description="repaint: where the range starts")
    end_s: float | None = Field(None, ge=0, le=MAX_DURATION_S, description="repaint: where it ends")
    duration_s: float | None = Field(None, ge=1, le=MAX_DURATION_S, description="extend: the new length")
    lyrics: str | None = Field(None, max_length=MAX_LYRICS_CHARS, description="extend: lyrics for the new sections")
    before: bool = Field(False, description="extend: the new sections before the song (after its intro)")
    line: int | None = Field(None, ge=1, description="relyric: the sung line, 1 for the first")
    text: str | None = Field(None, max_length=MAX_LYRICS_CHARS, description="relyric: its new words")
    key: str | None = Field(None, description="remix: the new key (same mode)")
    tempo_bpm: float | None = Field(None, ge=40, le=240, description="remix: the new tempo")
    voice: str | None = Field(None, description="remix: another singer (GET /v1/voices)")
    tags: str | None = Field(None, max_length=MAX_TAGS_CHARS, description='remix: "+strings, -guitar"')
    time_signature: Literal["4/4", "3/4", "6/8"] | None = Field(None, description="remix: another meter")


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"error": {"code": code, "field": field, "message": message}}


class RateLimiter:
    """Submissions per key per minute, a sliding window in memory."""

    def __init__(self, per_min: int):
        self.per_min = per_min
        self._seen: dict[str, deque] = defaultdict(deque)

    def admit(self, who: str) -> float | None:
        """None if admitted, else the seconds until a slot frees."""
        now = time.monotonic()
        window = self._seen[who]
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= self.per_min:
            return 60.0 - (now - window[0])
        window.append(now)
        return None


class BodyLimit:
    """Refuse a request body over the limit (413), whether or not it declares its length."""

    def __init__(self, app, *, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _too_large(self.max_bytes, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(self.max_bytes, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(max_bytes: int, send) -> None:
    body = json.dumps(error_body("body_too_large", f"body: must be at most {max_bytes} bytes", "body")).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(config: ServerConfig, *, service: JobService | None = None) -> FastAPI:
    service = service or JobService(config)
    limiter = RateLimiter(config.rate_limit_per_min)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        yield
        service.stop()

    app = FastAPI(title="Songwright", version=VERSION, lifespan=lifespan,
                  description="Style tags and lyrics in; a mixed and mastered song out. Jobs are queued, "
                              "polled or streamed (server-sent events), and their files downloaded by job id.")
    app.state.service = service
    app.state.config = config

    # ------------------------------------------------------------ errors

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return JSONResponse(error_body(error.code, error.message, error.field), status_code=error.status, headers=error.headers)

    @app.exception_handler(InvalidRequest)
    async def invalid(request: Request, error: InvalidRequest):
        return JSONResponse(error_body("invalid_request", str(error), error.field), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {"loc": ("request",), "msg": "invalid"}
        field = str(first["loc"][-1]) if first.get("loc") else "request"
        value = first.get("input")
        shown = "" if value is None or isinstance(value, dict) else f", got {str(value)[:60]!r}"
        return JSONResponse(error_body("invalid_request", f"{field}: {first['msg'].lower()}{shown}", field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        message = {404: "no such page", 405: "method not allowed"}.get(error.status_code, str(error.detail))
        return JSONResponse(error_body("http_error", message), status_code=error.status_code)

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "internal error: the server log has the details"), status_code=500)

    # ------------------------------------------------------------ helpers

    def owner(request: Request, *, token: str | None = None) -> str:
        """The caller: the hash of its API key, checked against the server's (if one is set)."""
        header = request.headers.get("authorization", "")
        given = token
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise ApiError(401, "unauthorized", 'authorization: must be "Bearer <API key>"', field="authorization",
                               headers={"WWW-Authenticate": "Bearer"})
            given = value.strip()
        if config.api_key is not None:
            if given is None:
                raise ApiError(401, "unauthorized", "authorization: an API key is required (Authorization: Bearer <key>)",
                               field="authorization", headers={"WWW-Authenticate": "Bearer"})
            if not hmac.compare_digest(given.encode(), config.api_key.encode()):
                raise ApiError(401, "unauthorized", "authorization: the API key is wrong", field="authorization",
                               headers={"WWW-Authenticate": "Bearer"})
        if given:
            return "key:" + hashlib.sha256(given.encode()).hexdigest()[:16]
        return "addr:" + (request.client.host if request.client else "unknown")

    def rate_limit(who: str) -> None:
        wait_s = limiter.admit(who)
        if wait_s is not None:
            raise ApiError(429, "rate_limited", f"rate limit: at most {config.rate_limit_per_min} submissions a minute",
                           headers={"Retry-After": str(max(1, round(wait_s)))})

    def job_or_404(job_id: str):
        job = service.get(job_id) if JOB_ID.match(job_id) else None
        if job is None:
            raise ApiError(404, "not_found", f"id: no song with id {job_id[:40]!r}", field="id")
        return job

    def finished_or_409(job_id: str):
        job = job_or_404(job_id)
        if job.status != "succeeded" or not service.results.exists(job.id):
            raise ApiError(409, "not_ready", f"id: the song is {job.status}, its files exist once it has succeeded", field="id")
        return job

    async def read_json(request: Request) -> object:
        body = await request.body()
        try:
            return json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(400, "bad_json", f"body: must be JSON ({error})", field="body") from None

    def idempotency_key(request: Request) -> str | None:
        key = request.headers.get("idempotency-key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise ApiError(422, "invalid_request", "idempotency-key: must be 1-128 visible ASCII characters",
                           field="idempotency-key")
        return key

    @contextmanager
    def queueing():
        """The queue's refusals as the API answers them: 429 when it is full, 409 for a reused key."""
        try:
            yield
        except QueueFull:
            raise ApiError(429, "queue_full", f"queue: {config.max_queue} songs are waiting; try again later",
                           headers={"Retry-After": str(RETRY_AFTER_S)}) from None
        except IdempotencyConflict:
            raise ApiError(409, "idempotency_conflict", "idempotency-key: already used for a different request",
                           field="idempotency-key") from None

    def admit(data: object, request: Request, who: str, meta: dict | None = None):
        """Build, check and queue a request; returns (job, created)."""
        if not isinstance(data, dict):
            raise InvalidRequest("request", "must be a JSON object of fields", type(data).__name__)
        key = idempotency_key(request)
        song_request = SongRequest.from_dict(data)
        try:
            with queueing():
                return service.submit(song_request, owner=who, idempotency_key=key, meta=meta)
        except InvalidRequest as error:
            if error.field == "checkpoint":  # server configuration, not the client's to fix
                raise ApiError(503, "unavailable", "engine: the acestep engine has no checkpoint configured on this "
                                                   "server (songwright serve --checkpoint DIR)", field="engine") from None
            raise
        except SongwrightError as error:  # a missing extra or checkpoint: the server cannot make it now
            raise ApiError(public_status(error), "unavailable", public_error(error), field="engine") from None

    def download(path, filename: str, media_type: str) -> FileResponse:
        return FileResponse(path, media_type=media_type, filename=filename)

    # ------------------------------------------------------------ songs

    @app.post("/v1/songs", status_code=202, tags=["songs"], summary="Queue a song",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": SongIn.model_json_schema()}}}},
              responses={202: {"description": "queued"}, 200: {"description": "finished within Prefer: wait"},
                         401: {"description": "missing or wrong API key"}, 409: {"description": "Idempotency-Key reused"},
                         413: {"description": "body too large"}, 422: {"description": "a field broke a rule"},
                         429: {"description": "queue full or rate limited"}})
    async def create_song(request: Request):
        """The request as JSON -> 202 `{id, status, queue_position, links}`. `Prefer: wait=N` holds the
        answer up to N seconds (200 if the song finished by then); an `Idempotency-Key` header makes a
        retried POST return the same job."""
        who = owner(request)
        data = await read_json(request)
        rate_limit(who)
        job, created = await asyncio.to_thread(admit, data, request, who)
        wait_s = _prefer_wait(request.headers.get("prefer"), config.max_wait_s)
        headers = {"Location": f"/v1/songs/{job.id}"}
        if wait_s:
            deadline = time.monotonic() + wait_s
            while not job.finished and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                job = await asyncio.to_thread(service.get, job.id)
            headers["Preference-Applied"] = f"wait={wait_s:g}"
        body = await asyncio.to_thread(service.view, job)
        status = 200 if job.finished else 202
        return JSONResponse(body, status_code=status, headers=headers)

    @app.post("/v1/songs/{job_id}/edits", status_code=202, tags=["songs"],
              summary="Queue an edit of a finished song: retake, repaint, extend, relyric or remix",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": EditIn.model_json_schema()}}}},
              responses={202: {"description": "queued"}, 404: {"description": "no such song"},
                         409: {"description": "the source song has not succeeded"},
                         422: {"description": "the edit does not fit the song"}})
    async def edit_song(job_id: str, request: Request):
        """An edit as JSON (`{"verb": "retake", "section": "chorus", "seed": 5}`) -> 202, a new job
        whose song is the source song with that edit; the source is never changed. Every note and
        every sample outside the edited part stays as it was. Polled and downloaded like any song."""
        who = owner(request)
        data = await read_json(request)
        rate_limit(who)
        await asyncio.to_thread(finished_or_409, job_id)
        from ..edits import edit_from_fields

        edit = edit_from_fields(data)
        key = idempotency_key(request)
        with queueing():
            job, _ = await asyncio.to_thread(service.submit_edit, job_id, edit, owner=who, idempotency_key=key)
        body = await asyncio.to_thread(service.view, job)
        return JSONResponse(body, status_code=202, headers={"Location": f"/v1/songs/{job.id}"})

    @app.get("/v1/songs", tags=["songs"], summary="History, newest first")
    async def list_songs(request: Request, limit: int = Query(20, ge=1, le=100),
                         cursor: int | None = Query(None, ge=1, le=2**63 - 1, description="next_cursor of the previous page")):
        owner(request)
        jobs = await asyncio.to_thread(service.store.page, limit=limit + 1, before_seq=cursor)
        more = len(jobs) > limit
        jobs = jobs[:limit]
        items = [await asyncio.to_thread(service.view, job) for job in jobs]
        return {"items": items, "next_cursor": jobs[-1].seq if more else None}

    @app.get("/v1/songs/{job_id}", tags=["songs"], summary="Status, progress and result")
    async def get_song(job_id: str, request: Request):
        owner(request)
        job = await asyncio.to_thread(job_or_404, job_id)
        return await asyncio.to_thread(service.view, job)

    @app.get("/v1/songs/{job_id}/events", tags=["songs"], summary="Server-sent events: progress, then the final status")
    async def song_events(job_id: str, request: Request):
        owner(request)
        job = await asyncio.to_thread(job_or_404, job_id)

        async def stream():
            last = None
            logged = 0  # the job's progress log is read in order: no step is missed between two polls
            current = job
            yield "retry: 1000\n\n"
            while True:
                position = await asyncio.to_thread(service.store.queue_position, current)
                steps = await asyncio.to_thread(service.store.progress_since, job_id, logged)
                states = _event_states(current, steps, position=position, logged=logged)
                logged = steps[-1][0] if steps else logged
                for state in states:
                    if state == last or (state[0] == "running" and last is not None and last[0] == "running"
                                         and state[2] < last[2]):
                        continue
                    last = state
                    status, stage, progress, queued, error = state
                    view = {"id": current.id, "status": status, "stage": stage, "progress": progress, "error": error,
                            "queue_position": queued}
                    kind = "status" if status in FINISHED else "progress"
                    yield f"event: {kind}\ndata: {json.dumps(view)}\n\n"
                if current.finished or await request.is_disconnected():
                    return
                await asyncio.sleep(EVENTS_POLL_S)
                refreshed = await asyncio.to_thread(service.get, job_id)
                if refreshed is None:
                    yield f"event: status\ndata: {json.dumps({'id': job_id, 'status': 'deleted'})}\n\n"
                    return
                current = refreshed

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/v1/songs/{job_id}/audio", tags=["files"], summary="The mastered mix",
             response_class=Response, responses={200: {"content": {"audio/mpeg": {}, "audio/wav": {}}}})
    async def song_audio(job_id: str, request: Request, format: Literal["mp3", "wav", "flac", "ogg"] = "mp3"):
        owner(request)
        job = await asyncio.to_thread(finished_or_409, job_id)
        path = await asyncio.to_thread(service.results.audio, job.id, format)
        media = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg"}[format]
        return download(path, f"{job.id}.{format}", media)

    @app.get("/v1/songs/{job_id}/stems.zip", tags=["files"], summary="Every stem (32-bit float WAV) in one zip",
             response_class=Response)
    async def song_stems_zip(job_id: str, request: Request):
        owner(request)
        job = await asyncio.to_thread(finished_or_409, job_id)
        names = service.results.stems(job.id)
        if not names:
            raise ApiError(404, "not_found", "stems: this engine makes no stems", field="stems")
        path = await asyncio.to_thread(_stems_zip, service, job.id, names)
        return download(path, f"{job.id}-stems.zip", "application/zip")

    @app.get("/v1/songs/{job_id}/stems/{name}", tags=["files"], summary="One stem", response_class=Response)
    async def song_stem(job_id: str, name: str, request: Request):
        owner(request)
        job = await asyncio.to_thread(finished_or_409, job_id)
        path = service.results.stem(job.id, name)
        if path is None:
            known = ", ".join(service.results.stems(job.id)) or "none"
            raise ApiError(404, "not_found", f"name: no stem {name[:40]!r} (stems: {known})", field="name")
        return download(path, f"{job.id}-{name}.wav", "audio/wav")

    def small_file(name: str, suffix: str, media: str, what: str):
        async def route(job_id: str, request: Request):
            owner(request)
            job = await asyncio.to_thread(finished_or_409, job_id)
            path = service.results.file(job.id, name)
            if path is None:
                raise ApiError(404, "not_found", f"{what}: this engine makes no {what}", field=what)
            return download(path, f"{job.id}.{suffix}", media)
        return route

    app.get("/v1/songs/{job_id}/midi", tags=["files"], summary="The arrangement as MIDI", response_class=Response)(
        small_file("song.mid", "mid", "audio/midi", "midi"))
    app.get("/v1/songs/{job_id}/lrc", tags=["files"], summary="Lyric timings (enhanced LRC)", response_class=Response)(
        small_file("song.lrc", "lrc", "text/plain; charset=utf-8", "lrc"))
    app.get("/v1/songs/{job_id}/json", tags=["files"], summary="The full report (request, plan, timings)",
            response_class=Response)(small_file("song.json", "json", "application/json", "json"))

    @app.post("/v1/songs/{job_id}/cancel", tags=["songs"], summary="Cancel (a running song stops at its next stage)")
    async def cancel_song(job_id: str, request: Request):
        owner(request)
        job_or_404(job_id)
        job = await asyncio.to_thread(service.cancel, job_id)
        return await asyncio.to_thread(service.view, job)

    @app.delete("/v1/songs/{job_id}", tags=["songs"], summary="Delete a song and its files", status_code=204,
                response_class=Response)
    async def delete_song(job_id: str, request: Request):
        owner(request)
        job_or_404(job_id)
        await asyncio.to_thread(service.delete, job_id)
        return Response(status_code=204)

    # ------------------------------------------------------------ catalogue

    @app.get("/v1/styles", tags=["catalogue"], summary="The tags Songwright understands")
    async def styles(request: Request):
        owner(request)
        from ..styles import load_styles

        data = load_styles()
        out = {}
        for category, title in (("genre", "genres"), ("mood", "moods"), ("instrument", "instruments"), ("vocal", "vocals")):
            out[title] = [{"name": name.replace("_", " "), "aliases": table.get("aliases", []),
                           **({"tempo_bpm": table["tempo_bpm"], "time_signature": table["time_signature"]}
                              if category == "genre" else {})}
                          for name, table in data[category].items()]
        return out

    @app.get("/v1/voices", tags=["catalogue"], summary="The singing voices")
    async def voices(request: Request):
        owner(request)
        from ..singer.voices import VOICES

        return {"voices": [{"name": v.name, "language": v.language, "gender": v.gender, "description": v.description,
                            "installed": v.installed} for v in VOICES.values()]}

    @app.get("/v1/engines", tags=["catalogue"], summary="The engines and what they make")
    async def engines(request: Request):
        owner(request)
        return {"engines": [{"name": name, "capabilities": engine.capabilities.to_dict(),
                             "available": _available(engine)} for name, engine in service.engines.items()]}

    @app.get("/v1/stats", tags=["service"], summary="Queue and job figures")
    async def stats(request: Request):
        owner(request)
        return await asyncio.to_thread(service.stats)

    @app.get("/health", tags=["service"], summary="Liveness")
    async def health():
        return {"status": "ok", "version": VERSION, "queue": "redis" if config.queue else "embedded",
                "auth_required": config.api_key is not None, "engines": list(service.engines)}

    # ------------------------------------------------------------ compatibility, web page

    from .compat import add_compat_routes

    add_compat_routes(app, service=service, owner=owner, rate_limit=rate_limit, admit=admit, read_json=read_json,
                      error=ApiError)

    static = resources.files("songwright.server") / "static"

    @app.get("/", include_in_schema=False)
    async def index():
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Prefer"])
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    return app


def _event_states(job: Job, steps: list[tuple[int, str, float]], *, position: int, logged: int) -> list[tuple]:
    """What the events stream says next: (status, stage, progress, queue position, error) for each
    step of the job's progress log read after `logged`, then the job as polled (before the log was
    read) where that is not behind the steps: finished; queued, with no step read this time (a job
    polled while queued that started before its log was read would otherwise be said to be queued
    after its first steps, its progress back to 0); running, before its first step. A running job's
    steps come from the log alone: every step, in order, never backwards."""
    states = [("running", stage, round(progress, 4), 0, None) for _, stage, progress in steps]
    if job.finished or (not steps and (job.status != "running" or not logged)):
        states.append((job.status, job.stage, round(job.progress, 4), position, job.error))
    return states


def _prefer_wait(header: str | None, max_wait_s: float) -> float:
    if not header:
        return 0.0
    match = _PREFER_WAIT.search(header)
    return min(float(match.group(1)), max_wait_s) if match else 0.0


def _available(engine) -> bool:
    """Whether the engine can make a song here (its extra and configuration), without loading it."""
    try:
        engine.check(SongRequest(engine=engine.name, duration_s=10, instrumental=True))
    except SongwrightError:
        return False
    return True


def _stems_zip(service: JobService, job_id: str, names: list[str]):
    """stems.zip, built once beside the stems (a temporary name, then renamed)."""
    folder = service.results.folder(job_id)
    path = folder / "stems.zip"
    if not path.is_file():
        partial = folder / f".stems.{secrets.token_hex(4)}.partial"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name in names:
                archive.write(folder / "stems" / f"{name}.wav", f"{job_id}/{name}.wav")
        partial.replace(path)
    return path
