"""Song-craft benchmark: what a producer hears first, read from the Score (no audio).

    PYTHONPATH=src python3 benchmarks/bench_songcraft.py [--seeds 1 2 3] [--groove-seeds 8]

For every genre, over the seeds, with lyrics (170 s) and without (120 s), it prints:

  alike   identical lyric lines inside one chorus sung to the same notes (share of pairs; the song's
          very last note, which resolves, left out)
  simil   interval similarity of the lines of one chorus (1 = the same tune)
  lift    chorus mean pitch minus verse mean pitch (semitones)
  peak    songs whose chorus peak is above the verse peak
  keep    notes of the song's last line equal to that line in the first chorus
  stress  English words of 2+ syllables with an unstressed syllable on a stronger beat than the stressed one
  iso     phrases whose notes are all one length
  fast    phrases with 16ths or triplets
  clash   melody notes a semitone against a chord tone sounding under them (vocals; the lead without lyrics)
  endct   songs whose last sung note is a tone of the chord under it
  form    sections of 2, 4, 8, 12 or 16 bars
  loops   body sections that play whole chord loops
  chor    choruses per vocal song
Then, across genres: distinct keys for each seed over the 19 genres, and distinct drum grooves per
genre over --groove-seeds seeds.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import songwright as sw  # noqa: E402
from songwright.lyrics import syllable_stress  # noqa: E402
from songwright.stages import score_of  # noqa: E402
from songwright.styles import load_styles  # noqa: E402

LYRICS = """[Verse 1]
I walked along the river in the evening light
A promise in my pocket and a fire in my eyes
The city kept on sleeping while the engines hummed
Tomorrow was a window and I wanted to run
[Chorus]
Don't let the night take you down
Hold on to me when the morning comes
Don't let the night take you down
Hold on to me when the morning comes
[Verse 2]
The money never mattered and the traffic never stopped
Remember every shadow on the station clock
Believe me when I tell you that the summer will return
Another empty corner where the candles burn
[Chorus]
Don't let the night take you down
Hold on to me when the morning comes
Don't let the night take you down
Hold on to me when the morning comes
[Bridge]
And every open highway sings a different song
Beneath the silver water we were never wrong
[Chorus]
Don't let the night take you down
Hold on to me when the morning comes
Don't let the night take you down
Hold on to me when the morning comes
"""
VOCAL_S, INSTRUMENTAL_S = 170, 120
GOOD_BARS = {2, 4, 8, 12, 16}


def genres() -> list[str]:
    return sorted(load_styles()["genre"])


def unswing(beat: float, swing: float) -> float:
    """The written position of a swung and humanised onset: back onto the 16th or triplet grid."""
    whole = np.floor(beat + 0.02)
    frac = beat - whole
    if swing >= 0.5:
        moved = {swing / 2: 0.25, swing: 0.5, swing + (1 - swing) / 2: 0.75}
    elif swing > 0:
        moved = {0.25 + swing * 0.25: 0.25, 0.75 + swing * 0.25: 0.75}
    else:
        moved = {}
    grid = {**{x: x for x in (0.0, 0.25, 0.5, 0.75, 1.0, 1 / 3, 2 / 3)}, **moved}
    nearest = min(grid, key=lambda g: abs(frac - g))
    return float(whole + grid[nearest])


def metric_weight(beat: float, beats_per_bar: int) -> int:
    """4 the downbeat, 3 the bar's middle beat, 2 other beats, 1 off-beat 8ths, 0 the rest."""
    position = beat % beats_per_bar
    if abs(position) < 1e-6 or abs(position - beats_per_bar) < 1e-6:
        return 4
    if beats_per_bar == 4 and abs(position - 2) < 1e-6:
        return 3
    if abs(position - round(position)) < 1e-6:
        return 2
    if abs(position * 2 - round(position * 2)) < 1e-6:
        return 1
    return 0


def sung_lines(plan, score, swing):
    """[(section, line index, text, [(onset, duration, pitch)])] of the vocal part, in order."""
    vocals = score.part("vocals")
    if vocals is None:
        return []
    notes = sorted(vocals.notes, key=lambda n: n.start_beats)
    lines, at = [], 0
    for section in plan.sections:
        for i, phrase in enumerate(section.phrases):
            count = phrase.syllable_count
            chunk = notes[at: at + count]
            at += count
            lines.append((section, i, phrase, [(unswing(n.start_beats, swing), n.duration_beats, n.pitch) for n in chunk]))
    return lines


def lead_notes(score, swing):
    part = score.part("lead")
    return [] if part is None else [(unswing(n.start_beats, swing), n.duration_beats, n.pitch) for n in part.notes]


def chord_under(plan, beat: float):
    """The chord sounding at a beat (a bar may hold two: a chart's, a turnaround)."""
    return plan.chord_at_beat(beat + 1e-6)


