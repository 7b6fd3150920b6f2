"""A genre's sound (render/sound.py, `[genre.NAME.sound]` in data/styles.toml): the data is valid,
each effect does what it claims on real renders, and songs using them stay byte-identical and
keep their stems adding up to the pre-master."""

import numpy as np
import pytest

import songwright as sw
from songwright.render.sound import (COLOURS, STEM_FX, GenreSound, crackle, doubled, pump_envelope)
from songwright.render.synth import FluidRenderer, named_soundfont_path, soundfont_path
from songwright.score import Part, Score
from songwright.streams import Streams
from songwright.styles import load_styles

SR = 44100


@pytest.mark.parametrize("genre", list(load_styles()["genre"]))
def test_every_genre_sound_table_is_valid_and_its_soundfonts_are_installed(genre):
    sound = GenreSound.from_table(table=load_styles()["genre"][genre].get("sound", {}))
    for choice in sound.fonts.values():
        assert named_soundfont_path(name=choice.name).is_file()
    for stem in sound.fx:
        assert stem in ("drums", "bass", "keys", "guitar", "strings", "lead")


def test_bad_sound_tables_are_refused():
    with pytest.raises(ValueError):
        GenreSound.from_table(table={"fx": {"guitar": "no_such_amp"}})
    with pytest.raises(ValueError):
        GenreSound.from_table(table={"colour": "sepia"})
    with pytest.raises(ValueError):
        GenreSound.from_table(table={"pump": 3})
    with pytest.raises(ValueError, match="unknown master style 'loud'"):
        GenreSound.from_table(table={"master": "loud"})


def test_a_named_soundfont_plays_the_part():
    part = Part("comp", "guitar", 25, notes=[])
    part.add(0.0, 2.0, 52, 100)
    renderer = FluidRenderer(SR, soundfont_path())
    try:
        fluid = renderer.render([part], 120.0, SR)
        muse = renderer.render([part], 120.0, SR, fonts=GenreSound.from_table(table={"fonts": {"comp": "musescore"}}).fonts)
    finally:
        renderer.close()
    assert np.abs(fluid).max() > 0.01 and np.abs(muse).max() > 0.01
    assert not np.allclose(fluid, muse, atol=1e-3), "another soundfont, another sound"


def test_double_tracking_gives_two_takes_panned_wide():
    part = Part("comp", "guitar", 30, pan=44)
    for beat in range(16):
        part.add(float(beat), 0.5, 40, 100)
    sound = GenreSound.from_table(table={"double": ["comp"]})
    left, right = doubled([part], sound=sound, tempo_bpm=120.0, streams=Streams(1))
    assert (left.pan, right.pan) == (8, 120)
    assert [n.pitch for n in left.notes] == [n.pitch for n in right.notes]
    shifts_ms = [(b.start_beats - a.start_beats) * 500.0 for a, b in zip(left.notes, right.notes)]
    assert 2.0 < np.std(shifts_ms) < 20.0 and max(abs(s) for s in shifts_ms) <= 25.0
    again = doubled([part], sound=sound, tempo_bpm=120.0, streams=Streams(1))[1]
    assert [n.start_beats for n in again.notes] == [n.start_beats for n in right.notes]


def test_pump_ducks_after_each_kick_and_recovers():
    score = Score(120.0, "4/4", "C major", 8.0)
    drums = Part("drums", "drums", 0, is_drum=True)
    for beat in range(8):
        drums.add(float(beat), 0.25, 36, 100)
    score.parts = [drums]
    curve = pump_envelope(score, depth_db=6.0, total_samples=4 * SR, sample_rate=SR)
    beat = SR // 2
    assert 20 * np.log10(curve[: beat].min()) == pytest.approx(-6.0, abs=0.05)
    assert curve[beat - 10] > 0.9, "recovered before the next kick"
    assert np.all(curve <= 1.0)


