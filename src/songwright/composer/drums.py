"""Drums from the style's grid patterns, with an intro build, fills and crashes."""

from __future__ import annotations

from ..plan import Plan
from ..score import Part
from ..styles import load_styles
from .common import Bar

LANES = {"kick": 36, "snare": 38, "clap": 39, "rim": 37, "hat": 42, "ohat": 46, "phat": 44, "ride": 51,
         "crash": 49, "tom": 45, "tom_hi": 50, "tom_mid": 47, "tom_lo": 43, "tamb": 54, "shaker": 70}
VELOCITY = {"X": 118, "x": 96, "o": 66, "g": 42}


def pattern_name(plan: Plan, bar: Bar) -> str:
    """Which grid this bar plays; "none" for silence."""
    kind = bar.section.kind
    if plan.time_signature == "3/4":
        return "waltz" if kind not in ("break",) else "none"
    if plan.time_signature == "6/8":
        return "six_eight" if kind not in ("break",) else "none"
    names = plan.style.drum_patterns
    slot = {"intro": "intro", "chorus": "chorus", "hook": "chorus", "solo": "chorus", "inst": "chorus"}.get(kind, "verse")
    if kind == "break":
        return "none"
    if kind == "outro":
        slot = "chorus" if bar.position < bar.section.bars // 2 else "verse"
    return names.get(slot, names["verse"])


KICK_VARIANTS = ("", "push", "double")  # as written; the last kick an 8th early; an extra kick on the & of 2
TIME_LANES = ("hat", "shaker", "ride", "tamb")
GHOST_LANES = ("snare", "rim", "clap")


def groove_variant(lanes: dict[str, str], *, kick: str, open_hat: bool, ghosts: bool) -> dict[str, str]:
    """One of a genre's grooves: its written grid with the kick pushed or doubled, the time-keeper
    opened on the & of 4, and ghost notes around the backbeat (12 grooves per grid)."""
    lanes = dict(lanes)
    steps = len(next(iter(lanes.values())))
    if "kick" in lanes:
        row = list(lanes["kick"])
        hits = [i for i, c in enumerate(row) if c != "."]
        if kick == "push" and len(hits) >= 2 and hits[-1] >= 2 and row[hits[-1] - 2] == ".":
            row[hits[-1] - 2], row[hits[-1]] = row[hits[-1]], "."
        elif kick == "double" and steps == 16:
            free = [step for step in (6, 14, 10, 3) if row[step] == "."]
            if free:
                row[free[0]] = "o"
        lanes["kick"] = "".join(row)
    if open_hat:
        time = next((lane for lane in TIME_LANES if lane in lanes), None)
        if steps >= 16:
            if time is not None:
                row = list(lanes[time])
                row[14] = "."
                lanes[time] = "".join(row)
            ohat = list(lanes.get("ohat", "." * steps))
            ohat[14] = "x"
            lanes["ohat"] = "".join(ohat)
    if ghosts:
        lane = next((lane for lane in GHOST_LANES if lane in lanes), "rim")
        row = list(lanes.get(lane, "." * steps))
        free = [step for step in ((7, 9, 15, 3) if steps == 16 else (5, 11)) if step < steps and row[step] == "."]
        for step in free[:2]:
            row[step] = "g"
        lanes[lane] = "".join(row)
    return lanes


def write_drums(part: Part, plan: Plan, bars: list[Bar]) -> None:
    grids = load_styles()["drums"]
    following = {id(s): n.kind for s, n in zip(plan.sections, plan.sections[1:])}
    for bar in bars:
        name = pattern_name(plan, bar)
        if _builds(plan, bar, following.get(id(bar.section))):
            _build(part, bar, grids[plan.style.drum_patterns.get("verse", "four_floor")])
            continue
        if name == "none":
            continue
        choice = bar.streams.rng("groove", name)  # the song's groove for this grid, the same in every bar
        lanes = groove_variant(grids[name], kick=KICK_VARIANTS[int(choice.integers(len(KICK_VARIANTS)))],
                               open_hat=bool(choice.random() < 0.5), ghosts=bool(choice.random() < 0.5))
        if bar.section.kind == "intro":
            lanes = _intro_lanes(lanes, bar)
            if not lanes:
                continue
        if bar.section.kind == "outro" and bar.section.bars - bar.position <= 2:
            lanes = {k: v for k, v in lanes.items() if k in ("kick", "hat", "ride", "shaker", "rim")}
        fill = bar.last_in_section and bar.section.bars >= 2 and bar.section.kind not in ("outro",)
        fill_from = bar.steps - (8 if bar.energy > 0.95 else 4) if fill else bar.steps
        roll = not fill and name in ROLL_GRIDS and bar.position % 4 == 3 and bar.steps == 16
        for lane, row in lanes.items():
            for step, char in enumerate(_this_bar(row, bar)):
                if char == "." or step >= fill_from and lane not in ("kick",) or roll and lane == "hat" and step >= 12:
                    continue
                part.add(bar.at(step), 0.25, LANES[lane], bar.velocity(VELOCITY[char]))
        if fill:
            _fill(part, bar, fill_from)
        elif roll:
            _hat_roll(part, bar)
        if bar.position == 0 and bar.section.kind in ("chorus", "hook", "solo", "inst", "bridge", "outro") and bar.index > 0:
            part.add(bar.start, 1.0, LANES["crash"], bar.velocity(110))
    _final_hit(part, plan)