def clashes(plan, notes) -> tuple[int, int]:
    bad = 0
    for onset, _, pitch in notes:
        pcs = set(chord_under(plan, onset).pitch_classes())
        pc = pitch % 12
        if pc not in pcs and any((pc - c) % 12 in (1, 11) for c in pcs):
            bad += 1
    return bad, len(notes)


def similarity(a: list[int], b: list[int]) -> float:
    ia, ib = np.diff(a), np.diff(b)
    n = max(len(ia), len(ib))
    if n == 0:
        return 1.0
    return float(sum(x == y for x, y in zip(ia, ib)) / n)


def stress_faults(plan, lines) -> tuple[int, int]:
    bad = total = 0
    for _, _, phrase, tones in lines:
        at = 0
        for word in phrase.words:
            n = len(word.syllables)
            here = tones[at: at + n]
            at += n
            if word.language != "en" or n < 2 or len(here) < n:
                continue
            stress = syllable_stress(word)
            if all(stress) or not any(stress):
                continue
            weights = [metric_weight(t[0], plan.beats_per_bar) for t in here]
            strong = max(w for w, s in zip(weights, stress) if s)
            weak = max(w for w, s in zip(weights, stress) if not s)
            total += 1
            bad += weak > strong
    return bad, total


def section_form(plan) -> tuple[int, int, int, int]:
    good = sum(s.bars in GOOD_BARS for s in plan.sections)
    body = [s for s in plan.sections if s.kind not in ("intro", "outro") and s is not plan.sections[-1]]
    whole = 0
    for s in body:
        names = [c.symbol for c in s.chords]
        period = next(p for p in range(1, len(names) + 1) if all(names[i] == names[i + p] for i in range(len(names) - p)))
        whole += len(names) % period == 0
    return good, len(plan.sections), whole, len(body)


