"""Chord charts followed, measured from the audio: for each chart of CHARTS, an instrumental song is
made, each chart bar's chords recognised from the harmony stems (songwright.audio.chord_metrics)
and each chord span's lowest bass note read from the bass stem; prints every chart's figures, its
misses, and the totals.

    python benchmarks/bench_charts.py
"""

from __future__ import annotations

import songwright as sw
from songwright.audio.chord_metrics import bass_agreement, chord_agreement

# (name, tags, chart, request fields): pop, minor, jazz ii-V-I with sevenths, blues, two chords per
# bar, slash chords, roman numerals, 3/4, beats held with '.', 6/8, the issue's own chart, m7 reggae,
# metal (power chords must still voice the written quality).
CHARTS = [
    ("pop", "pop", "| C | G | Am | F |", {"key": "C major"}),
    ("minor pop", "pop, sad", "key: A minor\n| Am | F | C | G |", {}),
    ("jazz ii-V-I", "jazz", "| Dm7 | G7 | Cmaj7 | Cmaj7 |\n| Em7 | A7 | Dm7 G7 | Cmaj7 |", {}),
    ("12-bar blues", "blues", "| A7 | D7 | A7 | A7 |\n| D7 | D7 | A7 | A7 |\n| E7 | D7 | A7 | E7 |",
     {"duration_s": 50}),
    ("two per bar", "rock", "| C G | Am F | Dm G | C C7 |", {}),
    ("slash chords", "pop, ballad", "| C | C/B | Am | Am/G |\n| F | F/E | Dm | G/B |", {}),
    ("roman numerals", "funk", "key: D major\n| I | vi | IV | V |\n| ii7 | V7 | I | I |", {}),
    ("waltz", "folk", "| C | F | G7 | C |", {"time_signature": "3/4"}),
    ("held beats", "blues, rock", "| E7 . . A7 | E7 . . . | B7 . A7 . | E7 . . . |", {}),
    ("6/8", "folk, romantic", "| G | Em | C D | G |", {"time_signature": "6/8"}),
    ("the issue's chart", "pop", "key: A minor\n[verse]\n| Am | F | C G | E7 |\n| Am . . . | F . . . | C . G . | G |\n"
     "[chorus]\n| vi | IV | I | V |\n| F G | Em Am | Dm7 | E7sus4 E7 |\n| % | N.C. | Am/E | Am |", {"duration_s": 70}),
    ("reggae m7", "reggae", "| Am7 | Dm7 | Em7 | Am7 |", {}),
    ("metal", "metal", "| Em | C | D | B7 |", {}),
]


def measure(tags: str, chart: str, fields: dict, seed: int = 1) -> tuple[tuple, tuple, sw.Song]:
    request = sw.SongRequest(tags=tags, chords=chart, instrumental=True, seed=seed,
                             **({"duration_s": 36} | fields))
    song = sw.generate(request)
    return chord_agreement(song), bass_agreement(song), song


def main() -> None:
    totals = [0, 0, 0, 0]
    for name, tags, chart, fields in CHARTS:
        (good, bars, misses), (bass_good, spans, bass_misses), song = measure(tags, chart, fields)
        totals = [totals[0] + good, totals[1] + bars, totals[2] + bass_good, totals[3] + spans]
        print(f"{name:18s} {tags:16s} {song.plan.tempo_bpm:5.0f} BPM  chords {good}/{bars} bars  bass {bass_good}/{spans} spans")
        for miss in misses + bass_misses:
            print("    " + miss)
    print(f"total: chords {totals[0]}/{totals[1]} bars ({100 * totals[0] / totals[1]:.1f} %), "
          f"bass {totals[2]}/{totals[3]} spans ({100 * totals[2] / totals[3]:.1f} %) over {len(CHARTS)} charts")


if __name__ == "__main__":
    main()
