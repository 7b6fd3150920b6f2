"""Property-based tests (hypothesis) for edits as a client sends them: any fields, applied to the
notes of a song (no audio). Every edit either applies, leaving every note outside what it changes
where it was, or is refused with an InvalidRequest naming a field; nothing else escapes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import songwright as sw
from songwright.edits import EDITS, apply, check_edit, edit_from_fields
from songwright.errors import InvalidRequest
from songwright.stages import composed

BOUNDED = dict(deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])
SONG = sw.SongRequest(tags="pop, female vocal", duration_s=30, seed=4,
                      lyrics="[verse]\nMorning light on the window pane\n[chorus]\nSing it loud, sing it clear")
FIELD_NAMES = ("section", "bars", "seed", "keep_chords", "start_s", "end_s", "duration_s", "lyrics", "line", "text",
               "key", "tempo_bpm", "voice", "tags", "time_signature", "before", "colour")

values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**33), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["chorus", "verse 2", "chorus:1", "3", "intro", "17-24", "2-1", "x", "", "D major", "H minor",
                     "us2", "zz9", "+strings, -guitar", "-drums", "+kazoo", "3/4", "4/4", "la la la",
                     "[verse] new words", "line\nbreak"]),
    st.text(max_size=30), st.lists(st.integers(-3, 40), max_size=3),
)
fields = st.fixed_dictionaries({"verb": st.sampled_from([*EDITS, "nope", None])},
                               optional={name: values for name in FIELD_NAMES})


@pytest.fixture(scope="module")
def song():
    return composed(SONG.validate())


@settings(max_examples=150, **BOUNDED)
@given(fields)
def test_any_edit_fields_apply_or_are_refused_naming_a_field(song, fields):
    prepared, plan, score = song
    try:
        edit = check_edit(edit_from_fields(fields))
        change = apply(edit, prepared, plan, score)
    except InvalidRequest as error:
        assert error.field and str(error).startswith(error.field + ":")
        return
    assert change.score.parts and change.plan.content_bars >= 2
    if edit["verb"] in ("retake", "repaint"):
        taken = set(change.plan.takes)
        for part in score.parts:
            outside = [(n.start_beats, n.pitch) for n in part.notes if n.bar not in taken]
            new = change.score.part(part.name)
            assert outside == [(n.start_beats, n.pitch) for n in (new.notes if new else []) if n.bar not in taken]
