"""The server's configuration: what `songwright serve` and `songwright worker` are told."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_RETENTION_S = 7 * 24 * 3600.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    api_key: str | None = None
    queue: str | None = None  # None: SQLite + in-process workers; "redis://host:port/db": RQ workers
    checkpoint: str | None = None  # the acestep engine's checkpoint folder
    max_queue: int = 100  # queued jobs; more answer 429
    retention_s: float = DEFAULT_RETENTION_S  # finished jobs and their files older than this are deleted
    cors_origins: tuple[str, ...] = ()  # none: browsers on other origins are refused
    rate_limit_per_min: int = 60  # submissions per API key (or client address) per minute
    max_body_bytes: int = 256 * 1024
    max_wait_s: float = 60.0  # the most a `Prefer: wait=N` holds an answer
    extra: dict = field(default_factory=dict)

    @property
    def database(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"


def parse_duration_s(text: str) -> float:
    """"3600", "90s", "30m", "12h", "7d" -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f'retention must be a number of seconds or end in s, m, h or d ("7d"), got {text!r}')
    return float(match.group(1)) * _UNIT_S[match.group(2)]
