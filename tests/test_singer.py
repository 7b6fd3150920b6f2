"""The singer: every syllable sung, in the voice asked for, in tune and in time, whatever the text."""

import json
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest

import songwright as sw
from songwright.audio import vocal_metrics as vm
from songwright.errors import InvalidRequest
from songwright.lyrics import parse_lyrics
from songwright.singer.casting import cast_lyrics
from songwright.singer.phonemes import pronunciations, syllabify
from songwright.singer.pinyin import split_pinyin
from songwright.singer.voices import VOICES, installed_voices

LYRICS = [json.loads(line) for line in (Path(__file__).parent / "data" / "vocal_lyrics.jsonl").read_text("utf-8").splitlines()]


def request_for(entry: dict, duration_s: float = 30) -> sw.SongRequest:
    fields = {k: v for k, v in entry.items() if k != "lang"}
    return sw.SongRequest(**fields, duration_s=duration_s, seed=1)


@pytest.fixture(scope="module")
def songs() -> list[sw.Song]:
    """Each lyric's song, its lead vocal only: these tests read the notes, the words and the vocal
    stem, the same to the sample without the band and the harmony (which took half the time)."""
    from songwright.stages import composed, perform, only_stems

    made = []
    for entry in LYRICS:
        prepared, plan, score = composed(request_for(entry).validate())
        made.append(perform(prepared, plan, only_stems(score, ("vocals",))))
    return made


def test_the_vocal_part_alone_gives_the_vocal_stem_of_the_whole_song(songs):
    whole = sw.generate(request_for(LYRICS[0]))
    assert np.array_equal(whole.stems["vocals"], songs[0].stems["vocals"])
    assert whole.lyric_timings() == songs[0].lyric_timings()


def test_the_lyric_set_is_broad():
    assert len(LYRICS) >= 20
    assert {e["lang"] for e in LYRICS} >= {"en", "zh", "es", "fr", "de", "it", "pt", "nl", "ja", "ko", "ru", "mixed"}


def test_every_syllable_of_every_lyric_is_sung(songs):
    for entry, song in zip(LYRICS, songs):
        notes = song.score.part("vocals").notes
        written = [w for s in song.plan.sections for p in s.phrases for w in p.words]
        assert len(notes) == sum(len(w.syllables) for w in written), entry["lyrics"][:40]
        sung = [w.text for line in song.lyric_timings() for w in line.words]
        assert sung == [w.text for w in written], entry["lyrics"][:40]
        assert all(n.phones is not None and n.voice for n in notes)


def test_chinese_is_one_sung_syllable_per_character(songs):
    for entry, song in zip(LYRICS, songs):
        if entry["lang"] != "zh":
            continue
        hanzi = [c for c in entry["lyrics"] if "\u4e00" <= c <= "\u9fff"]
        notes = song.score.part("vocals").notes
        assert len(notes) == len(hanzi)
        assert {n.voice for n in notes} == {"cn1"}


def test_korean_is_one_sung_syllable_per_hangul_block_by_hn1(songs):
    for entry, song in zip(LYRICS, songs):
        if entry["lang"] == "ko":
            blocks = [c for c in entry["lyrics"] if "\uac00" <= c <= "\ud7a3"]
            notes = song.score.part("vocals").notes
            assert [n.syllable for n in sorted(notes, key=lambda n: n.start_beats)] == blocks
            assert {n.voice for n in notes} == {"hn1"}


def test_no_silent_gap_where_words_were(songs):
    """Every sung note sounds in the vocal stem."""
    for song in songs:
        stem = song.stems["vocals"].mean(axis=1)
        seconds = 60.0 / song.plan.tempo_bpm
        for note in song.score.part("vocals").notes:
            a = int(note.start_beats * seconds * song.sample_rate)
            b = int(note.end_beats * seconds * song.sample_rate)
            assert np.sqrt(np.mean(stem[a:b] ** 2)) > 1e-3, (note.syllable, note.start_beats)


def test_sung_in_tune_on_the_english_stems(songs):
    """WORLD F0 of voiced frames inside sustained notes, within 50 cents of the written note. A
    rapped line is left out: it keeps the voice's speaking pitch, not the notes (its own test)."""
    from songwright.singer.synthesis import rapped_bars

    total, good = 0, 0.0
    for entry, song in zip(LYRICS, songs):
        if entry["lang"] != "en":
            continue
        rapped = rapped_bars(song.plan)
        sung = [n for n in song.score.part("vocals").notes if n.bar not in rapped]
        timings = vm.note_timings(sung, 60.0 / song.plan.tempo_bpm)
        share, frames = vm.pitch_accuracy(vm.f0_track(song.stems["vocals"], song.sample_rate), timings)
        total += frames
        good += share * frames
    assert total > 5000
    assert good / total >= 0.95


