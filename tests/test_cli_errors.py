"""`songwright generate` with bad input: exit code 2, one error line naming the field, and
nothing (no song, no temporary or partial file) left in the output folder.

The CLI runs as a real subprocess, so exit codes and stderr are exactly what a user sees.
"""

from __future__ import annotations

import ctypes
import random
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

ERROR_PREFIX = "songwright: error: "


def run_cli(*args: str, cwd: Path, preexec_fn=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "songwright", *args],
        cwd=cwd, capture_output=True, text=True, errors="replace", timeout=120, stdin=subprocess.DEVNULL,
        preexec_fn=preexec_fn,
    )


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder for the song; the CLI also runs in it, so a stray default output shows."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def in_dir(tmp_path: Path) -> Path:
    """Inputs (lyrics files) live apart from the output folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    return folder


def generate(out_dir: Path, *extra: str, output: Path | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    """A valid, short request; `extra` options come last and so override the defaults."""
    target = output if output is not None else out_dir / "song.wav"
    return run_cli("generate", "--duration", "10", "--seed", "1", "-o", str(target), *extra,
                   cwd=out_dir, preexec_fn=preexec_fn)


def assert_rejected(result: subprocess.CompletedProcess, field: str, out_dir: Path) -> str:
    """Exit 2, exactly one stderr line that starts with the error prefix and names `field`,
    nothing on stdout, and an output folder as empty as it started. Returns the error line."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(ERROR_PREFIX), line
    assert line[len(ERROR_PREFIX):].startswith(field), f"{field!r} not named first in {line!r}"
    assert result.stdout == ""
    leftovers = sorted(p.name for p in out_dir.iterdir())  # includes hidden .NAME.part files
    assert leftovers == [], leftovers
    return line


# ---------------------------------------------------------------- tags

def test_empty_tags(out_dir):
    assert_rejected(generate(out_dir, "--tags", ""), "tags:", out_dir)


def test_absurd_tags(out_dir):
    line = assert_rejected(generate(out_dir, "--tags", "asdfgh, qwerty"), "tags:", out_dir)
    assert "asdfgh, qwerty" in line
    assert "songwright styles" in line


# ---------------------------------------------------------------- numbers

@pytest.mark.parametrize("seconds", ["0", "7200"])
def test_duration_out_of_range(out_dir, seconds):
    line = assert_rejected(generate(out_dir, "--duration", seconds), "duration_s:", out_dir)
    assert "between 10 and 600 seconds" in line


@pytest.mark.parametrize("bpm", ["-5", "1000"])
def test_bpm_out_of_range(out_dir, bpm):
    line = assert_rejected(generate(out_dir, "--bpm", bpm), "tempo_bpm:", out_dir)
    assert "between 40 and 240 BPM" in line


def test_duration_that_is_not_a_number(out_dir):
    assert_rejected(generate(out_dir, "--duration", "ten"), "argument --duration", out_dir)


# ---------------------------------------------------------------- key and meter

def test_unknown_key(out_dir):
    line = assert_rejected(generate(out_dir, "--key", "H major"), "key:", out_dir)
    assert "'H major'" in line


def test_impossible_time_signature(out_dir):
    line = assert_rejected(generate(out_dir, "--time-signature", "5/0"), "argument --time-signature", out_dir)
    assert "5/0" in line


# ---------------------------------------------------------------- lyrics files

def test_lyrics_file_over_1_mb(out_dir, in_dir):
    lyrics = in_dir / "huge.txt"
    lyrics.write_bytes(b"[verse]\n" + b"la la la\n" * 111_112)  # 1,000,016 bytes of plain text
    assert lyrics.stat().st_size > 1_000_000
    line = assert_rejected(generate(out_dir, "--lyrics", str(lyrics)), "lyrics:", out_dir)
    assert "1000000 bytes" in line


