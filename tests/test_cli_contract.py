"""The CLI contract, one test per reproducer of the robustness probe (issue 15; the findings F1-F18
in ../shared/findings/robustness-2026-11.md): the exit code, one clear line on stderr, and which
files exist afterwards. The CLI runs as a real subprocess (real FluidSynth, MBROLA and espeak-ng);
songs are 10 s and instrumental wherever the voice does not matter. Findings that live below the
CLI (the parser, the casting, the request) are tested on the library call that showed them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from songwright.errors import InvalidRequest
from songwright.lyrics import parse_lyrics
from songwright.request import SongRequest
from tests.robustness import plan_song

BAD_INPUT, FAILED, INTERRUPTED, TERMINATED = 2, 1, 130, 143


def run_cli(*args: str, cwd: Path, timeout_s: float = 120, **popen) -> subprocess.CompletedProcess:
    popen.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([sys.executable, "-m", "songwright", *args], cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=timeout_s, **popen)


def generate(folder: Path, *args: str, **popen) -> subprocess.CompletedProcess:
    return run_cli("generate", "--duration", "10", "--seed", "1", *args, cwd=folder, **popen)


def files_in(folder: Path) -> list[str]:
    """Every file and folder under `folder`, hidden temporaries included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line(result: subprocess.CompletedProcess, code: int, prefix: str) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return lines[0]


def sung_words(report_path: Path) -> list[str]:
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return [w["text"] for line in report["lyrics"] for w in line["words"]]


# ---------------------------------------------------------------- F1, F2, F14: what is sung

def test_f1_circled_digits_are_sung_as_numbers(tmp_path):
    result = generate(tmp_path, "--lyrics-text", "❶ love you ፩ ➊", "-o", "out.wav", "--json", "r.json")
    assert result.returncode == 0, result.stderr
    assert sung_words(tmp_path / "r.json") == ["one", "love", "you", "one", "one"]


def test_f2_rare_cjk_is_sung_from_a_reading_or_named_in_a_warning(tmp_path):
    result = generate(tmp_path, "--lyrics-text", "我爱你 㐂 𮚺", "-o", "out.wav", "--stems", "st", "--midi", "m.mid",
                      "--json", "r.json")
    assert result.returncode == 0, result.stderr
    assert sung_words(tmp_path / "r.json") == ["我", "爱", "你", "㐂"]  # 㐂 from its Unihan reading (xi)
    warnings = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["warnings"]
    assert any("'𮚺'" in w and "not sung" in w for w in warnings), warnings
    assert (tmp_path / "st" / "vocals.wav").is_file() and (tmp_path / "m.mid").is_file()


@pytest.mark.parametrize("text,words", [
    ("I ❤️ you", ["I", "you"]),  # the variation selector is not a note
    ("don´t stop", ["don't", "stop"]),
    ("café¨ au lait", ["café", "au", "lait"]),  # a stray diaeresis is not read by name
    ("beau\u00adtiful wo\u200brld hel\u200dlo", ["beautiful", "world", "hello"]),
    ("\u115f hi \u3164", ["hi"]),  # Hangul fillers
])
def test_f14_invisible_and_stray_characters_are_not_sung(text, words):
    lyrics = parse_lyrics(text)
    assert [w.text for s in lyrics.sections for p in s.phrases for w in p.words] == words


def test_f14_roman_numeral_like_words_are_read_as_words():
    from songwright.singer.phonemes import pronunciations

    sung = pronunciations(["xx", "vi", "ix", "love"], "mb-us1")
    assert len(sung["xx"]) == 2  # "ex ex", not "ro-man twen-ty"
    assert len(sung["vi"]) == 1  # "vie", not "ro-man six"
    assert all(s.onset[:1] != (("r", 65),) for w in ("xx", "vi", "ix") for s in sung[w][:1])


# ---------------------------------------------------------------- F3, F4: time

def test_f3_a_key_of_thousands_of_spaces_is_refused_at_once(tmp_path):
    start = time.perf_counter()
    result = generate(tmp_path, "--key", "A" + " " * 2500 + "x", "-o", "out.wav")
    assert time.perf_counter() - start < 20  # Python start-up included; the pattern took minutes
    assert "must be at most 32 characters" in one_line(result, BAD_INPUT, "songwright: error: key: ")
    assert files_in(tmp_path) == []


