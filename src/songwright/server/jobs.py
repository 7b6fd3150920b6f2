"""The job service behind the routes: admission, the queue, state, files, retention.

Admission calls `songwright.engines.check`, so a request that is queued never fails later for a
reason it could have been told at once. Work is dispatched to the in-process pool or to Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time

from ..engines import Engine, build_engines, check
from ..request import SongRequest
from .config import ServerConfig
from .results import Results
from .store import FINISHED, Job, JobStore

log = logging.getLogger("songwright.server")
RETENTION_SWEEP_S = 60.0


class JobService:
    def __init__(self, config: ServerConfig, *, engines: dict[str, Engine] | None = None):
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = JobStore(config.database)
        self.results = Results(config.results_dir)
        self.engines = engines or build_engines(checkpoint=config.checkpoint)
        self.dispatcher = self._dispatcher()
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None

    def _dispatcher(self):
        if self.config.queue:
            from .redis_queue import RedisDispatcher

            return RedisDispatcher(self.config.queue, store=self.store, results=self.results)
        from .workers import WorkerPool

        return WorkerPool(store=self.store, results=self.results, engines=self.engines, workers=self.config.workers)

    # ------------------------------------------------------------ life

    def start(self) -> None:
        removed = self.results.clean_partials()
        recovered = self.store.recover() if not self.config.queue else []
        if removed or recovered:
            log.info("restart: removed %d partial result folder(s), re-queued or failed %s", len(removed), recovered)
        self.dispatcher.start()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="songwright-retention", daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        self._stop.set()
        self.dispatcher.stop()
        self.store.close()

    # ------------------------------------------------------------ jobs

    def submit(self, request: SongRequest, *, owner: str, idempotency_key: str | None,
               meta: dict | None = None) -> tuple[Job, bool]:
        """Check the request completely, then queue it; raises InvalidRequest, QueueFull..."""
        checked = check(request, engine=self.engines.get(request.engine))
        data = checked.to_dict()
        asked = request.to_dict()  # the idempotency fingerprint is the request as sent, before its seed is fixed
        return self._queue(data, fingerprint_of=asked, owner=owner, idempotency_key=idempotency_key, meta=meta)

    def submit_edit(self, source_id: str, edit: dict, *, owner: str, idempotency_key: str | None,
                    meta: dict | None = None) -> tuple[Job, bool]:
        """Queue a song made from a finished song (`source_id`) with one edit more. The edit is
        applied to the notes first, so one that does not fit the song is refused at once."""
        from ..edits import check_edits
        from ..song import song_file_request

        request, earlier = song_file_request(self.results.report(source_id), field="source", where=source_id)
        edits = [*earlier, edit]
        check_edits(request, edits)
        data = {"source": source_id, "song": request.to_dict(), "edits": edits}
        return self._queue(data, fingerprint_of=data, owner=owner, idempotency_key=idempotency_key, meta=meta)

    def _queue(self, data: dict, *, fingerprint_of: dict, owner: str, idempotency_key: str | None,
               meta: dict | None) -> tuple[Job, bool]:
        """Store a checked job and hand it to the dispatcher; `fingerprint_of` is what an
        Idempotency-Key is matched against."""
        fingerprint = hashlib.sha256(json.dumps(fingerprint_of, sort_keys=True).encode()).hexdigest()
        job, created = self.store.add(request=data, request_hash=fingerprint, owner=owner,
                                      idempotency_key=idempotency_key, max_queued=self.config.max_queue, meta=meta)
        if created:
            self.dispatcher.submitted(job.id)
        return job, created

    def get(self, job_id: str) -> Job | None:
        job = self.store.get(job_id)
        if job is not None and not job.finished and self.config.queue:
            self.dispatcher.refresh(job)
            job = self.store.get(job_id)
        return job

    def cancel(self, job_id: str) -> Job | None:
        if self.store.request_cancel(job_id) is None:
            return None
        self.dispatcher.canceled(job_id)
        return self.store.get(job_id)

    def delete(self, job_id: str) -> bool:
        job = self.store.get(job_id)
        if job is None:
            return False
        if not job.finished:
            self.cancel(job_id)
        self.results.remove(job_id)  # files first: once the job answers 404, its files are gone
        self.store.delete(job_id)
        return True

    def sweep(self, *, now_s: float | None = None) -> list[str]:
        """Delete finished jobs (and their files) older than the retention."""
        cutoff = (now_s if now_s is not None else time.time()) - self.config.retention_s
        expired = self.store.finished_before(cutoff)
        for job_id in expired:
            self.results.remove(job_id)
            self.store.delete(job_id)
        return expired

    def _sweep_loop(self) -> None:
        interval = min(RETENTION_SWEEP_S, max(1.0, self.config.retention_s / 4))
        while not self._stop.wait(interval):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - the sweeper must outlive one bad pass
                log.exception("retention sweep failed")

    # ------------------------------------------------------------ views

    def view(self, job: Job) -> dict:
        """The job as the API shows it."""
        out = {
            "id": job.id,
            "status": job.status,
            "stage": job.stage,
            "progress": round(job.progress, 4),
            "queue_position": self.store.queue_position(job),
            "error": job.error,
            "created_at": job.created_s,
            "started_at": job.started_s,
            "finished_at": job.finished_s,
            "request": job.request,
            "links": self.links(job.id),
        }
        if job.status == "succeeded" and self.results.exists(job.id):
            out["result"] = self.result(job.id)
        return out

    def links(self, job_id: str) -> dict:
        base = f"/v1/songs/{job_id}"
        return {"self": base, "events": f"{base}/events", "audio": f"{base}/audio?format=mp3", "stems": f"{base}/stems.zip",
                "midi": f"{base}/midi", "lrc": f"{base}/lrc", "json": f"{base}/json", "cancel": f"{base}/cancel"}

    def result(self, job_id: str) -> dict:
        """What the song turned out to be: tempo, key, meter, sections, chords, lyric timings, warnings."""
        report = self.results.report(job_id)
        resolved = report.get("resolved", {})
        plan = report.get("plan") or {}
        return {
            "engine": report.get("engine"),
            "duration_s": resolved.get("duration_s"),
            "seed": resolved.get("seed"),
            "tempo_bpm": resolved.get("tempo_bpm"),
            "key": resolved.get("key"),
            "time_signature": resolved.get("time_signature"),
            "voice": plan.get("lead_voice"),
            "sections": [{"kind": s["kind"], "label": s["label"], "start_s": s["start_s"], "end_s": s["end_s"],
                          "chords": s["chords"]} for s in plan.get("sections", [])],
            "lyrics": report.get("lyrics", []),
            "stems": report.get("stems", []),
            "loudness_lufs": report.get("loudness_lufs"),
            "true_peak_dbtp": report.get("true_peak_dbtp"),
            "warnings": report.get("warnings", []),
            "files": {"midi": self.results.file(job_id, "song.mid") is not None,
                      "lrc": self.results.file(job_id, "song.lrc") is not None,
                      "stems": bool(report.get("stems"))},
        }

    def stats(self) -> dict:
        counts = self.store.counts()
        return {"queued": counts["queued"], "running": counts["running"],
                "finished": sum(counts[s] for s in FINISHED), **{s: counts[s] for s in FINISHED},
                "average_job_s": self.store.average_job_s(), "max_queue": self.config.max_queue,
                "workers": self.config.workers if not self.config.queue else None,
                "queue": "redis" if self.config.queue else "embedded"}
