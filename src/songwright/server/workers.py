"""The embedded default: a pool of worker threads in the server process, taking jobs from SQLite."""

from __future__ import annotations

import logging
import threading

from ..engines import Engine
from ..errors import Canceled, SongwrightError
from .results import Results
from .runner import public_error, run_job
from .store import JobStore

log = logging.getLogger("songwright.server")
IDLE_POLL_S = 1.0


class WorkerPool:
    def __init__(self, *, store: JobStore, results: Results, engines: dict[str, Engine], workers: int):
        self.store = store
        self.results = results
        self.engines = engines
        self.workers = workers
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"songwright-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, *, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout_s)

    def wake(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def submitted(self, job_id: str) -> None:
        self.wake()

    def canceled(self, job_id: str) -> None:
        pass  # the running job reads its cancel flag from the store at its next stage

    def _loop(self) -> None:
        while not self._stopping.is_set():
            job = self.store.claim()
            if job is None:
                with self._wake:
                    self._wake.wait(IDLE_POLL_S)
                continue
            self._run(job.id, job.request)

    def _run(self, job_id: str, request: dict) -> None:
        stopping = self._stopping

        def cancel() -> bool:
            return stopping.is_set() or self.store.cancel_requested(job_id)

        def progress(stage: str, fraction: float) -> None:
            self.store.set_progress(job_id, stage=stage, progress=fraction)

        try:
            run_job(job_id, request, engines=self.engines, results=self.results, progress=progress, cancel=cancel)
        except Canceled:
            if stopping.is_set() and not self.store.cancel_requested(job_id):
                return  # the server is stopping: the job stays running and is re-run at the next start
            self.store.finish(job_id, status="canceled")
        except Exception as error:  # noqa: BLE001 - every failure ends the job with a public reason
            if isinstance(error, SongwrightError):
                log.info("job %s failed: %s", job_id, error)
            else:
                log.exception("job %s failed", job_id)
            self.store.finish(job_id, status="failed", error=public_error(error))
        else:
            self.store.finish(job_id, status="succeeded")
