"""Scale-out on Redis with RQ: the API queues jobs in Redis, `songwright worker` processes on any
number of machines run them and write the files into the shared `--data-dir`.

Why RQ: it is a small, well-known library over plain Redis (one `redis-server` to run, no broker
to operate), with job metadata (our progress and stage), a job status the API can read from any
machine, and cancel commands; a worker is one process that can keep a model loaded between jobs.

- The API keeps its SQLite record of every job (history, idempotency); a sync thread copies each
  unfinished job's RQ state (status, and the `stage`/`progress` the worker writes into the job's
  meta) into it.
- Cancel: a queued job is taken off the queue (`Job.cancel`); a running one sees the key
  `songwright:cancel:<id>` at its next stage boundary, on whichever machine it runs, and removes
  its partial files.
- Workers are `SimpleWorker`s: jobs run in the worker process, so a loaded model (the acestep
  checkpoint on a GPU box) stays loaded from one job to the next.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.worker import SimpleWorker

from ..engines import Engine, build_engines
from ..errors import Canceled, SongwrightError
from .results import Results
from .runner import public_error, run_job
from .store import JobStore

log = logging.getLogger("songwright.server")
QUEUE_NAME = "songwright"
CANCEL_KEY = "songwright:cancel:{}"
JOB_TIMEOUT_S = 3600
KEEP_S = 7 * 24 * 3600
SYNC_S = 0.25


class RedisDispatcher:
    """The API side: enqueue, cancel, and keep the SQLite record in step with RQ."""

    def __init__(self, url: str, *, store: JobStore, results: Results):
        self.redis = Redis.from_url(url)
        self.queue = Queue(QUEUE_NAME, connection=self.redis)
        self.store = store
        self.results = results
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.redis.ping()
        self._thread = threading.Thread(target=self._sync_loop, name="songwright-redis-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def submitted(self, job_id: str) -> None:
        job = self.store.get(job_id)
        self.queue.enqueue_call("songwright.server.redis_queue.run_queued_job", args=(job_id, job.request), job_id=job_id,
                                timeout=JOB_TIMEOUT_S, result_ttl=KEEP_S, failure_ttl=KEEP_S)

    def canceled(self, job_id: str) -> None:
        self.redis.set(CANCEL_KEY.format(job_id), 1, ex=KEEP_S)
        try:
            rq_job = RQJob.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return
        if rq_job.get_status() in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
            rq_job.cancel()

    def refresh(self, job) -> None:
        """Copy the RQ job's state into the store."""
        try:
            rq_job = RQJob.fetch(job.id, connection=self.redis)
        except NoSuchJobError:
            if job.status == "running":
                self.store.finish(job.id, status="failed", error="the job was lost from the Redis queue")
            return
        status = rq_job.get_status()
        meta = rq_job.get_meta(refresh=False)
        if status in (JobStatus.STARTED, JobStatus.FINISHED, JobStatus.FAILED) and job.status == "queued":
            self.store.mark_running(job.id)
        if status == JobStatus.STARTED and "stage" in meta:
            self.store.set_progress(job.id, stage=meta["stage"], progress=meta.get("progress", 0.0))
        elif status == JobStatus.FINISHED:
            outcome = rq_job.return_value() or {}
            self.store.finish(job.id, status=outcome.get("status", "failed"), error=outcome.get("error"))
        elif status in (JobStatus.FAILED, JobStatus.STOPPED):
            self.store.finish(job.id, status="failed", error="internal error: the worker's log has the details")
        elif status == JobStatus.CANCELED:
            self.store.finish(job.id, status="canceled")

    def _sync_loop(self) -> None:
        while not self._stop.wait(SYNC_S):
            try:
                for status in ("queued", "running"):
                    for job_id in self.store.ids_with_status(status):
                        job = self.store.get(job_id)
                        if job is not None and not job.finished:
                            self.refresh(job)
            except Exception:  # noqa: BLE001 - Redis may be briefly away; keep trying
                log.exception("syncing job states from Redis failed")


# ------------------------------------------------------------------ the worker side

_WORKER: dict = {}


def run_worker(*, queue: str, data_dir: Path, checkpoint: str | None, burst: bool = False) -> None:
    """`songwright worker`: take jobs from Redis until stopped."""
    _WORKER["engines"] = build_engines(checkpoint=checkpoint)
    _WORKER["results"] = Results(Path(data_dir) / "results")
    connection = Redis.from_url(queue)
    worker = SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
    worker.work(burst=burst, logging_level="INFO")


def run_queued_job(job_id: str, request: dict) -> dict:
    """One job in a worker; the outcome is the RQ job's return value."""
    rq_job = get_current_job()
    connection = rq_job.connection
    engines: dict[str, Engine] = _WORKER["engines"]
    results: Results = _WORKER["results"]

    def progress(stage: str, fraction: float) -> None:
        rq_job.meta.update(stage=stage, progress=fraction)
        rq_job.save_meta()

    def cancel() -> bool:
        return bool(connection.exists(CANCEL_KEY.format(job_id)))

    try:
        run_job(job_id, request, engines=engines, results=results, progress=progress, cancel=cancel)
    except Canceled:
        return {"status": "canceled"}
    except SongwrightError as error:
        return {"status": "failed", "error": public_error(error)}
    return {"status": "succeeded"}