def test_f3_validation_of_the_longest_key_is_fast():
    start = time.perf_counter()
    with pytest.raises(InvalidRequest, match="^key: "):
        SongRequest(key="A" + " " * 1600 + "x").validate()
    with pytest.raises(InvalidRequest, match="^key: "):
        SongRequest(key="A" + " " * 30 + "x").validate()
    assert time.perf_counter() - start < 0.05


def test_f4_one_roman_numeral_word_does_not_make_casting_slow():
    from songwright.singer.phonemes import pronunciations

    words = [f"zorb{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}quel" for i in range(3000)] + ["xx", "gonna"]
    start = time.perf_counter()
    sung = pronunciations(words, "mb-us1")
    assert time.perf_counter() - start < 10  # 54 s before: one espeak-ng call per word
    assert len(sung) == len(set(words)) and all(sung[w] for w in ("xx", "gonna"))


# ---------------------------------------------------------------- F5, F18: output paths

@pytest.mark.parametrize("args,field", [
    (["-o", "same.wav", "--json", "same.wav"], "json"),
    (["-o", "drums.wav", "--stems", "."], "output"),
    (["-o", "song.wav", "--midi", "song.wav"], "midi"),
    (["-o", "song.wav", "--stems", "st", "--lrc", "st/vocals.wav"], "lrc"),
])
def test_f5_outputs_that_name_the_same_file_are_refused_before_work(tmp_path, args, field):
    (tmp_path / "st").mkdir()
    result = generate(tmp_path, "--instrumental", *args)
    line = one_line(result, BAD_INPUT, f"songwright: error: {field}: must be a different file from ")
    assert result.stdout == ""
    assert files_in(tmp_path) == ["st"], line


def test_f18_an_output_link_is_written_through(tmp_path):
    (tmp_path / "real.wav").write_bytes(b"old")
    (tmp_path / "link.wav").symlink_to("real.wav")
    result = generate(tmp_path, "--instrumental", "-o", "link.wav", "-q")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link.wav").is_symlink()
    assert sf.info(str(tmp_path / "real.wav")).duration == pytest.approx(10.0)


def test_f18_an_output_link_to_a_device_is_refused(tmp_path):
    (tmp_path / "link.wav").symlink_to("/dev/full")
    result = generate(tmp_path, "--instrumental", "-o", "link.wav")
    assert "is a link to a device" in one_line(result, BAD_INPUT, "songwright: error: output: ")
    assert (tmp_path / "link.wav").is_symlink()


def test_f18_instrumental_with_a_voice_warns(tmp_path):
    result = generate(tmp_path, "--instrumental", "--voice", "us1", "--lyrics-text", "hello", "-o", "out.wav")
    assert result.returncode == 0
    assert "warning: voice us1 not used: the song is instrumental" in result.stderr.splitlines()


# ---------------------------------------------------------------- F6, F7: who sings

@pytest.mark.parametrize("voice,lyrics", [("de2", "hello my love"), ("us2", "te quiero mi amor, corazón"),
                                          ("fr4", "hello my love")])
def test_f6_the_requested_voice_sings_and_is_reported(voice, lyrics):
    _, casting, plan, score = plan_song(SongRequest(lyrics=lyrics, duration_s=30, voice=voice, seed=1))
    assert plan.lead_voice == voice
    assert {n.voice for n in score.part("vocals").notes} == {voice}
    assert all(voice in w and "transliteration" in w for w in casting.warnings) and casting.warnings


def test_f6_a_voice_that_cannot_read_the_lyrics_is_refused(tmp_path):
    result = generate(tmp_path, "--voice", "cn1", "--lyrics-text", "hello my love", "-o", "out.wav")
    line = one_line(result, BAD_INPUT, "songwright: error: voice: cn1 sings only Mandarin")
    assert "'cn1'" in line and files_in(tmp_path) == []


