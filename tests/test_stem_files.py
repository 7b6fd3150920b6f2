"""Where a song's stems are kept: in memory when they are small, in files when they are long."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from songwright.audio import stems as stem_files
from songwright.audio.stems import RunningSum, StemFiles, mixed

NAMES = ("drums", "bass", "vocals")


def _stems(samples: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(samples)
    return {name: rng.standard_normal((2, samples)).astype(np.float32) for name in NAMES}


@pytest.mark.parametrize("samples,on_disk", [(1000, False), (1001, True)])
def test_stems_are_kept_in_memory_or_on_disk_by_size_and_read_back_the_same(samples, on_disk, monkeypatch):
    monkeypatch.setattr(stem_files, "IN_MEMORY_BYTES", 1000 * len(NAMES) * 2 * 4)  # three stems of 1000 samples
    made = _stems(samples)
    kept = StemFiles(names=NAMES, samples=samples)
    for name in ("vocals", "drums", "bass"):  # in any order: listed and added up in NAMES's
        kept.add(name, made[name].copy())
    assert list(kept) == list(NAMES)
    assert isinstance(kept["bass"], np.memmap) == on_disk and (kept._folder is not None) == on_disk
    for name in NAMES:
        assert kept[name].shape == (samples, 2) and np.array_equal(kept[name], made[name].T)
        with pytest.raises(ValueError):
            kept[name][0, 0] = 1.0  # read-only, wherever it is kept
    expected = (made["drums"] + made["bass"]) + made["vocals"]
    assert np.array_equal(mixed(kept), expected.T)


def test_a_stem_written_in_place_is_kept():
    kept = StemFiles(names=NAMES, samples=64)
    kept.create("bass", samples=64)[:, 1] = 0.5
    assert np.array_equal(kept["bass"], np.tile([[0.0, 0.5]], (64, 1)).astype(np.float32))
    with pytest.raises(ValueError, match="not one of"):
        kept.add("lead", np.zeros((2, 64), np.float32))


@pytest.mark.parametrize("on_disk", [False, True])
def test_stems_added_up_as_they_come_give_the_same_bytes_in_any_order_of_arrival(on_disk, monkeypatch):
    if on_disk:
        monkeypatch.setattr(stem_files, "IN_MEMORY_BYTES", 0)
        monkeypatch.setattr(stem_files, "READ_SAMPLES", 128)  # read back in blocks
    made = _stems(500)
    order = ["vocals", "drums", "bass"]  # the order they are added up in
    expected = (made["vocals"] + made["drums"]) + made["bass"]
    for keep in (False, True):
        for arrival in (["vocals", "drums", "bass"], ["bass", "drums", "vocals"], ["drums", "bass", "vocals"]):
            waiting = StemFiles(names=NAMES, samples=500)
            total = RunningSum(order=order, waiting=waiting, keep=keep)
            for name in arrival:
                if keep:
                    waiting.add(name, made[name].copy())
                total.add(name, made[name].copy())
            assert np.array_equal(total.audio, expected)
            assert len(waiting) == (3 if keep else 0)  # kept, or each let go once added
    kept = StemFiles(names=NAMES, samples=500)
    for name in NAMES:
        kept.add(name, made[name].copy())
    assert np.array_equal(mixed(kept, order=order).T, expected)


def test_a_song_made_without_keeping_its_stems_is_the_same_song():
    import songwright as sw
    from songwright.errors import RenderError

    request = sw.SongRequest(tags="rock", lyrics="[verse]\nHold on to the light tonight", duration_s=10, seed=4)
    kept, named = sw.generate(request), sw.generate(request, keep_stems=False)
    assert np.array_equal(kept.audio, named.audio) and list(named.stems) == list(kept.stems)
    with pytest.raises(RenderError, match="the drums stem was not kept: the song was made without them"):
        named.stems["drums"]


def test_a_long_song_with_its_stems_on_disk_is_the_song_made_in_memory(monkeypatch):
    """Stems kept on disk (a long song's) are added up from their files: the same stems and mix
    to the byte as a song that holds its stems, with its stems or without."""
    import songwright as sw

    request = sw.SongRequest(tags="pop", lyrics="[verse]\nHold on to the light tonight", duration_s=10, seed=5)
    in_memory = sw.generate(request)
    monkeypatch.setattr(stem_files, "IN_MEMORY_BYTES", 0)
    on_disk, unkept = sw.generate(request), sw.generate(request, keep_stems=False)
    assert np.array_equal(on_disk.audio, in_memory.audio) and np.array_equal(unkept.audio, in_memory.audio)
    assert list(on_disk.stems) == list(in_memory.stems)
    for name in in_memory.stems:
        assert np.array_equal(on_disk.stems[name], in_memory.stems[name]), name


@pytest.mark.parametrize("lyrics,sung_first", [("[verse]\nWalking down the street tonight, city lights are shining bright", True),
                                               ("[verse]\n霓虹闪烁 街道流淌 脚步轻快 心跳跟上", False),
                                               ("[verse]\nLa luna brilla sobre el mar", False)])
def test_stems_start_longest_first_by_what_sings_them(lyrics, sung_first):
    """English is sung by HTS (the costliest stem of a song), the other languages by MBROLA (cheaper than
    a held pad): the stems start, and are added up, in that order."""
    import songwright as sw
    from songwright.render.pipeline import mix_order
    from songwright.stages import score_of

    _, score = score_of(sw.SongRequest(tags="pop", lyrics=lyrics, duration_s=20, seed=1))
    order = mix_order(score)
    assert sorted(order) == sorted(score.stems)
    assert (order[0] == "vocals") == sung_first
    assert order.index("strings") < order.index("drums") < order.index("bass")


def test_a_render_stopped_part_way_removes_its_stems_from_the_disk(tmp_path, monkeypatch):
    """A long song's stems wait in a folder of the temporary directory; a render that fails or is
    canceled after its first stem takes the folder with it (not left for the process's exit)."""
    import songwright as sw
    from songwright.render.pipeline import render_mix
    from songwright.stages import SAMPLE_RATE, score_of

    monkeypatch.setattr(stem_files.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(stem_files, "IN_MEMORY_BYTES", 0)
    plan, score = score_of(sw.SongRequest(tags="rock", duration_s=10, seed=2, instrumental=True))
    seen = []

    def progress(stage, fraction):
        seen.append([p.name for p in tmp_path.iterdir()])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:  # held, as a caller logging it would: the stems' frames with it
        render_mix(score, plan, SAMPLE_RATE, progress)
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].startswith(f"songwright-stems-{os.getpid()}-")
    assert list(tmp_path.iterdir()) == [] and caught.traceback


def test_stem_folders_left_by_killed_processes_are_removed_by_the_next_long_song(tmp_path, monkeypatch):
    monkeypatch.setattr(stem_files.tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    old = time.time() - stem_files.STALE_AFTER_S - 5
    folders = {"dead_old": f"songwright-stems-{gone.pid}-abc", "dead_recent": f"songwright-stems-{gone.pid}-def",
               "alive_old": f"songwright-stems-{os.getpid()}-ghi", "no_pid": "songwright-stems-xyz", "unrelated": "kept-123-"}
    for key, name in folders.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "bass.npy").write_bytes(b"x")
        if key != "dead_recent":
            os.utime(tmp_path / name, (old, old))
    (tmp_path / f"songwright-stems-{gone.pid}-file").write_bytes(b"not a folder")
    os.utime(tmp_path / f"songwright-stems-{gone.pid}-file", (old, old))
    monkeypatch.setattr(stem_files, "IN_MEMORY_BYTES", 0)
    kept = StemFiles(names=NAMES, samples=10)  # a long song's: its folder made, the stale ones removed
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([name for key, name in folders.items() if key != "dead_old"]
                          + [f"songwright-stems-{gone.pid}-file", Path(kept._folder.name).name])
    kept.close()
    assert not Path(kept._folder.name).exists() and len(kept) == 0