def test_high_gain_amp_adds_harmonics_and_the_tape_takes_the_top_off():
    t = np.arange(SR, dtype=np.float32) / SR
    tone = np.stack([0.1414 * np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32)
    import pedalboard as pb

    amped = pb.Pedalboard(STEM_FX["high_gain_amp"]())(tone, SR)[0]
    spectrum = np.abs(np.fft.rfft(amped))
    harmonics = sum(spectrum[220 * k] for k in (3, 5, 7))
    assert harmonics > 0.1 * spectrum[220], "a clean sine at the pre-chain level (-20 dBFS RMS) comes out distorted"
    noise = np.random.default_rng(0).normal(0, 0.1, (2, SR)).astype(np.float32)
    taped = pb.Pedalboard(COLOURS["tape"]())(noise, SR)[0]
    high = np.abs(np.fft.rfft(taped))[8000:]
    assert np.sum(high**2) < 0.05 * np.sum(np.abs(np.fft.rfft(noise[0]))[8000:] ** 2)


def test_crackle_is_deterministic_at_its_level():
    a = crackle(total_samples=SR, sample_rate=SR, level_db=-30.0, streams=Streams(4))
    b = crackle(total_samples=SR, sample_rate=SR, level_db=-30.0, streams=Streams(4))
    assert np.array_equal(a, b)
    assert 10 * np.log10(np.mean(a**2)) == pytest.approx(-30.0, abs=0.1)


EVERY_FEATURE = {"fonts": {"comp": "musescore", "drums": "avl_red_zeppelin:0:0"}, "double": ["comp"],
                 "fx": {"guitar": "high_gain_amp", "bass": "bass_drive"}, "colour": "tape", "pump_db": 5.0,
                 "crackle_db": -30.0, "levels_db": {"guitar": 4.0, "strings": -10.0}}


def test_every_sound_feature_keeps_determinism_and_the_stem_contract(monkeypatch):
    monkeypatch.setitem(load_styles()["genre"]["rock"], "sound", EVERY_FEATURE)
    request = sw.SongRequest(tags="rock", duration_s=10, seed=2, instrumental=True)
    first, second = sw.generate(request), sw.generate(request)
    assert first.plan.style.sound == EVERY_FEATURE
    for stem in first.stems:
        assert np.array_equal(first.stems[stem], second.stems[stem])
    np.testing.assert_allclose(sum(first.stems.values()), first.premaster, atol=1e-5)
    assert first.loudness_lufs == pytest.approx(-14.0, abs=0.2) and first.true_peak_dbtp <= -1.0
    monkeypatch.setitem(load_styles()["genre"]["rock"], "sound", {})
    plain = sw.generate(request)
    assert not np.array_equal(plain.stems["guitar"], first.stems["guitar"])


def test_genre_balance_moves_a_stem_in_the_mix(monkeypatch):
    request = sw.SongRequest(tags="rock", duration_s=10, seed=2, instrumental=True)
    monkeypatch.setitem(load_styles()["genre"]["rock"], "sound", {})
    plain = sw.generate(request).stems["guitar"]
    monkeypatch.setitem(load_styles()["genre"]["rock"], "sound", {"levels_db": {"guitar": 6.0}})
    louder = sw.generate(request).stems["guitar"]
    ratio_db = 10 * np.log10(np.mean(louder.astype(np.float64) ** 2) / np.mean(plain.astype(np.float64) ** 2))
    assert ratio_db == pytest.approx(6.0, abs=0.3)


def test_synths_in_several_threads_keep_the_sample_cache_in_count(capfd):
    """FluidSynth's sample cache is shared by every synth of a process: four threads making,
    playing and deleting synths (as the stems of two songs at once do) must not free sample data
    another synth still holds (FluidSynth then logs "Trying to free sample data not found in
    cache": 196 times in 40 s before presets were selected one synth at a time)."""
    import threading
    import time

    from songwright import stages

    plan, score = stages.score_of(sw.SongRequest(tags="lofi", duration_s=10, instrumental=True, seed=1))
    stems = sorted({p.stem for p in score.parts if p.notes})
    stop = time.monotonic() + 10.0  # at most; ~120 synths take 2.5 s here
    played = []

    def work(order: list[str]) -> None:
        while len(played) < 120 and time.monotonic() < stop:
            for stem in order:
                renderer = FluidRenderer(SR, soundfont_path())
                renderer.render([p for p in score.parts if p.stem == stem and p.notes], score.tempo_bpm, SR // 2)
                renderer.close()
                played.append(stem)

    threads = [threading.Thread(target=work, args=(stems[::1 - 2 * (i % 2)],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(played) >= 40
    assert "not found in cache" not in capfd.readouterr().err


def _kicks_over_a_bed(rate: int, seconds: float = 8.0) -> np.ndarray:
    """A quiet 220 Hz bed and a loud, decaying 60 Hz kick every half second: peaks 20 dB over the bed."""
    t = np.arange(int(seconds * rate)) / rate
    since = t % 0.5
    mono = 0.08 * np.sin(2 * np.pi * 220 * t) + 0.8 * np.exp(-since / 0.04) * np.sin(2 * np.pi * 60 * since)
    return np.stack([mono, mono]).astype(np.float32)


def _bed_level_db(audio: np.ndarray, rate: int, *, after_s: float) -> float:
    """The 220 Hz bed's level in the 100 ms starting `after_s` after each kick (median over the kicks)."""
    size = rate // 10
    window = np.hanning(size)
    probe = np.exp(-2j * np.pi * 220 * np.arange(size) / rate) * window
    levels = [abs(np.dot(audio[0, start:start + size], probe)) for start in
              range(int((1.0 + after_s) * rate), audio.shape[1] - rate, rate // 2)]
    return 20 * np.log10(np.median(levels))


def test_a_clipped_master_rounds_off_the_peaks_and_does_not_duck_the_mix_after_them():
    from songwright.audio.measure import integrated_lufs, true_peak_db
    from songwright.render.mix import master

    rate = 44100
    glue = master(_kicks_over_a_bed(rate), rate)
    clipped = master(_kicks_over_a_bed(rate), rate, style="clip")
    assert glue.gains.clip_db is None and clipped.gains.clip_db is not None
    assert abs(integrated_lufs(clipped.audio.T, rate) - (-14.0)) <= 0.2
    assert true_peak_db(clipped.audio.T) <= -1.0 and true_peak_db(glue.audio.T) <= -1.0
    # the bed just after a kick against the bed before the next one: the glue's bus compressor and
    # its limiter pull the bed down after every kick; clipped, it stays where it was
    ducked = {name: _bed_level_db(m.audio, rate, after_s=0.05) - _bed_level_db(m.audio, rate, after_s=0.35)
              for name, m in (("glue", glue), ("clip", clipped))}
    assert ducked["glue"] < -0.8 and ducked["clip"] > ducked["glue"] / 2, ducked  # -1.1 and -0.5 dB
    with pytest.raises(ValueError, match="unknown master style 'loud'"):
        master(_kicks_over_a_bed(rate), rate, style="loud")


def test_the_soft_clipper_leaves_quiet_samples_alone_and_bends_loud_ones_under_its_ceiling():
    from songwright.render.mix import CLIP_KNEE_DB, _soft_clip_in_place

    ramp = np.linspace(-4.0, 4.0, 8001, dtype=np.float32)
    audio = np.stack([ramp, ramp[::-1]])
    _soft_clip_in_place(audio, ceiling=1.0)
    knee = 10 ** (CLIP_KNEE_DB / 20)
    quiet = np.abs(ramp) <= knee
    np.testing.assert_array_equal(audio[0][quiet], ramp[quiet])
    assert np.abs(audio).max() < 1.0 and np.all(np.diff(audio[0]) >= 0)  # under the ceiling, in order
    np.testing.assert_array_equal(audio[1], audio[0][::-1])


def test_the_clipped_genres_master_so_and_a_passage_of_their_song_is_mastered_as_the_song():
    """A clipper's ceiling sits its style's headroom over the song's loudness, and an edit re-masters
    its window with the song's gains, that ceiling among them."""
    from songwright.audio.measure import integrated_lufs
    from songwright.render.mix import MASTER_STYLES
    from songwright.stages import perform_passage

    styles = load_styles()["genre"]
    clipped = {name: table["sound"]["master"] for name, table in styles.items() if "clip" in table.get("sound", {}).get("master", "")}
    assert {"hiphop": "clip", "lofi": "clip", "trap": "clip", "blues": "light_clip"}.items() <= clipped.items()
    song = sw.generate(sw.SongRequest(tags="blues", duration_s=20, seed=2, instrumental=True))
    assert abs(song.levels.master.clip_db - integrated_lufs(song.premaster, 44100) - MASTER_STYLES["light_clip"]) < 1e-6
    assert sw.generate(sw.SongRequest(tags="metal", duration_s=10, seed=2, instrumental=True)).levels.master.clip_db is None
    passage = perform_passage(song.plan, song.score, start_s=8.0, end_s=14.0, levels=song.levels)
    want = song.audio[passage.start:passage.start + len(passage.audio)]
    error_db = 10 * np.log10(np.mean((passage.audio - want) ** 2) / np.mean(want ** 2))
    assert error_db < -60, error_db
