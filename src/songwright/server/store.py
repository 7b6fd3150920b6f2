"""Jobs in SQLite (WAL): the durable record of every song asked for, its state and progress.

One connection per store, guarded by a lock (the API's threads and the in-process workers share
it). Times are Unix seconds; `seq` orders jobs by arrival.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
FINISHED = ("succeeded", "failed", "canceled")
MAX_ATTEMPTS = 2  # a job running when the server stopped is re-run once

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    owner TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash TEXT NOT NULL,
    request_json TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL DEFAULT '',
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_s REAL NOT NULL,
    started_s REAL,
    finished_s REAL,
    meta_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS progress_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS progress_log_job ON progress_log(job_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);
"""


@dataclass(frozen=True)
class Job:
    seq: int
    id: str
    owner: str
    idempotency_key: str | None
    request_hash: str
    request: dict
    status: str
    stage: str
    progress: float
    error: str | None
    attempts: int
    cancel_requested: bool
    created_s: float
    started_s: float | None
    finished_s: float | None
    meta: dict  # how the client asked (the compatibility layer's audio format...)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class QueueFull(Exception):
    """More jobs are waiting than the server accepts."""


class IdempotencyConflict(Exception):
    """An Idempotency-Key already names a job made from a different request."""


class JobStore:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ writes

    def add(self, *, request: dict, request_hash: str, owner: str, idempotency_key: str | None,
            max_queued: int, meta: dict | None = None) -> tuple[Job, bool]:
        """Insert a queued job; returns (job, created). An existing Idempotency-Key returns its job."""
        with self._lock, self._transaction():
            if idempotency_key is not None:
                row = self._db.execute("SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?",
                                       (owner, idempotency_key)).fetchone()
                if row is not None:
                    if row["request_hash"] != request_hash:
                        raise IdempotencyConflict(idempotency_key)
                    return _job(row), False
            queued = self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0]
            if queued >= max_queued:
                raise QueueFull(queued)
            job_id = secrets.token_hex(8)
            self._db.execute(
                "INSERT INTO jobs (id, owner, idempotency_key, request_hash, request_json, status, created_s, meta_json) "
                "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (job_id, owner, idempotency_key, request_hash, json.dumps(request), time.time(), json.dumps(meta or {})))
            return _job(self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()), True

    def claim(self) -> Job | None:
        """The oldest queued job, now running; None if none is queued."""
        with self._lock:
            row = self._db.execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_s = ?, stage = 'starting', "
                "progress = 0 WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1) "
                "RETURNING *", (time.time(),)).fetchone()
        return _job(row) if row else None

    def mark_running(self, job_id: str) -> bool:
        """A job taken by an outside worker (Redis): queued -> running; False if it is no longer queued."""
        with self._lock:
            row = self._db.execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, started_s = ?, stage = 'starting' "
                "WHERE id = ? AND status = 'queued' RETURNING seq", (time.time(), job_id)).fetchone()
        return row is not None

    def set_progress(self, job_id: str, *, stage: str, progress: float) -> None:
        """The job's stage and progress now, also kept in its progress log (every step, in order)."""
        with self._lock, self._transaction():
            changed = self._db.execute("UPDATE jobs SET stage = ?, progress = ? WHERE id = ? AND status = 'running'",
                                       (stage, progress, job_id)).rowcount
            if changed:
                self._db.execute("INSERT INTO progress_log (job_id, stage, progress) VALUES (?, ?, ?)",
                                 (job_id, stage, progress))

    def progress_since(self, job_id: str, after_seq: int) -> list[tuple[int, str, float]]:
        """The steps of a job's progress log after `after_seq`: (seq, stage, progress), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT seq, stage, progress FROM progress_log WHERE job_id = ? AND seq > ? "
                                    "ORDER BY seq", (job_id, after_seq)).fetchall()
        return [(row["seq"], row["stage"], row["progress"]) for row in rows]

    def finish(self, job_id: str, *, status: str, error: str | None = None) -> None:
        assert status in FINISHED, status
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = ?, error = ?, finished_s = ?, stage = ?, "
                "progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END WHERE id = ? AND status IN ('queued', 'running')",
                (status, error, time.time(), status, status, job_id))

    def request_cancel(self, job_id: str) -> str | None:
        """Cancel a queued job at once; flag a running one. Returns the status after, None if unknown."""
        with self._lock, self._transaction():
            row = self._db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            if row["status"] == "queued":
                self._db.execute("UPDATE jobs SET status = 'canceled', stage = 'canceled', finished_s = ? WHERE id = ?",
                                 (time.time(), job_id))
                return "canceled"
            if row["status"] == "running":
                self._db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
            return row["status"]

    def cancel_requested(self, job_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return row is None or bool(row["cancel_requested"])

    def delete(self, job_id: str) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM progress_log WHERE job_id = ?", (job_id,))
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def recover(self) -> list[str]:
        """After a restart: running jobs go back to the queue once, or fail with the reason."""
        with self._lock, self._transaction():
            rows = self._db.execute("SELECT id, attempts FROM jobs WHERE status = 'running'").fetchall()
            for row in rows:
                if row["attempts"] < MAX_ATTEMPTS:
                    self._db.execute("UPDATE jobs SET status = 'queued', stage = 'queued again after a restart', "
                                     "progress = 0 WHERE id = ?", (row["id"],))
                else:
                    self._db.execute(
                        "UPDATE jobs SET status = 'failed', stage = 'failed', finished_s = ?, error = ? WHERE id = ?",
                        (time.time(), f"the server stopped while this job was running, {row['attempts']} times; "
                                      "it is not tried again", row["id"]))
        return [row["id"] for row in rows]

    # ------------------------------------------------------------ reads

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def queue_position(self, job: Job) -> int:
        """1 for the next job to run; 0 once it runs or has finished."""
        if job.status != "queued":
            return 0
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND seq <= ?",
                                    (job.seq,)).fetchone()[0]

    def page(self, *, limit: int, before_seq: int | None) -> list[Job]:
        """Newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                                    (before_seq if before_seq is not None else 2**62, limit)).fetchall()
        return [_job(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetchall()
        counts = {status: 0 for status in STATUSES}
        counts.update({row["status"]: row["n"] for row in rows})
        return counts

    def average_job_s(self) -> float | None:
        with self._lock:
            value = self._db.execute("SELECT AVG(finished_s - started_s) FROM jobs WHERE status = 'succeeded'").fetchone()[0]
        return None if value is None else round(value, 3)

    def finished_before(self, cutoff_s: float) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs WHERE status IN ('succeeded', 'failed', 'canceled') "
                                    "AND finished_s < ?", (cutoff_s,)).fetchall()
        return [row["id"] for row in rows]

    def ids_with_status(self, status: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs WHERE status = ? ORDER BY seq", (status,)).fetchall()
        return [row["id"] for row in rows]

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, traceback):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _job(row: sqlite3.Row) -> Job:
    return Job(seq=row["seq"], id=row["id"], owner=row["owner"], idempotency_key=row["idempotency_key"],
               request_hash=row["request_hash"], request=json.loads(row["request_json"]), status=row["status"],
               stage=row["stage"], progress=row["progress"], error=row["error"], attempts=row["attempts"],
               cancel_requested=bool(row["cancel_requested"]), created_s=row["created_s"], started_s=row["started_s"],
               finished_s=row["finished_s"], meta=json.loads(row["meta_json"]))