def _composed(entry: dict, voice: str):
    """The plan and score of a short song in `voice` (no audio rendered)."""
    from songwright.composer import compose
    from songwright.composer.melody import voice_gender
    from songwright.plan import make_plan
    from songwright.styles import resolve_tags

    gender = VOICES[voice].gender
    tags = entry["tags"].replace("female vocal", "").replace("male vocal", "") + f", {gender} vocal"
    request = sw.SongRequest(tags=tags, lyrics=entry["lyrics"], tempo_bpm=entry["tempo_bpm"], voice=voice,
                             duration_s=30, seed=3).validate()
    style = resolve_tags(request.tags)
    lyrics, casting = cast_lyrics(parse_lyrics(request.lyrics), request.voice, voice_gender(style))
    plan = make_plan(request, lyrics, style, request.seed, 44100, casting.lead.name)
    return plan, compose(plan)


@pytest.mark.parametrize("name", [v.name for v in installed_voices()])
def test_every_voice_sings_the_written_pitch(name):
    """The middle of every held note, against the written note (not the nearest semitone): MBROLA
    rounds each pitch period down to whole samples (us1 sang +24 cents, br4 +33, jp1 +7 before
    the singer corrected for it). WORLD F0 on the dry vocal line, median over the notes."""
    from songwright.singer.synthesis import sing

    entry = next(e for e in LYRICS if e["lang"] == VOICES[name].language)
    plan, score = _composed(entry, name)
    part = score.part("vocals")
    assert {n.voice for n in part.notes if n.phones is not None} == {name}
    dry = sing(part, plan, plan.sample_rate, plan.total_samples)
    cents = vm.note_pitch_cents(vm.f0_track(dry.T, plan.sample_rate), vm.note_timings(part.notes, plan.seconds_per_beat))
    assert len(cents) >= 4
    assert abs(np.median(cents)) <= 5.0, cents
    assert np.mean(np.abs(cents) <= 10.0) >= 0.8, cents


@pytest.mark.parametrize("name", [v.name for v in installed_voices() if v.name in ("us1", "slt")])
def test_no_two_held_notes_are_sung_alike(name):
    """A singer's held notes move, each its own way: scoop, drift, vibrato starting late at its own
    rate and depth. Before, every held note carried the same 5.3 Hz, 22-cent vibrato from the same
    instant (held-note pitch curves correlated 0.75 with each other; now about 0)."""
    from songwright.singer.synthesis import sing

    plan, score = _composed(LYRICS[0], name)  # pop at 110 BPM: eight notes held 0.6 s or more
    part = score.part("vocals")
    dry = sing(part, plan, plan.sample_rate, plan.total_samples)
    times, f0, _ = vm.f0_track(dry.T, plan.sample_rate)
    curves = []
    for t in vm.note_timings(part.notes, plan.seconds_per_beat):
        inside = (times >= t.start_s + 0.12) & (times < t.start_s + 0.52)
        if t.vowel_end_s - t.start_s >= 0.6 and inside.sum() >= 40 and (f0[inside][:40] > 0).all():
            curves.append(1200 * np.log2(f0[inside][:40] / vm.midi_hz(t.pitch)))
    assert len(curves) >= 4
    correlation = np.corrcoef(curves)[np.triu_indices(len(curves), 1)]
    assert np.median(correlation) <= 0.4, correlation
    assert np.median(np.std(curves, axis=1)) >= 5.0  # cents: the notes move


def test_vowels_start_on_the_beat(songs):
    """Heard vowel onsets (pYIN, after voiceless consonants) against written note onsets, on the
    sung line, in four voices: the MBROLA singer renders, finds where each vowel after a voiceless
    consonant becomes voiced and moves it onto the beat; the HTS singer voices every vowel frame
    and makes room for an onset before its beat (slt: 51 % within 30 ms before, 98 % after, on
    eight songs). Issue 3 asks for 30 ms."""
    from songwright.singer.synthesis import sing

    errors = []
    for index in (0, 2, 22, 25, 28):  # slt (two songs), es3, it3, jp2: the songs of LYRICS[index], already made
        song = songs[index]
        part = song.score.part("vocals")
        dry = sing(part, song.plan, song.sample_rate, song.plan.total_samples)
        timings = vm.note_timings(part.notes, 60.0 / song.plan.tempo_bpm)
        errors.extend(vm.onset_errors(dry.T, song.sample_rate, timings))
    errors = np.asarray(errors)
    assert len(errors) >= 30
    assert np.mean(np.abs(errors) <= 0.030) >= 0.9  # 0.5 before the singer moved vowels; 0.976 now
    assert abs(np.median(errors)) <= 0.015


