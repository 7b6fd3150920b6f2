"""The job runner: an edit of a song this worker has just made, or of one whose files are stored,
renders the edit's window only, and writes the same files, byte for byte, as an edit made whole
from the source's request."""

import hashlib

from songwright.engines import default_engine
from songwright.server import runner
from songwright.server.results import Results

LYRICS = "[verse]\nMorning light on the window pane\n[chorus]\nSing it loud, sing it clear\n"
REQUEST = {"tags": "pop, female vocal", "lyrics": LYRICS, "duration_s": 20, "seed": 4}
RETAKE = {"verb": "retake", "section": "chorus", "bars": None, "seed": 2, "keep_chords": False}


def _files(results: Results, job_id: str) -> dict[str, str]:
    folder = results.folder(job_id)
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_an_edit_of_a_song_just_made_writes_what_making_it_from_its_request_writes(tmp_path, monkeypatch):
    results = Results(tmp_path)
    engines = {"composer": default_engine("composer")}
    calls = {"make": 0}
    run = dict(engines=engines, results=results, progress=lambda stage, fraction: None, cancel=lambda: False)
    runner.run_job("a" * 16, REQUEST, **run)
    edit = {"source": "a" * 16, "song": REQUEST, "edits": [RETAKE]}

    from songwright import edits

    make = edits.make

    def counted(*args, **kwargs):
        calls["make"] += 1
        calls["spliced"] = kwargs.get("source") is not None
        return make(*args, **kwargs)

    monkeypatch.setattr(edits, "make", counted)
    runner.run_job("b" * 16, edit, **run)  # from the song kept in hand
    assert calls["make"] == 0
    monkeypatch.setattr(runner, "_recent", runner._Recent())  # as another worker would: from the source's files
    runner.run_job("c" * 16, edit, **run)
    assert calls["make"] == 1 and calls["spliced"]
    kept, made = _files(results, "b" * 16), _files(results, "c" * 16)
    assert kept == made and "mix.wav" in kept and any(name.startswith("stems/") for name in kept)
    (results.folder("a" * 16) / "stems" / "bass.wav").write_bytes(b"")  # not the song's any more: made whole
    runner.run_job("d" * 16, edit, **run)
    assert calls["make"] == 2 and not calls["spliced"]
    assert _files(results, "d" * 16) == made
