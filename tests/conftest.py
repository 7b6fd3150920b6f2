import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

import songwright as sw

# One BLAS/OpenMP thread per process: the suite runs in two processes (pytest-xdist, pyproject's
# addopts) on two cores, where a second BLAS thread per process only spins (four of the longest test
# files, one process: 152 s with OpenBLAS's two threads, 137 s with one; in two processes 109 s).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # for the processes the tests start
threadpool_limits(1)  # for this one, whose numpy is already loaded
# Compiled modules are kept (a machine may set PYTHONDONTWRITEBYTECODE, as this one does): else every
# process the tests start (each CLI run, server, worker and test process) compiles songwright, and
# pytest rewrites the test modules, again from source.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# The files that take longest run first, so that the two test processes finish together: in the
# order collected (by name) the singer's and the tunes' files came last, one process working alone.
LONGEST_FIRST = ("test_singer.py", "test_charts.py", "test_hum.py", "test_control.py", "test_tunes.py",
                 "test_schemathesis.py", "test_engine.py", "test_retake.py", "test_songcraft.py", "test_web_page.py")


def pytest_collection_modifyitems(items: list) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's order kept


SEED_EXAMPLE = dict(
    tags="pop,funk,melodic,electronic",
    lyrics="[verse] 霓虹闪烁 街道流淌 脚步轻快 心跳跟上 [chorus] 城市的脉搏 在夜里跳荡 代码与光影 编织梦想",
    duration_s=60,
)
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def seed_song() -> sw.Song:
    """The product's own example, as typed, once per test session."""
    return sw.generate(sw.SongRequest(**SEED_EXAMPLE, seed=7))


def shared_requests() -> list[dict]:
    path = SHARED / "prompts" / "requests.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def songwright_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m songwright.cli ARGS` in a fresh process in `cwd`, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "songwright.cli", *args], capture_output=True, text=True, cwd=cwd)