def test_f6_summary_and_json_name_the_voice_that_sang(tmp_path):
    result = generate(tmp_path, "--voice", "de2", "--lyrics-text", "hello my love", "-o", "out.wav", "--json", "r.json")
    assert result.returncode == 0 and "sung by de2" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["plan"]["lead_voice"] == "de2"


@pytest.mark.parametrize("line", ["Like a rolling stone", "Just a dream", "Once upon a time", "hello from a fifo"])
def test_f7_english_lines_with_only_a_as_a_function_word_stay_english(line):
    _, _, plan, score = plan_song(SongRequest(lyrics=line, duration_s=30, seed=1))
    assert plan.lead_voice == "slt" and {n.voice for n in score.part("vocals").notes} == {"slt"}


# ---------------------------------------------------------------- F8, F9: analyze

@pytest.fixture
def bad_audio(tmp_path) -> Path:
    sf.write(tmp_path / "zero.wav", np.zeros((0, 2), np.float32), 44100)
    sf.write(tmp_path / "one.wav", np.zeros((1, 2), np.float32), 44100)
    noise = np.random.default_rng(0).standard_normal((44100 * 3, 1)).astype(np.float32) * 0.1
    noise[1000] = np.nan
    sf.write(tmp_path / "nan.wav", noise, 44100, subtype="FLOAT")
    sf.write(tmp_path / "silent.wav", np.zeros((44100 * 20, 2), np.float32), 44100)
    generate(tmp_path, "--instrumental", "-o", "song.mp3", "-q")
    (tmp_path / "cut.mp3").write_bytes((tmp_path / "song.mp3").read_bytes()[:4800])
    return tmp_path


@pytest.mark.parametrize("name,rule", [("zero.wav", "too short to analyse"), ("one.wav", "too short to analyse"),
                                       ("cut.mp3", "too short to analyse"), ("nan.wav", "NaN or infinite")])
def test_f8_analyze_refuses_audio_it_cannot_measure(bad_audio, name, rule):
    result = run_cli("analyze", name, cwd=bad_audio)
    assert rule in one_line(result, BAD_INPUT, "songwright: error: file: ")


def test_f9_analyze_says_silence_is_silent_in_strict_json(bad_audio):
    result = run_cli("analyze", "silent.wav", "--json", cwd=bad_audio)
    assert result.returncode == 0 and result.stderr == ""

    def no_constants(name):
        raise AssertionError(f"{name} is not JSON")

    report = json.loads(result.stdout, parse_constant=no_constants)
    assert report["silent"] is True
    assert report["tempo_bpm"] is None and report["key"] is None and report["loudness_lufs"] is None


# ---------------------------------------------------------------- F10: all outputs or none

@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 2.6 MB tmpfs: too small for a 10 s song's stems."""
    folder = tmp_path / "disk"
    folder.mkdir()
    for command in (["mount", "-t", "tmpfs", "-o", "size=2600k", "tmpfs", str(folder)],
                    ["sudo", "-n", "mount", "-t", "tmpfs", "-o", "size=2600k", "tmpfs", str(folder)]):
        try:
            if subprocess.run(command, capture_output=True, timeout=10).returncode == 0:
                break
        except (OSError, subprocess.TimeoutExpired):
            continue
    else:
        pytest.skip("cannot mount a small tmpfs here (needs root or passwordless sudo)")
    yield folder
    subprocess.run(["umount", str(folder)], capture_output=True) if os.geteuid() == 0 else \
        subprocess.run(["sudo", "-n", "umount", str(folder)], capture_output=True)


def test_f10_a_full_disk_is_named_and_leaves_no_files(small_disk):
    result = generate(small_disk, "--instrumental", "-o", "out.wav", "--stems", "stems", "--midi", "m.mid",
                      "--json", "r.json")
    line = one_line(result, FAILED, "songwright: failed: could not write ")
    assert "no space left on the device" in line and "no output file was written" in line
    assert str(small_disk) in line  # the file is named
    assert files_in(small_disk) == []