def drum_groove(score, plan) -> tuple:
    """The song's most played drum bar (onsets on the 16th grid, without fills and crashes)."""
    drums = score.part("drums")
    bars: dict[int, set] = {}
    for note in drums.notes if drums else []:
        if note.pitch == 49 or note.start_beats >= plan.ending_beat:
            continue
        beat = unswing(note.start_beats, plan.style.swing)
        bar = int(beat // plan.beats_per_bar)
        bars.setdefault(bar, set()).add((round((beat % plan.beats_per_bar) * 4), note.pitch))
    counts = Counter(frozenset(v) for v in bars.values())
    return tuple(sorted(counts.most_common(1)[0][0])) if counts else ()


def measure(genre: str, seed: int, vocal: bool, duration_s: float | None = None) -> dict:
    duration_s = duration_s or (VOCAL_S if vocal else INSTRUMENTAL_S)
    request = sw.SongRequest(tags=genre, lyrics=LYRICS if vocal else "", duration_s=duration_s, seed=seed)
    plan, score = score_of(request)
    swing = plan.style.swing
    m: dict = {"key": plan.key.name, "groove": drum_groove(score, plan)}
    m["form"], m["sections"], m["loops"], m["body"] = section_form(plan)
    if not vocal:
        m["clash"] = clashes(plan, lead_notes(score, swing))
        return m
    lines = sung_lines(plan, score, swing)
    m["clash"] = clashes(plan, [t for *_, tones in lines for t in tones])
    choruses = [s for s in plan.sections if s.kind in ("chorus", "hook") and s.phrases]
    verses = [s for s in plan.sections if s.kind == "verse" and s.phrases]
    pitches = lambda kind_sections: [t[2] for sec, _, _, tones in lines if sec in kind_sections for t in tones]  # noqa: E731
    chorus_p, verse_p = pitches(choruses), pitches(verses)
    m["lift"] = float(np.mean(chorus_p) - np.mean(verse_p)) if chorus_p and verse_p else float("nan")
    m["peak"] = bool(chorus_p and verse_p and max(chorus_p) > max(verse_p))
    alike = pairs = 0
    sims = []
    for sec in choruses:
        here = [(phrase.text.lower(), [t[2] for t in tones], [round(t[0] - sec.start_bar * plan.beats_per_bar, 3) for t in tones])
                for s, _, phrase, tones in lines if s is sec]
        for i in range(len(here)):
            for j in range(i + 1, len(here)):
                if here[i][0] == here[j][0]:
                    pairs += 1
                    song_end = sec is choruses[-1] and j == len(here) - 1 and lines[-1][0] is sec
                    cut = -1 if song_end else None  # the song's last note resolves, the rest is the same tune
                    alike += here[i][1][:cut] == here[j][1][:cut]
        sims += [similarity(here[0][1], h[1]) for h in here[1:] if h[0] != here[0][0]]
    m["alike"], m["pairs"], m["simil"] = alike, pairs, sims
    last = lines[-1]
    first = next(((s, i, p, t) for s, i, p, t in lines if s.kind == last[0].kind and i == last[1]), None)
    if first is not None and first is not last and first[2].text == last[2].text:
        a, b = [t[2] for t in first[3]], [t[2] for t in last[3]]
        m["keep"] = sum(x == y for x, y in zip(a, b)) / max(len(a), 1)
    m["stress"] = stress_faults(plan, lines)
    phrases = [tones for *_, tones in lines if len(tones) > 2]
    ioi = [np.round(np.diff([t[0] for t in tones]), 3) for tones in phrases]
    m["iso"] = (sum(len(set(x)) == 1 for x in ioi), len(ioi))
    m["fast"] = (sum(any(d < 0.5 - 1e-6 or abs(d * 3 - round(d * 3)) < 1e-6 and abs(d - round(d)) > 1e-6
                         for d in x) for x in ioi), len(ioi))
    end_onset, _, end_pitch = lines[-1][3][-1]
    m["endct"] = end_pitch % 12 in chord_under(plan, end_onset).pitch_classes()
    m["choruses"] = len(choruses)
    return m


def ratio_parts(pairs) -> tuple[int, int]:
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


def ratio(pairs) -> float:
    a, b = ratio_parts(pairs)
    return a / b if b else float("nan")


def run(seeds: list[int], groove_seeds: int) -> dict:
    table = {}
    print(f"{'genre':11s} {'alike':>5s} {'simil':>5s} {'lift':>5s} {'peak':>5s} {'keep':>5s} {'stress':>6s} {'iso':>5s} "
          f"{'fast':>5s} {'clash':>5s} {'iclsh':>5s} {'endct':>5s} {'form':>5s} {'loops':>5s} {'chor':>4s}")
    totals: dict[str, list] = {}
    for genre in genres():
        voc = [measure(genre, s, True) for s in seeds]
        ins = [measure(genre, s, False) for s in seeds]
        keeps = [m["keep"] for m in voc if "keep" in m]
        row = {
            "alike": ratio([(m["alike"], m["pairs"]) for m in voc]),
            "simil": float(np.mean([x for m in voc for x in m["simil"]] or [np.nan])),
            "lift": float(np.mean([m["lift"] for m in voc])),
            "peak": float(np.mean([m["peak"] for m in voc])),
            "keep": float(np.mean(keeps)) if keeps else float("nan"),
            "stress": ratio([m["stress"] for m in voc]),
            "iso": ratio([m["iso"] for m in voc]),
            "fast": ratio([m["fast"] for m in voc]),
            "clash": ratio([m["clash"] for m in voc]),
            "iclash": ratio([m["clash"] for m in ins]),
            "endct": float(np.mean([m["endct"] for m in voc])),
            "form": ratio([(m["form"], m["sections"]) for m in voc + ins]),
            "loops": ratio([(m["loops"], m["body"]) for m in voc + ins]),
            "chor": float(np.mean([m["choruses"] for m in voc])),
        }
        table[genre] = row
        for k, v in row.items():
            totals.setdefault(k, []).append(v)
        print(f"{genre:11s} {row['alike']:5.2f} {row['simil']:5.2f} {row['lift']:+5.1f} {row['peak']:5.2f} {row['keep']:5.2f} "
              f"{row['stress']:6.1%} {row['iso']:5.0%} {row['fast']:5.0%} {row['clash']:5.1%} {row['iclash']:5.1%} "
              f"{row['endct']:5.2f} {row['form']:5.0%} {row['loops']:5.0%} {row['chor']:4.1f}")
    mean = {k: float(np.nanmean(v)) for k, v in totals.items()}
    print(f"{'ALL':11s} {mean['alike']:5.2f} {mean['simil']:5.2f} {mean['lift']:+5.1f} {mean['peak']:5.2f} {mean['keep']:5.2f} "
          f"{mean['stress']:6.1%} {mean['iso']:5.0%} {mean['fast']:5.0%} {mean['clash']:5.1%} {mean['iclash']:5.1%} "
          f"{mean['endct']:5.2f} {mean['form']:5.0%} {mean['loops']:5.0%} {mean['chor']:4.1f}")
    keys = {seed: len({measure(g, seed, False)["key"] for g in genres()}) for seed in seeds}
    print("distinct keys over the 19 genres, per seed:", keys)
    grooves = {g: len({measure(g, s, False)["groove"] for s in range(groove_seeds)}) for g in genres()}
    print(f"distinct drum grooves over {groove_seeds} seeds, per genre:", grooves, "min", min(grooves.values()))
    return {"table": table, "mean": mean, "keys": keys, "grooves": grooves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--groove-seeds", type=int, default=8)
    args = parser.parse_args()
    run(args.seeds, args.groove_seeds)


if __name__ == "__main__":
    main()