def test_voicing_onset_skips_short_periodic_blips():
    """Noise (an unvoiced consonant) with a 30 ms periodic blip in it, as MBROLA makes when it
    stretches aspiration, then a voiced vowel from 0.3 s: the onset is the vowel's."""
    from songwright.singer.voicing import voicing_onsets_s

    rate = 16000
    t = np.arange(int(0.6 * rate)) / rate
    audio = 0.05 * np.random.default_rng(0).standard_normal(t.size)
    blip = (t >= 0.15) & (t < 0.18)
    audio[blip] = 0.3 * np.sin(2 * np.pi * 150 * t[blip])
    vowel = t >= 0.3
    audio[vowel] = sum(0.4 / k * np.sin(2 * np.pi * 220 * k * t[vowel]) for k in range(1, 6))
    onset, = voicing_onsets_s(audio, rate, [(0.05, 0.3, 0.55)])
    assert abs(onset - 0.3) <= 0.02
    assert voicing_onsets_s(audio[vowel], rate, [(0.05, 0.1, 0.25)]) == [None]  # nothing unvoiced


def _two_notes(second_onset: tuple) -> list:
    from songwright.score import Note
    from songwright.singer.phonemes import SungSyllable

    return [Note(0, 2, 60, 90, "ah", phones=SungSyllable((), "A", ()), voice="us1"),
            Note(2, 2, 62, 90, "pay", phones=SungSyllable(second_onset, "EI", ()), voice="us1")]


@pytest.mark.parametrize("early_s,consonant_s,vowel_s,previous_end_s", [
    (0.05, (0.92, 0.95), 0.95, 0.92),  # from the consonant's own time
    (0.2, (0.77, 0.80), 0.80, 0.77),  # down to 30 ms of consonant, then from the previous vowel
    (0.9, (0.40, 0.43), 0.43, 0.40),  # the previous vowel keeps 40 %
    (-0.05, (0.97, 1.05), 1.05, 0.97)])  # late: the consonant moves with it
def test_a_vowel_moved_early_takes_time_from_its_consonant_then_the_previous_vowel(early_s, consonant_s, vowel_s,
                                                                                  previous_end_s):
    from songwright.singer.synthesis import segments

    segs = segments(_two_notes((("p_h", 80),)), 0.5, {1: early_s})
    assert [s.phoneme for s in segs] == ["A", "p_h", "EI"]
    assert segs[0].end_s == pytest.approx(previous_end_s)
    assert (segs[1].start_s, segs[1].end_s) == pytest.approx(consonant_s)
    assert segs[2].start_s == pytest.approx(vowel_s) and segs[2].beat_s == 1.0 and segs[2].end_s == 2.0


def test_vowels_after_voiced_consonants_stay_on_the_beat():
    from songwright.singer.synthesis import segments

    segs = segments(_two_notes((("m", 80),)), 0.5, {1: 0.1})
    assert segs[2].start_s == 1.0 and segs[2].beat_s is None


def test_a_fricative_keeps_its_length_when_its_vowel_moves():
    from songwright.singer.synthesis import segments

    segs = segments(_two_notes((("s", 80),)), 0.5, {1: 0.1})
    assert (segs[1].start_s, segs[1].end_s) == pytest.approx((0.82, 0.90))
    assert segs[2].start_s == pytest.approx(0.9) and segs[2].beat_s == 1.0


@pytest.mark.parametrize("tries,expected_s", [
    ([(0.0, 0.1, 0.2)], 0.125),  # the stretched share moves with the vowel
    ([(0.0, 0.1, 0.2), (0.125, 0.02, 0.2)], 0.15625),  # along the line through both
    ([(0.0, 0.1, 0.2), (0.125, 0.095, 0.2)], 0.0),  # moving did not move the voicing: back
    ([(0.0, 0.5, 0.5)], 0.3)])  # at most 300 ms early
def test_next_early(tries, expected_s):
    from songwright.singer.synthesis import next_early

    assert next_early(tries) == pytest.approx(expected_s)