def test_f10_writing_into_a_full_disk_from_python_names_the_cause(small_disk):
    import songwright as sw
    from songwright.errors import RenderError

    song = sw.generate(sw.SongRequest(duration_s=10, seed=1, instrumental=True))
    (small_disk / "filler").write_bytes(b"\0" * (2600 * 1024 - 64 * 1024))
    with pytest.raises(RenderError, match="no space left on the device"):
        song.save(small_disk / "song.wav")
    with pytest.raises(RenderError, match="no space left on the device"):
        song.save_all(small_disk / "song.flac", midi_path=small_disk / "m.mid")
    assert files_in(small_disk) == ["filler"]


@pytest.mark.parametrize("signum,code,word", [(signal.SIGINT, INTERRUPTED, "interrupted"),
                                             (signal.SIGTERM, TERMINATED, "terminated")])
def test_f10_a_signal_while_saving_leaves_no_files(tmp_path, signum, code, word):
    """Ctrl-C, or SIGTERM (`kill`, `timeout`, a process manager), once the first file is being written."""
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "songwright", "generate", "--duration", "30", "--seed", "1", "--instrumental",
         "-o", "out/song.wav", "--stems", "out/stems", "--midi", "out/m.mid", "--json", "out/r.json"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = _signal_when(process, signum, seen=lambda: any(".part" in name for name in files_in(out)),
                          what="saving", poll_s=0.002)  # the first temporary file: saving began
    assert process.returncode == code, stderr
    assert stderr.splitlines() == [f"songwright: {word}; no output file was written"]
    assert files_in(out) == []


def test_f10_sigterm_while_a_long_song_renders_leaves_no_files_and_no_stems_on_disk(tmp_path):
    """A long song's stems wait on disk in the temporary directory (1.7 GB for ten minutes): a
    SIGTERM while they render removes them with everything else."""
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "songwright", "generate", "--duration", "100", "--seed", "1", "--instrumental",
         "-o", "out/song.wav", "--stems", "out/stems", "--json", "out/r.json"],
        cwd=tmp_path, env={**os.environ, "TMPDIR": str(scratch)}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    stderr = _signal_when(process, signal.SIGTERM, what="a stem on disk", poll_s=0.005,
                          seen=lambda: any(name.endswith(".npy") for name in files_in(scratch)))
    assert process.returncode == TERMINATED, stderr
    assert stderr.splitlines() == ["songwright: terminated; no output file was written"]
    assert files_in(out) == [] and files_in(scratch) == []