def test_lyrics_file_of_random_bytes(out_dir, in_dir):
    garbage = random.Random(20240601).randbytes(4096)
    with pytest.raises(UnicodeDecodeError):
        garbage.decode("utf-8")
    lyrics = in_dir / "garbage.bin"
    lyrics.write_bytes(garbage)
    line = assert_rejected(generate(out_dir, "--lyrics", str(lyrics)), "lyrics:", out_dir)
    assert "UTF-8" in line


@pytest.mark.parametrize(
    "text, code",
    [
        ("[verse]\nhello\x00world\n", "U+0000"),
        ("[verse]\nring the \x07 bell\n", "U+0007"),
        ("[chorus]\n\x1b[31mred\x1b[0m\n", "U+001B"),
    ],
)
def test_lyrics_file_of_utf8_with_control_characters(out_dir, in_dir, text, code):
    lyrics = in_dir / "control.txt"
    lyrics.write_bytes(text.encode("utf-8"))
    line = assert_rejected(generate(out_dir, "--lyrics", str(lyrics)), "lyrics:", out_dir)
    assert "plain text" in line and code in line


def test_missing_lyrics_file(out_dir, in_dir):
    line = assert_rejected(generate(out_dir, "--lyrics", str(in_dir / "nope.txt")), "lyrics:", out_dir)
    assert "nope.txt" in line


# ---------------------------------------------------------------- output paths

def test_output_in_a_missing_folder(out_dir):
    target = out_dir / "missing" / "song.wav"
    line = assert_rejected(generate(out_dir, output=target), "output:", out_dir)
    assert "existing folder" in line
    assert not target.parent.exists()


def _without_dac_override() -> None:
    """Runs in the child before exec: drop the capabilities that let root ignore permission
    bits, from the bounding set, so the exec'd CLI has them in neither its permitted nor its
    effective set. (PR_CAPBSET_DROP = 24; CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _child_can_write(folder: Path, preexec_fn) -> bool:
    probe = folder / ".probe"
    result = subprocess.run([sys.executable, "-c", "import sys; open(sys.argv[1], 'x').close()", str(probe)],
                            capture_output=True, preexec_fn=preexec_fn, timeout=60)
    if probe.exists():
        probe.unlink()
    return result.returncode == 0


def test_output_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        # Root (CAP_DAC_OVERRIDE) may write into a 0o555 folder, and then the CLI rightly writes
        # the song there. To still test the read-only case, run the CLI without that capability.
        preexec_fn = None
        if _child_can_write(folder, None):
            if not sys.platform.startswith("linux"):
                pytest.skip("the OS lets this process write into a 0o555 folder (running as root?)")
            try:
                if _child_can_write(folder, _without_dac_override):
                    pytest.skip("the OS lets this process write into a 0o555 folder even without "
                                "CAP_DAC_OVERRIDE, so there is no read-only folder to test with")
            except subprocess.SubprocessError as exc:
                pytest.skip(f"running as root and cannot drop CAP_DAC_OVERRIDE ({exc}), so the OS "
                            "permits writes into a 0o555 folder and the read-only case cannot be exercised")
            preexec_fn = _without_dac_override
        result = generate(folder, output=folder / "song.wav", preexec_fn=preexec_fn)
        line = assert_rejected(result, "output:", folder)
        assert "folder you can write to" in line
    finally:
        folder.chmod(0o755)


def test_unknown_output_extension(out_dir):
    line = assert_rejected(generate(out_dir, output=out_dir / "song.xyz"), "output:", out_dir)
    assert ".mp3" in line and ".wav" in line


# ---------------------------------------------------------------- the happy path

def test_a_10_second_song_is_written(out_dir):
    # One short sung section: more sections than that do not fit in 10 s at some tempos.
    result = generate(out_dir, "--tags", "pop, funk", "--lyrics-text", "[verse]\nhello world", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert sorted(p.name for p in out_dir.iterdir()) == ["song.wav"]  # no temporary file left beside it
    info = sf.info(str(out_dir / "song.wav"))
    assert info.samplerate == 44100 and info.channels == 2
    assert info.duration == pytest.approx(10.0, abs=0.05)