def test_a_still_late_voicing_is_cut_from_its_aspiration():
    from songwright.singer.synthesis import ASPIRATION_KEPT_S, CUT_S, TuningMap, aspiration_cuts, segments

    segs = segments(_two_notes((("p_h", 80),)), 0.5, {1: 0.2})  # the vowel 200 ms early, at 0.8 s
    late = {1: [(0.2, 0.06, 0.4)]}  # yet voiced 60 ms after the beat, 40 % of it before its voicing
    (at_s, skipped_s), = aspiration_cuts(segs, late)
    assert at_s == pytest.approx(0.8 + ASPIRATION_KEPT_S) and skipped_s == pytest.approx(0.06 / 0.6)
    assert aspiration_cuts(segs, {1: [(0.2, 0.01, 0.4)]}) == ()  # on time: nothing cut
    tuning = TuningMap.for_segments(segs, 16000, ((at_s, skipped_s),))
    plain = TuningMap.for_segments(segs, 16000)
    assert tuning.to_mbrola_s(at_s) == pytest.approx(plain.to_mbrola_s(at_s))
    assert tuning.to_mbrola_s(1.5) - plain.to_mbrola_s(1.5) == pytest.approx(skipped_s)  # everything after: later
    assert tuning.to_mbrola_s(at_s + CUT_S) - tuning.to_mbrola_s(at_s) > skipped_s  # skipped over CUT_S


def test_female_and_male_tags_choose_the_voice():
    """The planner casts the voice (no audio rendered: the sung line's voice is tested above)."""
    from songwright import stages

    def lead(**fields) -> str:
        return stages.score_of(sw.SongRequest(duration_s=10, seed=1, **fields))[0].lead_voice

    lyrics = "[verse]\nHello there"
    assert lead(tags="pop, female vocal", lyrics=lyrics) == "slt"
    assert lead(tags="pop, male vocal", lyrics=lyrics) == "sltm"
    assert lead(tags="pop", voice="en1", lyrics=lyrics) == "en1"
    assert lead(tags="pop", lyrics="[verse]\n你好") == "cn1"


def test_unknown_voice_is_refused():
    with pytest.raises(InvalidRequest) as error:
        sw.SongRequest(voice="xx9").validate()
    assert error.value.field == "voice"


@pytest.mark.parametrize("line,language", [("Я тебя люблю", "ru"), ("Σ αγαπώ πολύ", "el"), ("أحبك يا قلبي", "ar"),
                                           ("ฉันรักเธอ", "th"), ("मैं तुमसे प्यार करता हूँ", "hi"), ("שלום עולם", "he")])
def test_a_language_without_a_voice_is_sung_from_a_transliteration_with_a_warning(line, language):
    lyrics, casting = cast_lyrics(parse_lyrics(f"[verse]\n{line} I love you"), None, "female")
    words = [w for p in lyrics.sections[0].phrases for w in p.words]
    foreign = [w for w in words if w.language == language]
    assert [w.text for w in foreign] == line.split() or language == "th"
    for word in foreign:
        assert word.voice == "slt" and len(word.phones) == len(word.syllables) >= 1
        assert "".join(word.syllables) == word.text  # the written syllables are the word's own letters
        assert any(f"'{word.text}' ({language})" in w and "transliteration" in w for w in casting.warnings)


def test_a_mandarin_lead_leaves_transliterations_to_a_voice_that_reads_them():
    lyrics, casting = cast_lyrics(parse_lyrics("[verse]\n我爱你 Я тебя люблю"), "cn1", "female")
    voices = {w.text: w.voice for p in lyrics.sections[0].phrases for w in p.words}
    assert voices == {"我": "cn1", "爱": "cn1", "你": "cn1", "Я": "slt", "тебя": "slt", "люблю": "slt"}


@pytest.mark.parametrize("word,sung", [
    ("사랑해요", ["s a", "4 a N", "h E", "jo"]),
    ("당신을", ["t a N", "s i", "n M l_}"]),  # the final ㄴ sung as the next syllable's onset
    ("먹어", ["m V", "g V"]),  # and a lax stop between vowels voiced
    ("닭이", ["t a l_}", "g i"]),  # of two finals, the first stays
    ("감사합니다", ["k a m_}", "s a", "h a m_}", "n i", "d a"]),  # ㅂ before ㄴ: m
    ("좋다", ["ts\\ o", "t_h a"]),  # ㅎ + ㄷ: aspirated
    ("빨리", ["p_> a l_}", "l i"]),
    ("괜찮아", ["k wE n_}", "ts\\_h a", "n a"])])
def test_hangul_to_hn1(word, sung):
    from songwright.singer.hangul import hangul_syllables

    written = [" ".join([p for p, _ in s.onset] + [s.vowel] + [p for p, _ in s.coda]) for s in hangul_syllables(word)]
    assert written == sung