def _this_bar(row: str, bar: Bar) -> str:
    """The steps of a grid row this bar plays: a row of two bars' steps alternates its halves."""
    if len(row) >= 2 * bar.steps:
        return row[bar.position % 2 * bar.steps:][:bar.steps]
    return row[:bar.steps]


def _intro_lanes(lanes: dict[str, str], bar: Bar) -> dict[str, str]:
    """The drums come in through the intro: nothing, then time-keeping only, then the groove."""
    bars = bar.section.bars
    if bars >= 4 and bar.position < bars // 4:
        return {}
    if bar.position < bars // 2:
        keep = {k: v for k, v in lanes.items() if k in ("hat", "ohat", "ride", "shaker", "phat", "tamb")}
        return keep or {k: v for k, v in lanes.items() if k == "kick"}
    return lanes


ROLL_GRIDS = {"trap"}  # grids whose hats roll at the end of every fourth bar
BUILD_GRIDS = {"four_floor"}  # grooves whose songs build up to every chorus and drop into it
BUILD_BARS = 2


def _builds(plan: Plan, bar: Bar, next_kind: str | None) -> bool:
    """The last two bars before a chorus, in a song whose groove builds and drops (EDM)."""
    return (plan.time_signature == "4/4" and plan.style.drum_patterns.get("verse") in BUILD_GRIDS
            and next_kind in ("chorus", "hook") and bar.section.kind != "intro"
            and bar.section.bars - bar.position <= BUILD_BARS)


def _build(part: Part, bar: Bar, grid: dict[str, str]) -> None:
    """The build: the kick and hats go on while a snare roll doubles its speed, 8ths, then 16ths,
    then 32nds, rising; the kick stops in the last bar, and the last 8th before the chorus is
    silent, so the chorus (its crash and kick on the one) drops in."""
    last = bar.last_in_section
    if not last:
        for lane in ("kick", "hat", "ohat"):
            for step, char in enumerate(grid.get(lane, "")[: bar.steps]):
                if char != ".":
                    part.add(bar.at(step), 0.25, LANES[lane], bar.velocity(VELOCITY[char] - 10))
        for i, step in enumerate(range(0, bar.steps, 2)):  # 8ths
            part.add(bar.at(step), 0.25, LANES["snare"], bar.velocity(50 + 30 * i // 8))
        return
    hits = [step * 1.0 for step in range(0, 8)] + [8 + k * 0.5 for k in range(12)]  # 16ths, then 32nds to the & of 4
    for i, step in enumerate(hits):
        part.add(bar.at(step), 0.125, LANES["snare"], bar.velocity(80 + 40 * i // len(hits)))


def _hat_roll(part: Part, bar: Bar) -> None:
    """A trap hat roll on the last beat of a 4-bar phrase: 32nds, or 16th triplets, rising."""
    rng = bar.rng("drums")
    division = 8 if rng.random() < 0.5 else 6  # 32nds or 16th-note triplets
    start = bar.start + bar.beats - 1
    for i in range(division):
        part.add(start + i / division, 0.5 / division, LANES["hat"], bar.velocity(60 + 40 * i // division))


def _fill(part: Part, bar: Bar, start_step: int) -> None:
    toms = [LANES["tom_hi"], LANES["tom_mid"], LANES["tom_lo"], LANES["tom"]]
    span = bar.steps - start_step
    style = int(bar.rng("drums").integers(3))
    for i, step in enumerate(range(start_step, bar.steps)):
        if style == 0:  # snare roll, growing
            lane, velocity = LANES["snare"], 60 + 50 * i // max(1, span - 1)
        elif style == 1:  # tom run down
            lane, velocity = toms[min(3, i * 4 // span)], 96
        else:  # snare and toms in eighths
            if i % 2:
                continue
            lane, velocity = (LANES["snare"] if i % 4 == 0 else toms[min(3, i * 4 // span)]), 100
        part.add(bar.at(step), 0.25, lane, bar.velocity(velocity))


def _final_hit(part: Part, plan: Plan) -> None:
    beat = plan.ending_beat
    part.add(beat, 2.0, LANES["kick"], 110)
    part.add(beat, 4.0, LANES["crash"], 112)
