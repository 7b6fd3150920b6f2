import json
import subprocess
import sys
from pathlib import Path

import pytest

import songwright as sw

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