@pytest.mark.parametrize("line,voice", [("Te quiero mi amor, corazón de la noche", "es3"),
                                        ("Je t'aime mon amour, mon coeur est à toi", "fr4"),
                                        ("Ich liebe dich über alles in der Welt", "de1"),
                                        ("Ti amo amore mio, sei la mia luce", "it4"),
                                        ("Eu te amo, meu amor, você é minha canção", "br4"),
                                        ("Ik hou van jou, mijn lieve schat", "nl3"),
                                        ("さくら さくら やよいの そらは", "jp2"),
                                        ("窗外的雨 轻轻落下", "cn1"),
                                        ("사랑해요 당신을 보고 싶어요", "hn1"),
                                        ("Morning light on the window pane", "slt")])
def test_each_language_is_sung_by_its_own_voice(line, voice):
    lyrics, casting = cast_lyrics(parse_lyrics(f"[verse]\n{line}"), None, "female")
    assert casting.lead.name == voice and not casting.warnings
    assert {w.voice for p in lyrics.sections[0].phrases for w in p.words} == {voice}


def test_male_voices_exist_where_debian_has_them():
    from songwright.singer.voices import installed_voices

    installed = installed_voices()
    languages = {v.language for v in installed}
    assert len(languages) >= 10
    for language in languages - {"zh", "ko"}:  # Debian has one Mandarin voice and one Korean
        assert {v.gender for v in installed if v.language == language} == {"female", "male"}, language


@pytest.mark.parametrize("text", ["🎸🎸🎸", "?!... --- !!!", "https://example.com", "24/7 1999 100%", "zxqwv brrr hmm",
                                  "a" * 300, "Hello 你好 こんにちは 안녕", "Я тебя люблю, احبك, ฉันรักเธอ, नमस्ते, Ω",
                                  "ꦲꦤꦕꦫꦏ ᏣᎳᎩ ⵜⴰⵎⴰⵣⵉⵖⵜ ∑∫√ ①②③ ｆｕｌｌｗｉｄｔｈ"])
def test_odd_text_never_crashes(text):
    song = sw.generate(sw.SongRequest(tags="pop", lyrics=f"[verse]\n{text}", duration_s=20, seed=1))
    written = sum(len(w.syllables) for s in song.plan.sections for p in s.phrases for w in p.words)
    assert len(song.score.part("vocals").notes if song.score.part("vocals") else []) == written
    assert song.audio.shape == (20 * 44100, 2)


def test_syllabify_keeps_every_phoneme():
    phones = pronunciations(["strengths", "little", "everything"], "mb-us1")
    assert [len(phones[w]) for w in ("strengths", "little", "everything")] == [1, 2, 3]
    flat = [("s", 60), ("t", 60), ("r", 60), ("I", 100), ("N", 60), ("g", 60), ("@", 80), ("l", 60)]
    syllables = syllabify(flat)
    rebuilt = [p for s in syllables for p in (*s.onset, (s.vowel, 0), *s.coda)]
    assert [p for p, _ in rebuilt] == [p for p, _ in flat]


@pytest.mark.parametrize("pinyin,units", [("hao", ("h", "ao")), ("huan", ("hu", "an")), ("biao", ("bi", "ao")),
                                          ("shi", ("sh", "ll")), ("si", ("s", "ii")), ("yu", (None, "v")),
                                          ("jue", ("j", "ue")), ("ying", (None, "ing")), ("wo", ("w", "o"))])
def test_pinyin_to_cn1_units(pinyin, units):
    assert split_pinyin(pinyin) == units


def test_every_character_read_as_pypinyin_reads_it():
    """The singer reads pypinyin's table of single characters without importing pypinyin (and its
    phrase table): each of the 41,923 gives what `lazy_pinyin` gives it, ü written v, tones off."""
    from pypinyin import Style, lazy_pinyin

    from songwright.singer import pinyin

    table = pinyin._readings()
    assert table is not None and len(table) > 40000
    differ = [(chr(cp), pinyin._first_reading(chr(cp))) for cp in table
              if pinyin._first_reading(chr(cp)) != lazy_pinyin(chr(cp), style=Style.NORMAL, v_to_u=False)[0]]
    assert differ == []
    assert [pinyin._first_reading(c) for c in "绿女行乐嗯"] == ["lv", "nv", "xing", "le", "n"]


