"""Song craft, read from the Score (no audio): a hook and a chorus that lifts, words sung with
their stress, melodies that fit the chords, regular form, and variety between songs. The
measures are the song-craft benchmark's (benchmarks/bench_songcraft.py), over all 19 genres."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from songwright.composer.melody import chord_scale, phrase_rhythm
from songwright.lyrics import syllable_stress, words_of
from songwright.theory import parse_key, parse_roman

_SPEC = importlib.util.spec_from_file_location("bench_songcraft", Path(__file__).parents[1] / "benchmarks" / "bench_songcraft.py")
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)
GENRES = bench.genres()


@pytest.fixture(scope="module")
def vocal():
    return {genre: bench.measure(genre, 1, True) for genre in GENRES}


@pytest.fixture(scope="module")
def instrumental():
    return {genre: bench.measure(genre, 1, False) for genre in GENRES}


def test_identical_lines_of_a_chorus_are_sung_alike(vocal):
    alike = sum(m["alike"] for m in vocal.values())
    pairs = sum(m["pairs"] for m in vocal.values())
    assert pairs >= len(GENRES) and alike / pairs >= 0.90, {g: (m["alike"], m["pairs"]) for g, m in vocal.items()}


def test_the_chorus_lifts_above_the_verse(vocal):
    assert np.mean([m["peak"] for m in vocal.values()]) >= 0.80
    assert np.mean([m["lift"] for m in vocal.values()]) >= 2.0, {g: round(m["lift"], 1) for g, m in vocal.items()}


def test_the_last_line_keeps_its_tune(vocal):
    assert np.mean([m["keep"] for m in vocal.values()]) >= 0.85


def test_words_are_sung_with_their_stress(vocal):
    bad, total = bench.ratio_parts([m["stress"] for m in vocal.values()])
    assert total > 200 and bad / total <= 0.05


def test_melody_notes_rarely_rub_a_semitone_against_the_chord(vocal, instrumental):
    for songs in (vocal, instrumental):
        bad, total = bench.ratio_parts([m["clash"] for m in songs.values()])
        assert total > 500 and bad / total <= 0.02


def test_the_last_sung_note_is_a_chord_tone(vocal):
    assert all(m["endct"] for m in vocal.values()), [g for g, m in vocal.items() if not m["endct"]]


def test_sections_are_2_4_8_12_or_16_bars(vocal, instrumental):
    good, total = bench.ratio_parts([(m["form"], m["sections"]) for m in [*vocal.values(), *instrumental.values()]])
    assert good / total >= 0.95


def test_one_seed_gives_the_genres_many_keys(instrumental):
    assert len({m["key"] for m in instrumental.values()}) >= 10


def test_each_genre_has_four_grooves_over_eight_seeds():
    for genre in GENRES:
        grooves = {bench.measure(genre, seed, False)["groove"] for seed in range(8)}
        assert len(grooves) >= 4, genre


@pytest.mark.parametrize("word,stress", [("promise", (True, False)), ("river", (True, False)),
                                         ("tomorrow", (False, True, False)), ("believe", (False, True)),
                                         ("remembered", (False, True, False)), ("under", (True, False)),
                                         ("the", (False,)), ("love", (True,))])
def test_english_stress(word, stress):
    assert syllable_stress(words_of(word)[0]) == stress


def test_stressed_syllables_land_on_the_beat_in_every_rhythm_vocabulary():
    """'a PRO-mise in my PO-cket': no unstressed syllable on a stronger beat than its word's stress."""
    words = words_of("a promise in my pocket and tomorrow")
    stress = [s for w in words for s in syllable_stress(w)]
    joined = [j < len(w.syllables) - 1 for w in words for j in range(len(w.syllables))]
    for genre in GENRES:
        rhythm = phrase_rhythm(stress=stress, joined=joined, room_beats=7.0, beats_per_bar=4, genre=genre,
                               rng=np.random.default_rng(0))
        weights = [bench.metric_weight(o, 4) for o, _ in rhythm]
        assert len(rhythm) == len(stress)
        for i in range(len(stress) - 1):
            if joined[i] and stress[i] != stress[i + 1]:
                unstressed, stressed = (weights[i], weights[i + 1]) if stress[i + 1] else (weights[i + 1], weights[i])
                assert unstressed <= stressed, (genre, i, rhythm)


def test_minor_ninths_and_chord_scales():
    key = parse_key("D minor")
    assert parse_roman("i9", key).intervals == (0, 3, 7, 10, 14)
    assert parse_roman("I9", parse_key("C major")).intervals == (0, 4, 7, 10, 14)
    c = parse_key("C major")
    assert chord_scale(parse_roman("I", c), c) == {0, 2, 4, 7, 9}
    assert chord_scale(parse_roman("V7", c), c) == {7, 9, 11, 2, 5}
