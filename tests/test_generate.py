"""The finished song, measured from the audio and the files: duration, loudness, ending, stems,
formats and determinism."""

import hashlib

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

import songwright as sw
from songwright.audio.measure import true_peak_db

from .conftest import SEED_EXAMPLE


def rms_db(audio: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def test_duration_is_exact_to_the_sample(seed_song):
    assert seed_song.sample_rate == 44100
    assert seed_song.audio.shape == (60 * 44100, 2)


def test_loudness_and_true_peak_of_the_master(seed_song):
    measured = pyloudnorm.Meter(44100).integrated_loudness(seed_song.audio.astype(np.float64))
    assert abs(measured - (-14.0)) <= 1.0
    assert true_peak_db(seed_song.audio) <= -1.0
    assert abs(seed_song.loudness_lufs - measured) < 0.05


def test_peaks_between_samples_are_limited_not_turned_down():
    """A song whose true peak overshoots the limiter's sample ceiling is limited harder, so it stays
    at -14 LUFS: before, it was turned down instead (11 of 38 songs over the genres, to -14.85)."""
    song = sw.generate(sw.SongRequest(tags="pop", instrumental=True, duration_s=30, seed=1))
    measured = pyloudnorm.Meter(44100).integrated_loudness(song.audio.astype(np.float64))
    assert song.levels.master.ceiling_db < -1.6 and song.levels.master.trim_db == 0.0
    assert abs(measured - (-14.0)) <= 0.2, measured
    assert true_peak_db(song.audio) <= -1.0


def test_a_song_limited_harder_several_times_still_reaches_minus_14_lufs():
    """This song's true peak overshot the ceiling again after two corrections, and the last guard
    turned it down to -14.64 LUFS; with more corrections allowed (eight; songs that were right
    after fewer are made exactly as before: the corrections stop there) it reaches -14.14 (sung by
    sltm; five were not enough for it: -14.22)."""
    song = sw.generate(sw.SongRequest(tags="hip-hop", seed=3, lyrics="[verse] Step to the mic with a rhythm and rhyme "
                                      "[rap] Counting the bars and I'm right on time [chorus] Hands up high"))
    measured = pyloudnorm.Meter(44100).integrated_loudness(song.audio.astype(np.float64))
    assert abs(measured - (-14.0)) <= 0.2, measured
    assert true_peak_db(song.audio) <= -1.0


def test_the_song_rings_out_and_ends_in_silence(seed_song):
    audio, sr = seed_song.audio, seed_song.sample_rate
    ending_s = seed_song.plan.content_bars * seed_song.plan.bar_s
    ring = audio[int((ending_s + 0.2) * sr):int((ending_s + 1.0) * sr)]
    assert rms_db(ring) > -40, "the final chord must ring, not stop"
    assert rms_db(audio[-int(0.02 * sr):]) < -50, "the last samples fade to silence, never a cut"
    assert 2.0 <= seed_song.duration_s - ending_s <= 2.0 + seed_song.plan.bar_s


def test_seed_example_shape(seed_song):
    plan = seed_song.plan
    kinds = [s.kind for s in plan.sections]
    assert kinds[0] == "intro" and kinds[-1] == "outro"
    assert "verse" in kinds and "chorus" in kinds
    intro_s = plan.sections[0].bars * plan.bar_s
    assert 6.0 <= intro_s <= 10.0
    assert plan.final_chord.root_pc == plan.key.tonic_pc
    verse = next(s for s in plan.sections if s.kind == "verse")
    chorus = next(s for s in plan.sections if s.kind == "chorus")
    assert [c.symbol for c in verse.chords] != [c.symbol for c in chorus.chords]


def section_audio(song, section) -> np.ndarray:
    start = int(section.start_bar * song.plan.bar_s * song.sample_rate)
    end = int(section.end_bar * song.plan.bar_s * song.sample_rate)
    return song.audio[start:end]


def test_chorus_is_fuller_than_verse_and_intro(seed_song):
    sections = {s.kind: s for s in seed_song.plan.sections}
    verse, chorus, intro = (section_audio(seed_song, sections[k]) for k in ("verse", "chorus", "intro"))
    assert rms_db(chorus) > rms_db(verse) + 0.5
    assert rms_db(chorus) > rms_db(intro) + 1.0


def test_stems_add_up_to_the_premaster(seed_song, tmp_path):
    expected = {"drums", "bass", "guitar", "keys", "strings", "vocals"}
    assert expected <= set(seed_song.stems)
    paths = seed_song.save_stems(tmp_path / "stems")
    total = sum(sf.read(p, dtype="float32")[0] for p in paths)
    np.testing.assert_allclose(total, seed_song.premaster, atol=1e-5)
    for path in paths:
        audio, sr = sf.read(path)
        assert sr == 44100 and audio.shape == (60 * 44100, 2)


def test_each_stem_sounds_where_its_part_plays(seed_song):
    sections = {s.kind: s for s in seed_song.plan.sections}
    intro, verse = sections["intro"], sections["verse"]
    bar = seed_song.plan.bar_s
    sr = seed_song.sample_rate
    drums = seed_song.stems["drums"]
    assert rms_db(drums[: int(bar * sr)]) < -80, "the intro opens without drums"
    assert rms_db(drums[int((intro.end_bar - 1) * bar * sr):int(intro.end_bar * bar * sr)]) > -40, "drums come in during the intro"
    assert rms_db(seed_song.stems["strings"][: int(bar * sr)]) > -40, "pads open the intro"
    for stem in ("bass", "guitar"):
        segment = seed_song.stems[stem][int(verse.start_bar * bar * sr):int(verse.end_bar * bar * sr)]
        assert rms_db(segment) > -40, f"{stem} plays in the verse"


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_every_output_format_decodes_to_the_song(seed_song, tmp_path, fmt):
    path = tmp_path / f"song.{fmt}"
    seed_song.save(path)
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    assert sr == 44100 and audio.shape[1] == 2
    # MP3 encoders add padding; every format keeps the length to within 60 ms
    assert abs(len(audio) / sr - 60.0) < 0.06
    assert [p.name for p in tmp_path.iterdir()] == [f"song.{fmt}"], "no temporary files left behind"


def test_same_request_and_seed_give_identical_bytes(tmp_path):
    request = sw.SongRequest(tags="rock", lyrics="[verse]\nHold the line\n[chorus]\nWe ride", duration_s=12, seed=3)
    first, second = sw.generate(request), sw.generate(request)
    first.save(tmp_path / "a.wav")
    second.save(tmp_path / "b.wav")
    digest = [hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("a.wav", "b.wav")]
    assert digest[0] == digest[1]
    for stem in first.stems:
        assert np.array_equal(first.stems[stem], second.stems[stem])


def test_different_seeds_give_different_songs():
    base = sw.SongRequest(tags="pop", lyrics="[verse]\nHello there my friend\n[chorus]\nSing along", duration_s=20)
    a, b = sw.generate(base.replace(seed=1)), sw.generate(base.replace(seed=2))
    assert a.plan.tempo_bpm != b.plan.tempo_bpm or a.plan.key != b.plan.key or [
        c.symbol for s in a.plan.sections for c in s.chords] != [c.symbol for s in b.plan.sections for c in s.chords]
    melody = [[n.pitch for n in song.score.part("vocals").notes] for song in (a, b)]
    assert melody[0] != melody[1]
    n = min(len(a.audio), len(b.audio))
    difference = a.audio[:n] - b.audio[:n]
    assert rms_db(difference) > rms_db(a.audio) - 6, "the two renders differ audibly, not by rounding"


def test_seed_example_request_matches_the_issue_text():
    request = sw.SongRequest(**SEED_EXAMPLE)
    assert request.validate().duration_s == 60


def test_de_esser_turns_down_loud_sibilance_only():
    from scipy.signal import butter, sosfilt

    from songwright.render.mix import de_ess

    sr = 44100
    t = np.arange(2 * sr) / sr
    burst = np.where((t >= 0.5) & (t < 1.0), 0.3 * np.sin(2 * np.pi * 7000 * t), 0.0)
    loud = np.stack([0.3 * np.sin(2 * np.pi * 500 * t) + burst] * 2).astype(np.float32)
    out = de_ess(loud, sr)
    high = butter(4, 5000, "highpass", fs=sr, output="sos")
    low = butter(4, 1000, "lowpass", fs=sr, output="sos")
    inside = slice(int(0.55 * sr), int(0.95 * sr))
    assert rms_db(sosfilt(high, out[0])[inside]) < rms_db(sosfilt(high, loud[0])[inside]) - 6
    assert abs(rms_db(sosfilt(low, out[0])[sr:]) - rms_db(sosfilt(low, loud[0])[sr:])) < 0.01
    quiet = np.stack([0.3 * np.sin(2 * np.pi * 500 * t) + 0.005 * np.sin(2 * np.pi * 7000 * t)] * 2).astype(np.float32)
    assert np.max(np.abs(de_ess(quiet, sr) - quiet)) < 1e-5


def test_the_de_esser_holding_its_band_or_filtering_it_again_gives_the_same_samples(monkeypatch):
    from songwright.render import mix

    sr = 44100
    rng = np.random.default_rng(5)
    for audio in (np.repeat(rng.standard_normal((1, 3 * mix.CHAIN_BLOCK + 999)), 2, axis=0),  # a sung line; a stereo stem
                  rng.standard_normal((2, mix.CHAIN_BLOCK + 5))):
        audio = (0.2 * audio).astype(np.float32)
        held = mix.de_ess(audio, sr)
        monkeypatch.setattr(mix, "DE_ESS_KEEP_SAMPLES", 0)  # as a stem too long to hold its band
        again = mix.de_ess(audio, sr)
        monkeypatch.undo()
        assert np.array_equal(held, again) and not np.array_equal(held, audio)


def test_a_sung_stems_chain_runs_on_one_channel_until_its_reverb_as_on_both():
    from songwright.render.mix import _run_chain_in_place, stem_chain

    sr = 44100
    line = (np.random.default_rng(4).standard_normal((1, 3 * sr)) * 0.1).astype(np.float32)
    for stem in ("vocals", "harmony", "keys"):
        for audio in (np.repeat(line, 2, axis=0), np.concatenate([line, 0.5 * line])):  # mono on two channels; stereo
            want = stem_chain(stem, 100.0)(audio, sr)  # the plugins, the reverb among them, over both channels
            got = np.ascontiguousarray(audio)
            _run_chain_in_place(stem_chain(stem, 100.0), got, sr)
            diff = np.sum((got.astype(np.float64) - want) ** 2) / np.sum(want.astype(np.float64) ** 2)
            assert 10 * np.log10(diff) < -80.0, stem  # the reverb as its response (test_reverb.py)