def _signal_when(process: subprocess.Popen, signum: int, *, seen, what: str, poll_s: float) -> str:
    """Send `signum` to the process as soon as `seen()` holds (fail if it ends or 120 s pass
    first); its stderr once it has ended."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if seen():
            process.send_signal(signum)
            break
        time.sleep(poll_s)
    else:
        process.kill()
        pytest.fail(f"{what} was never seen")
    return process.communicate(timeout=60)[1]


# ---------------------------------------------------------------- F13: edge environments

def test_f13_closed_stdin_with_lyrics_from_stdin(tmp_path):
    result = generate(tmp_path, "--lyrics", "-", "-o", "out.wav", preexec_fn=lambda: os.close(0))
    assert "standard input, which is closed" in one_line(result, BAD_INPUT, "songwright: error: lyrics: ")
    assert files_in(tmp_path) == []


def test_f13_closed_stdout_pipe(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the summary hits a broken pipe
    try:
        result = subprocess.run(
            [sys.executable, "-m", "songwright", "generate", "--duration", "10", "--seed", "1", "--instrumental",
             "-o", "out.wav"], cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE,
            text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["songwright: standard output was closed; the song and its files were written"]
    assert files_in(tmp_path) == ["out.wav"]


def _wait_for_library(process: subprocess.Popen, name: str, timeout_s: float = 60) -> None:
    """Until the process has mapped a shared library whose path holds `name` (Linux /proc)."""
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if name in maps.read_text():
                return
        except OSError:
            break
        time.sleep(0.005)
    pytest.fail(f"the process never loaded {name}")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc to see the imports begin")
@pytest.mark.parametrize("after_s", [0.0, 0.4])
def test_f13_sigint_during_start_up_is_one_line(tmp_path, after_s):
    """Ctrl-C while the package imports numpy, scipy and the synthesiser bindings (the 0.7 s and
    1.5 s of the probe; timed from numpy's first library, since Python's own start-up before
    any of our code runs can itself take that long on a loaded machine). The song is a minute
    long, so the process is still at work 0.4 s in: a 10 s one, with the modules byte-compiled,
    was already written by then on a fast machine."""
    process = subprocess.Popen([sys.executable, "-m", "songwright", "generate", "--duration", "60", "-o", "out.wav"],
                               cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    _wait_for_library(process, "numpy")
    time.sleep(after_s)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == INTERRUPTED, stderr
    assert stderr.splitlines() in (["songwright: interrupted"], ["songwright: interrupted; no output file was written"])
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("fields,field", [
    ({"voice": {}}, "voice"), ({"voice": []}, "voice"), ({"seed": 10**5000}, "seed"),
    ({"duration_s": 10**5000}, "duration_s"), ({"key": 5}, "key"), ({"checkpoint": ["x"]}, "checkpoint"),
])
def test_f11_f12_wrong_types_give_an_error_naming_the_field(fields, field):
    with pytest.raises(InvalidRequest) as error:
        SongRequest.from_dict(fields)
    assert error.value.field == field and str(error.value).startswith(f"{field}: ")
    assert len(str(error.value)) < 300


def test_f12_a_deeply_nested_value_gives_an_error_naming_the_field():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(InvalidRequest, match="^tags: must be text"):
        SongRequest(tags=nested).validate()


def test_f18_numpy_numbers_are_numbers():
    request = SongRequest(duration_s=np.float32(60), tempo_bpm=np.float32(120), seed=np.int64(3)).validate()
    assert (type(request.duration_s), type(request.tempo_bpm), type(request.seed)) == (float, float, int)
    assert json.dumps(request.to_dict())


def test_f17_tag_only_lyrics_blame_the_sections(tmp_path):
    result = generate(tmp_path, "--duration", "60", "--lyrics-text", "[verse]\n" * 200, "-o", "out.wav")
    line = one_line(result, BAD_INPUT, "songwright: error: duration_s: is too short for these lyrics")
    assert "200 sections" in line


# ---------------------------------------------------------------- F15, F16: tags and languages

def test_f15_words_in_unknown_brackets_are_sung_and_reported_once(tmp_path):
    result = generate(tmp_path, "--lyrics-text", "[I love you] baby", "-o", "out.wav", "--json", "r.json")
    assert result.returncode == 0
    assert sung_words(tmp_path / "r.json") == ["I", "love", "you", "baby"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: [I love you] is not a section tag: sung as lyrics"]


def test_f15_chorus_x2_is_sung_twice_and_end_colon_keeps_its_word():
    lyrics = parse_lyrics("[Chorus x2]\nla la\nEnd: of the story")
    assert [s.kind for s in lyrics.sections] == ["chorus", "chorus"]
    assert [[p.text for p in s.phrases] for s in lyrics.sections] == [["la la", "End of the story"]] * 2


def test_f16_a_long_spanish_line_keeps_its_language_when_split():
    line = "mi corazón está roto por la noche sin amor y no puedo olvidar tu nombre jamás"
    lyrics = parse_lyrics(f"hello my love, you are my world\n{line}")
    spanish = [w for p in lyrics.sections[0].phrases[1:] for w in p.words]
    assert len(lyrics.sections[0].phrases) > 2  # the line was split
    assert {w.language for w in spanish} == {"es"}


def test_the_cli_writes_the_same_song_with_stems_asked_for_or_not(tmp_path):
    """Without --stems the CLI does not keep the stems (less memory, less time): the mix is the
    same to the byte."""
    lyrics = ("--lyrics-text", "[verse]\nHold on to the light tonight")
    assert generate(tmp_path, "--tags", "pop", *lyrics, "-o", "alone.wav").returncode == 0
    assert generate(tmp_path, "--tags", "pop", *lyrics, "-o", "with.wav", "--stems", "stems").returncode == 0
    assert (tmp_path / "alone.wav").read_bytes() == (tmp_path / "with.wav").read_bytes()
    assert {"drums.wav", "vocals.wav"} <= {path.name for path in (tmp_path / "stems").iterdir()}
