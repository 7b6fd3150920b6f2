"""Running one job: the request through its engine, the files written, the error made public.

Shared by the in-process worker pool and `songwright worker` (Redis), so both behave the same.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from ..engines import Engine, staged
from ..errors import Canceled, CheckpointError, InvalidRequest, MissingDependency, SongwrightError
from ..request import SongRequest
from ..song import Song
from .results import Results

log = logging.getLogger("songwright.server")
WRITING_FRACTION = 0.9  # the engine's progress fills 0..0.9; writing the files the rest
_PATH = re.compile(r"(?<![\w.])(?:~|\.{0,2})?/[^\s'\"]+")
RECENT_SONGS = 2  # composer songs a worker keeps after making them: an edit of one renders its window only
RECENT_MAX_S = 360.0  # (a 6-minute song's mix is 64 MB in memory; its stems stay on disk)


def run_job(job_id: str, request: dict, *, engines: dict[str, Engine], results: Results,
            progress: Callable[[str, float], None], cancel: Callable[[], bool]) -> None:
    """Make the song (a request, or a source song's request with its edits) and write its files;
    raises Canceled or the engine's error."""

    def report(stage: str, fraction: float) -> None:
        progress(stage, round(fraction * WRITING_FRACTION, 4))

    if "edits" in request:  # an edit of an earlier song: its request and every edit since, in order
        from ..edits import edit, make

        kept = _recent.get(request["source"], edits=request["edits"][:-1])
        if kept is not None:  # the same bytes as making it from the request, at the cost of the edit
            song = edit(kept, request["edits"][-1], progress=staged(report, cancel))
        else:  # spliced into the source's files where they are the song exactly, else made whole
            from ..song import read_song_mix

            source = SongRequest.from_dict(request["song"])
            mix = read_song_mix(results.folder(request["source"]) / "song.json", stems=True)  # None: gone or changed
            song = make(source, request["edits"], progress=staged(report, cancel), engine=engines[source.engine], source=mix)
    else:
        song_request = SongRequest.from_dict(request)
        song = engines[song_request.engine].generate(song_request, progress=report, cancel=cancel)
    if cancel():
        raise Canceled("canceled before writing the files")
    progress("writing files", WRITING_FRACTION)
    try:
        results.write(job_id, song)
    except BaseException:
        results.discard_partial(job_id)
        raise
    _recent.keep(job_id, song)


class _Recent:
    """The last RECENT_SONGS composer songs this process made, by job id (thread-safe)."""

    def __init__(self) -> None:
        self._songs: OrderedDict[str, Song] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, job_id: str, song: Song) -> None:
        if song.engine != "composer" or song.duration_s > RECENT_MAX_S:
            return
        with self._lock:
            self._songs[job_id] = song
            while len(self._songs) > RECENT_SONGS:
                self._songs.popitem(last=False)

    def get(self, job_id: str, *, edits: list[dict]) -> Song | None:
        """The song job `job_id` made, if kept and made with exactly `edits`."""
        with self._lock:
            song = self._songs.get(job_id)
        return song if song is not None and list(song.edits) == list(edits) else None


_recent = _Recent()


def public_error(error: BaseException) -> str:
    """What a client may read about a failure: the message of our own errors, without server paths;
    anything else is an internal error (its trace goes to the server log only)."""
    if isinstance(error, (InvalidRequest, MissingDependency, CheckpointError, SongwrightError)):
        return _PATH.sub("<path>", str(error))
    return "internal error: the server log has the details"


def public_status(error: BaseException) -> int:
    """The HTTP status for an error met while checking a request."""
    if isinstance(error, InvalidRequest):
        return 422
    return 503  # a missing extra or checkpoint: the server cannot make this now, the request is fine
