"""Chord voicings with smooth voice leading."""

from __future__ import annotations

from ..theory import Chord, nearest_pitch


def close_voicing(chord: Chord, center: int, notes: int = 4, previous: list[int] | None = None) -> list[int]:
    """`notes` chord tones stacked upwards near `center`, the inversion closest to `previous`."""
    pcs = list(chord.pitch_classes())
    if len(pcs) > notes:  # drop the fifth first, then the root, keep the colour tones
        for drop in (7, 0):
            pc = (chord.root_pc + drop) % 12
            if len(pcs) > notes and pc in pcs:
                pcs.remove(pc)
    candidates = []
    for rotation in range(len(pcs)):
        order = pcs[rotation:] + pcs[:rotation]
        for base in (center - 7, center - 2, center + 3):
            voicing = [nearest_pitch(order[0], base)]
            for pc in order[1:]:
                nxt = voicing[-1] + ((pc - voicing[-1]) % 12 or 12)
                voicing.append(nxt)
            while len(voicing) < notes:
                voicing.append(voicing[len(voicing) - len(pcs)] + 12)
            candidates.append(voicing)
    reference = previous or [center - 4, center, center + 4, center + 7][:notes]

    def distance(v: list[int]) -> float:
        spread = abs(sum(v) / len(v) - center) * 0.6
        leading = sum(min(abs(p - q) for q in reference) for p in v)
        return leading + spread

    return min(candidates, key=distance)


def guitar_voicing(chord: Chord, low: int = 40) -> list[int]:
    """A six-string-like open voicing: root low, then fifth, octave, third, fifth, colour."""
    root = nearest_pitch(chord.root_pc, low + 5)
    if root < low:
        root += 12
    tones = {root + i for i in chord.intervals} | {root + 12}
    if 7 in chord.intervals:
        tones.add(root + 19)
    return sorted(tones)[:6]


def power_voicing(chord: Chord, low: int = 40) -> list[int]:
    root = nearest_pitch(chord.root_pc, low + 5)
    if root < low:
        root += 12
    return [root, root + 7, root + 12]


def bass_root(chord: Chord, center: int = 40) -> int:
    """The bass note nearest `center`: the slash bass of a slash chord, else the root."""
    return nearest_pitch(chord.bass, center)