def test_a_chinese_song_is_sung_without_importing_pypinyin():
    code = ("import sys, songwright as sw; "
            "sw.generate(sw.SongRequest(tags='pop', lyrics='[verse] 城市的脉搏 绿', duration_s=10, seed=1)); "
            "print('pypinyin' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-1] == "False"


def test_midi_vocal_track_has_a_lyric_per_sung_syllable(tmp_path):
    song = sw.generate(sw.SongRequest(tags="pop", lyrics="[verse]\nEverything is beautiful tonight", duration_s=15, seed=1))
    song.save_midi(tmp_path / "s.mid")
    midi = mido.MidiFile(tmp_path / "s.mid", charset="utf-8")
    track = next(t for t in midi.tracks if any(m.type == "track_name" and m.name == "vocals" for m in t))
    lyrics = [m.text for m in track if m.type == "lyrics"]
    notes = [m for m in track if m.type == "note_on"]
    assert len(lyrics) == len(notes) == len(song.score.part("vocals").notes)
    assert "".join(lyrics).split() == ["Everything", "is", "beautiful", "tonight"]


def test_json_names_the_voice_and_the_cli_lists_voices(tmp_path):
    song = sw.generate(sw.SongRequest(tags="rock, male vocal", lyrics="[verse]\nRide on", duration_s=10, seed=1))
    assert song.to_dict()["plan"]["lead_voice"] == "sltm"
    listing = subprocess.run([sys.executable, "-m", "songwright", "voices"], capture_output=True, text=True, check=True)
    assert "us1" in listing.stdout and "cn1" in listing.stdout and "installed" in listing.stdout


def test_an_unstressed_first_syllable_is_a_pickup_to_the_stressed_one():
    song = sw.generate(sw.SongRequest(tags="pop, female vocal", lyrics="[verse]\nThe moon hangs low\nTonight we ride",
                                      duration_s=30, tempo_bpm=100, seed=3))
    notes = song.score.part("vocals").notes
    per_bar = song.plan.beats_per_bar
    for first, second in ((notes[0], notes[1]), (notes[4], notes[5])):
        assert (first.syllable, second.syllable) in (("The", "moon"), ("To", "night"))
        bar_line = round(second.start_beats / per_bar) * per_bar
        assert abs(second.start_beats - bar_line) < 0.05, "the stress lands on the downbeat"
        assert first.start_beats < bar_line, "the unstressed syllable comes before the bar line"


VOICE_TEXTS = {
    "en": "The quick brown fox jumps over the lazy dog, judge the church thing, vision, rhythm, bottle, on, lyublyu",
    "es": "El perro de San Roque no tiene rabo, la jirafa y el chico juegan con la llama, mañana, hielo, huevo",
    "fr": "Le chat mange une pomme, je suis heureux, jaune, oui, huit, gagner, fille, vin, brun, champagne",
    "de": "Ich liebe dich über alles, zwei Pferde, Bach, Mädchen, schön, Straße, Zug, fünf, Pfeife, Quelle",
    "it": "Ti amo amore mio, gli gnocchi, cielo, ciao, pizza, zero, figlio, sciare, giorno, chiesa, acqua",
    "pt": "Eu te amo, coração, você, minha canção, filho, lhama, manhã, pão, chuva, jogo, rato, carro",
    "nl": "Ik hou van jou, mijn lieve schat, de zon is op de weg, goed, huis, eeuw, graag, vrij, zee",
    "ja": "さくら さくら やよいの そらは みわたす かぎり ありがとう ちょっと",
    "ko": "사랑해요 당신을 안녕하세요 감사합니다 고마워 좋아 많다 닭이 먹어 국물 빨리 없어 읽다 밝은 하늘 노래 바다 학교 친구 쓰다"
          " 짜다 괜찮아 의자 외국 뭐 위 예 얘기 꽃잎 밖에 넓은 앉아 싫어 값이",
}


@pytest.mark.parametrize("name", [v.name for v in installed_voices() if v.name != "cn1" and v.engine == "mbrola"])
def test_every_voice_sings_every_phoneme_it_is_given(name):
    """espeak-ng writes phonemes some MBROLA databases lack (es3 has no R2, L, tS, x; es1 no o/,
    e/...): they are sung through stand-ins (hn1 is written from Hangul); a missing pair of phonemes is joined through a
    zero-length rest. MBROLA would sing silence for either. What may remain: a pair into a rest."""
    from songwright.singer.synthesis import Segment, mbrola, pho_text

    from songwright.singer.hangul import hangul_syllables

    voice = VOICES[name]
    words = VOICE_TEXTS[voice.language].replace(",", " ").split()
    sung = pronunciations(words, voice.espeak, voice.substitutes) if voice.espeak else {w: hangul_syllables(w) for w in words}
    segs, at = [], 0.1
    for word in words:
        for syllable in sung[word.lower()]:
            for phoneme, ms in (*syllable.onset, (syllable.vowel, 200), *syllable.coda):
                segs.append(Segment(phoneme, at, at + ms / 1000, [(0.0, 220.0)]))
                at += ms / 1000
        at += 0.05
    _, missing = mbrola(pho_text(segs), voice)
    _, still = mbrola(pho_text(segs, broken=missing), voice)
    assert {pair for pair in still if pair[1] != "_"} == set()


def test_a_phoneme_the_voice_lacks_altogether_never_stops_the_song():
    """MBROLA gave up ("PANIC") on this line of a Russian song sung from a transliteration by us1,
    once the pair @-l/ was joined through a zero-length rest: us1 has no l/ at all. The line is
    then sung without the join (the phoneme silent) rather than failing."""
    from songwright.singer.synthesis import Joins, Segment

    line = ["j 65 0 466.2", "@ 214 0 452.9 23 466.2 100 466.2", "t_h 87 0 415.3",
            "E 260 0 466.2 7 466.2 41 415.3 100 415.3", "b 65 0 392.0", "I 297 0 415.3 30 392.0 100 392.0", "_ 26",
            "@ 161 0 392.0 55 349.2 100 349.2", "l/ 65 0 392.0"]
    segs, at = [], 9.935
    for phoneme, ms, *targets in (entry.split() for entry in line):
        length = int(ms) / 1000
        if phoneme != "_":
            hz = [(float(at_percent) / 100 * length, float(f)) for at_percent, f in zip(targets[::2], targets[1::2])]
            segs.append(Segment(phoneme, at, at + length, hz))
        at += length
    joins = Joins()
    audio = joins.sing(segs, VOICES["us1"])
    assert ("@", "l/") in joins.tried and ("@", "l/") not in joins.broken
    rate = VOICES["us1"].sample_rate
    assert np.abs(audio[int((at - 0.3) * rate):int((at - 0.1) * rate)]).max() > 0.05  # the @ before it is sung


slt_installed = pytest.mark.skipif("slt" not in {v.name for v in installed_voices()},
                                   reason="Festival's slt HTS voice is not installed (bash scripts/setup-system.sh)")


@slt_installed
def test_the_hts_voice_sings_the_same_line_to_the_sample():
    """Festival, hts_engine and its vocoder (noise from its own fixed-seed generator) are
    deterministic: the same notes give the same samples, the second time read by the Festival
    process the first gave back, whatever else it read in between."""
    from songwright.singer.hts import Festival
    from songwright.singer.synthesis import sing

    plan, score = _composed(LYRICS[0], "slt")
    part = score.part("vocals")
    first = sing(part, plan, plan.sample_rate, plan.total_samples)
    kept = [festival.process.pid for festival in Festival._kept]
    other_plan, other_score = _composed(LYRICS[1], "slt")
    sing(other_score.part("vocals"), other_plan, other_plan.sample_rate, other_plan.total_samples)
    second = sing(part, plan, plan.sample_rate, plan.total_samples)
    assert kept and [festival.process.pid for festival in Festival._kept] == kept  # the same process, kept
    assert np.abs(first).max() > 0.05 and np.array_equal(first, second)


@slt_installed
def test_a_forked_child_does_not_lend_its_parents_festival():
    """A worker forked from a process that keeps Festival (RQ forks a process per job) must not
    write into the parent's Festival: their pipes are shared."""
    import os

    from songwright.singer.hts import Festival

    Festival.lend().give_back()
    parents = {festival.process.pid for festival in Festival._kept}
    assert parents
    child = os.fork()
    if child == 0:  # the child: nothing kept, and a process of its own when it asks
        code = 1
        try:
            kept_here = list(Festival._kept)
            lent = Festival.lend()
            code = 0 if not kept_here and lent.process.pid not in parents else 1
            lent.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert {festival.process.pid for festival in Festival._kept} == parents  # the parent's still kept, untouched


@slt_installed
def test_a_kept_festival_that_has_stopped_is_not_lent_again():
    from songwright.singer.hts import Festival

    reader = Festival.lend()
    reader.give_back()
    reader.process.kill()
    reader.process.wait()
    lent = Festival.lend()
    try:
        assert lent is not reader and lent.process.poll() is None
    finally:
        lent.close()


@slt_installed
def test_a_rapped_verse_keeps_the_voices_speaking_melody_at_the_lines_register(monkeypatch):
    """A rapped line (hip-hop's verse) is said with the HTS voice's own intonation, moved to the
    written notes' register, not pitched note by note: each syllable's pitch moves away from its
    written note (median 230 cents here) while the line stays in its register; the same notes
    sung as notes are within 20 cents."""
    from songwright.singer import hts
    from songwright.singer.synthesis import rapped_bars, sing

    entry = next(e for e in LYRICS if e["tags"].startswith("hip-hop"))
    plan, score = _composed(entry, "sltm")
    part = score.part("vocals")
    rapped = rapped_bars(plan)
    timings = vm.note_timings([n for n in part.notes if n.bar in rapped], plan.seconds_per_beat)
    assert len(timings) >= 12

    def errors_cents(dry: np.ndarray) -> np.ndarray:
        times, f0, _ = vm.f0_track(dry.T, plan.sample_rate)
        out = []
        for t in timings:
            inside = (times >= t.start_s) & (times < t.vowel_end_s) & (f0 > 0)
            if inside.sum() >= 4:
                out.append(np.median(1200 * np.log2(f0[inside] / vm.midi_hz(t.pitch))))
        return np.asarray(out)

    spoken = errors_cents(sing(part, plan, plan.sample_rate, plan.total_samples))
    render = hts.render_hts_line  # the same line with no section rapped: sung note by note
    monkeypatch.setattr(hts, "render_hts_line", lambda *args, **kwargs: render(*args, **kwargs | {"spoken_bars": frozenset()}))
    noted = errors_cents(sing(part, plan, plan.sample_rate, plan.total_samples))
    assert np.median(np.abs(noted)) <= 20, noted
    assert np.median(np.abs(spoken)) >= 100, spoken
    assert abs(np.median(spoken)) <= 200, spoken


def test_hts_phones_are_timed_by_the_notes_and_a_misread_line_is_refused():
    """Onset consonants just before the note, the vowel on it, the coda at its end; a line Festival
    reads as another number of words than the melody has is not timed (its MBROLA twin sings it)."""
    from songwright.score import Note
    from songwright.singer.hts import LEAD_IN_S, Phone, time_line

    def phones():
        return [Phone("pau", False, "0", "0", 0.2), Phone("s", False, "_1", "_2", 0.09),
                Phone("ih", True, "_1", "_2", 0.08), Phone("ng", False, "_1", "_2", 0.07), Phone("pau", False, "0", "0", 0.2)]

    sing = [Note(4.0, 2.0, 67, 90, "sing", word_start=True, line=0)]
    line = time_line(0, "sing", phones(), [[(0, sing[0])]], 0.5)
    vowel = next(p for p in line.phones if p.vowel)
    assert line.origin_s == pytest.approx(2.0 - LEAD_IN_S)
    assert vowel.target[0] == pytest.approx(LEAD_IN_S) and vowel.note == 0  # on the beat (2.0 s on the song's clock)
    assert line.phones[1].target == pytest.approx((LEAD_IN_S - 0.09, LEAD_IN_S))  # s before it
    assert line.phones[3].target[1] == pytest.approx(LEAD_IN_S + 1.0)  # ng ends with the note
    assert all(b > a for a, b in zip(line.ends_s, line.ends_s[1:]))
    two_words = [[(0, Note(4.0, 1.0, 67, 90, "sing", word_start=True, line=0))],
                 [(1, Note(5.0, 1.0, 67, 90, "on", word_start=True, line=0))]]
    assert time_line(0, "sing", phones(), two_words, 0.5) is None
    # sung legato ("you said"): the onset s takes its time from the end of the vowel before it
    legato = [Phone("pau", False, "0", "0", 0.2), Phone("y", False, "_1", "_2", 0.06), Phone("uw", True, "_1", "_2", 0.1),
              Phone("s", False, "_3", "_4", 0.1), Phone("eh", True, "_3", "_4", 0.08), Phone("d", False, "_3", "_4", 0.05),
              Phone("pau", False, "0", "0", 0.2)]
    notes = [[(0, Note(4.0, 1.0, 67, 90, "you", word_start=True, line=0))], [(1, Note(5.0, 1.0, 69, 90, "said", word_start=True, line=0))]]
    line = time_line(0, "you said", legato, notes, 0.5)
    uw, s, eh = line.phones[2], line.phones[3], line.phones[4]
    assert eh.target[0] == pytest.approx(LEAD_IN_S + 0.5)  # on its beat, not pushed late
    assert s.target == pytest.approx((LEAD_IN_S + 0.4, LEAD_IN_S + 0.5)) and uw.target[1] == pytest.approx(LEAD_IN_S + 0.4)


@slt_installed
def test_festival_stopping_midway_is_an_error_not_a_hang():
    """The singer waits for Festival after each round of lines; if Festival exits instead, the song
    fails with a RenderError that says so (the server reports it) rather than waiting forever."""
    from songwright.errors import RenderError
    from songwright.singer.hts import Festival

    reader = Festival()
    try:
        with pytest.raises(RenderError, match="festival stopped"):
            reader.run(["(quit)\n"])
    finally:
        reader.close()
