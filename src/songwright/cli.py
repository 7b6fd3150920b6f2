"""The command line: songwright generate | styles | analyze. A thin client of the library."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import sys
import threading
from pathlib import Path

from .errors import CheckpointError, InvalidRequest, MissingDependency, RenderError, SongwrightError

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
MAX_LYRICS_FILE_BYTES = 1_000_000
MELODY_SUFFIXES = (".mid", ".midi", ".smf", ".kar", ".wav", ".flac", ".ogg", ".mp3")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"songwright: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="songwright", description="Style tags and lyrics in, a mixed and mastered song out.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = commands.add_parser("generate", help="make a song")
    gen.add_argument("--from", dest="from_file", metavar="SONG.json",
                     help="make a song again from its song file (the --json output): the same request and seed, byte for byte")
    gen.add_argument("--tags", default="pop", help='style, mood, instrument and vocal tags, e.g. "pop, funk, female vocal"')
    lyrics = gen.add_mutually_exclusive_group()
    lyrics.add_argument("--lyrics", metavar="FILE", help="lyrics file with [verse]/[chorus] tags, or - for stdin")
    lyrics.add_argument("--lyrics-text", metavar="TEXT", help="lyrics given inline")
    chords = gen.add_mutually_exclusive_group()
    chords.add_argument("--chords", metavar="FILE", help="a chord chart to play (| Am | F | C G | E7 | per line, [verse] tags)")
    chords.add_argument("--chords-text", metavar="TEXT", help="a chord chart given inline")
    gen.add_argument("--melody", metavar="FILE", help="a MIDI file, or a hummed or sung recording (WAV, FLAC, OGG, MP3), "
                     "whose tune the lyrics are sung to (its tempo, meter and key unless given)")
    gen.add_argument("--melody-midi-out", metavar="FILE", help="write the melody as the song read it (a recording's "
                     "transcribed notes) as a MIDI file")
    gen.add_argument("--melody-track", type=int, metavar="N", help="the MIDI track holding the tune (from 1), when several have notes")
    gen.add_argument("--chart", metavar="FILE", help="write the song's chords as a chord chart (the --chords syntax)")
    gen.add_argument("--duration", type=float, default=60.0, metavar="SECONDS", help="length of the song (10-600, default 60)")
    gen.add_argument("--bpm", type=float, help="tempo in quarter-note beats per minute (40-240)")
    gen.add_argument("--key", help='e.g. "A minor", "Eb major", "F#m"')
    gen.add_argument("--time-signature", choices=["4/4", "3/4", "6/8"], help="meter (default: the style's)")
    gen.add_argument("--seed", type=int, help="the same request and seed give the same bytes (default: random)")
    gen.add_argument("--instrumental", action="store_true", help="no vocals; the lyrics' structure still shapes the form")
    gen.add_argument("--voice", help="the singer (see `songwright voices`; default: from the vocal tags and the lyrics' language)")
    gen.add_argument("--engine", default="composer", help="composer (default) or acestep (needs the neural extra and a checkpoint)")
    neural = gen.add_argument_group("acestep engine")
    neural.add_argument("--checkpoint", metavar="DIR", help="ACE-Step v1 checkpoint folder (default: $SONGWRIGHT_ACESTEP_CHECKPOINT)")
    neural.add_argument("--steps", type=int, help="diffusion steps (1-200, default 60)")
    neural.add_argument("--sampler", default="euler", help="euler (default), heun or pingpong")
    neural.add_argument("--guidance", type=float, default=15.0, metavar="SCALE", help="guidance scale (default 15; 0 or 1: off)")
    neural.add_argument("--guided", action="store_true", help="follow the composer's render of the same request (tempo, key, form)")
    neural.add_argument("--guide-strength", type=float, default=0.5, help="how closely a guided song follows it (0-0.95, default 0.5)")
    neural.add_argument("--device", default="auto", help="auto (default: CUDA, then MPS, then CPU), cpu, cuda, cuda:1...")
    neural.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], help="default: bfloat16 on CUDA, float32 elsewhere")
    neural.add_argument("--cpu-offload", action="store_true", help="keep models in CPU memory, move each to the GPU only while it runs")
    neural.add_argument("--compile", action="store_true", help="torch.compile the transformer")
    neural.add_argument("--lyric-vocab", metavar="FILE", help="ACE-Step's lyric vocab.json if it is not in the checkpoint folder")
    _add_outputs(gen)

    remix = commands.add_parser("remix", help="play a song again in another key, tempo, voice or instruments, every note kept")
    remix.add_argument("song", metavar="SONG.json", help="the song file (the --json output) of a composer song")
    remix.add_argument("--key", help='the new key, same mode (e.g. "D major"): every pitched note moves by the same interval')
    remix.add_argument("--bpm", type=float, help="the new tempo (40-240): every note re-timed, the length with it")
    remix.add_argument("--voice", help="another singer (see `songwright voices`): the same notes, moved by octaves to its range")
    remix.add_argument("--tags", help='instruments by tag: "+strings, -guitar" adds strings, silences the guitar')
    remix.add_argument("--time-signature", choices=["4/4", "3/4", "6/8"],
                       help="another meter: the same form, chords and lyrics, every rhythm set again")
    _add_outputs(remix)

    retake = commands.add_parser("retake", help="new material for one section or span of bars (or the whole song), "
                                 "every other note kept")
    retake.add_argument("song", metavar="SONG.json", help="the song file (the --json output)")
    where = retake.add_mutually_exclusive_group()
    where.add_argument("--section", help='the section: its number (3: the third) or name ("chorus", "chorus 2")')
    where.add_argument("--bars", help="a span of bars, 1-based, inclusive: 17-24")
    _add_take_options(retake)

    repaint = commands.add_parser("repaint", help="new material for a time range, snapped to bar lines")
    repaint.add_argument("song", metavar="SONG.json", help="the song file (the --json output)")
    repaint.add_argument("--start-s", type=float, required=True, help="where the range starts, in seconds")
    repaint.add_argument("--end-s", type=float, required=True, help="where it ends, in seconds")
    _add_take_options(repaint)

    extend = commands.add_parser("extend", help="a longer song: new sections before the outro, every bar before it kept")
    extend.add_argument("song", metavar="SONG.json", help="the song file (the --json output)")
    extend.add_argument("--duration", type=float, required=True, metavar="SECONDS", help="the new length (up to 600)")
    more = extend.add_mutually_exclusive_group()
    more.add_argument("--lyrics", metavar="FILE", help="lyrics for the new sections ([verse]/[chorus] tags); "
                      "without them: an instrumental block and the last chorus again")
    more.add_argument("--lyrics-text", metavar="TEXT", help="the new lyrics given inline")
    extend.add_argument("--before", action="store_true", help="put the new sections before the song (after its "
                        "intro): every bar after them kept, later; the length is rounded down to whole bars")
    _add_outputs(extend)

    relyric = commands.add_parser("relyric", help="one sung line with new words, everything else kept")
    relyric.add_argument("song", metavar="SONG.json", help="the song file (the --json output) of a composer song")
    relyric.add_argument("--line", type=int, required=True, help="the sung line, 1 for the first (in song order)")
    relyric.add_argument("--text", required=True, help="its new words")
    _add_outputs(relyric)

    commands.add_parser("styles", help="list the tags Songwright understands")
    commands.add_parser("voices", help="list the singing voices and whether they are installed")

    serve = commands.add_parser("serve", help="run the HTTP API and the web page (needs the server extra)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", default="songwright-data", help="jobs database and result files (default ./songwright-data)")
    serve.add_argument("--workers", type=int, default=1, help="songs made at once in this process (default 1)")
    serve.add_argument("--api-key", default=os.environ.get("SONGWRIGHT_API_KEY"),
                       help="require Authorization: Bearer KEY (default: $SONGWRIGHT_API_KEY; none: open)")
    serve.add_argument("--queue", metavar="URL", help="redis://HOST:PORT/DB: hand jobs to `songwright worker` processes")
    serve.add_argument("--checkpoint", metavar="DIR", default=os.environ.get("SONGWRIGHT_ACESTEP_CHECKPOINT"),
                       help="ACE-Step v1 checkpoint folder for the acestep engine")
    serve.add_argument("--max-queue", type=int, default=100, help="queued songs before 429 (default 100)")
    serve.add_argument("--retention", default="7d", help="delete finished songs older than this: 3600, 90m, 12h, 7d (default 7d)")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="allow browsers on this origin (repeatable; default: none)")
    serve.add_argument("--rate-limit", type=int, default=60, help="submissions per key (or address) per minute (default 60)")

    worker = commands.add_parser("worker", help="make songs from a Redis queue (needs the server extra)")
    worker.add_argument("--queue", required=True, metavar="URL", help="redis://HOST:PORT/DB, the same as the server's")
    worker.add_argument("--data-dir", default="songwright-data", help="result files: the server's --data-dir, shared")
    worker.add_argument("--checkpoint", metavar="DIR", default=os.environ.get("SONGWRIGHT_ACESTEP_CHECKPOINT"))
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")

    analyze = commands.add_parser("analyze", help="estimate tempo, key, loudness, true peak and duration of an audio file")
    analyze.add_argument("file")
    analyze.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _add_take_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--seed", type=int, help="which take (the same seed, the same take; default: a new one)")
    command.add_argument("--keep-chords", action="store_true", help="keep the chords; new melody, fills and comping only")
    _add_outputs(command)


def _add_outputs(command: argparse.ArgumentParser) -> None:
    if command.prog.split()[-1] in EDIT_VERBS:  # an acestep song's edits run on its checkpoint
        command.add_argument("--checkpoint", metavar="DIR", help="for an acestep song: the ACE-Step v1 checkpoint folder "
                             "(default: $SONGWRIGHT_ACESTEP_CHECKPOINT)")
        command.add_argument("--device", default="auto", help="for an acestep song: auto, cpu, cuda...")
    command.add_argument("-o", "--output", default="song.mp3", help="the mix: .mp3, .wav, .flac or .ogg (default song.mp3)")
    command.add_argument("--stems", metavar="DIR", help="write one WAV per stem into DIR")
    command.add_argument("--midi", metavar="FILE", help="write the arrangement as a multi-track MIDI file")
    command.add_argument("--lrc", metavar="FILE", help="write lyric line and word timings (enhanced LRC)")
    command.add_argument("--json", metavar="FILE", help="write the song file: the resolved request, its edits, the plan and report")
    command.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every outcome is an exit code and at most one line on stderr: 2 for bad
    input, 1 for a failure, 130 for Ctrl-C and 143 for SIGTERM (saying which files were written: all
    or none)."""
    with _noting_interrupts():
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"generate": _generate, "styles": _styles, "voices": _voices, "analyze": _analyze, "serve": _serve,
                "worker": _worker, **{verb: _edit for verb in EDIT_VERBS}}[args.command](args)
    except BrokenPipeError:  # stdout closed (`songwright styles | head -1`): say so once, then stop
        _silence_stdout()
        print("songwright: standard output was closed; nothing more was printed", file=sys.stderr)
        return EXIT_FAILURE
    except InvalidRequest as exc:
        print(f"songwright: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CheckpointError as exc:
        print(f"songwright: error: checkpoint: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MissingDependency as exc:
        print(f"songwright: missing dependency: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except SongwrightError as exc:
        print(f"songwright: failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except BaseException as exc:
        if not _interrupted(exc):
            raise
        print(f"songwright: {_INTERRUPTS.word}", file=sys.stderr)
        return _INTERRUPTS.exit_code


def _read_lyrics(args: argparse.Namespace) -> str:
    if args.lyrics_text is not None:
        return args.lyrics_text
    if args.lyrics is None:
        return ""
    if args.lyrics == "-":
        if sys.stdin is None:
            raise InvalidRequest("lyrics", "'-' reads standard input, which is closed", "-")
        return _text_of(sys.stdin.buffer.read(MAX_LYRICS_FILE_BYTES + 1), field="lyrics", shown="-")
    return _read_text_file(args.lyrics, field="lyrics")


def _read_chords(args: argparse.Namespace) -> str | None:
    if args.chords_text is not None:
        return args.chords_text
    if args.chords is None:
        return None
    return _read_text_file(args.chords, field="chords")


def _read_text_file(path: str, *, field: str) -> str:
    """A UTF-8 text file of at most MAX_LYRICS_FILE_BYTES, or InvalidRequest naming `field`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_LYRICS_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidRequest(field, "must be a readable file", path) from exc
    return _text_of(data, field=field, shown=path)


def _text_of(data: bytes, *, field: str, shown: str) -> str:
    if len(data) > MAX_LYRICS_FILE_BYTES:
        raise InvalidRequest(field, f"must be at most {MAX_LYRICS_FILE_BYTES} bytes", f"more than {MAX_LYRICS_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(field, f"must be UTF-8 text (undecodable byte at position {exc.start})", shown) from exc


def _read_melody(args: argparse.Namespace) -> str | None:
    """The --melody MIDI file or recording as the request's base64 text."""
    import base64

    from .tunes import MAX_MELODY_BYTES

    if args.melody is None:
        return None
    if not args.melody.lower().endswith(MELODY_SUFFIXES):
        raise InvalidRequest("melody", "must be a MIDI file (.mid, .midi) or a recording (.wav, .flac, .ogg, .mp3)",
                             args.melody)
    try:
        with open(args.melody, "rb") as handle:
            data = handle.read(MAX_MELODY_BYTES + 1)
    except OSError as exc:
        raise InvalidRequest("melody", "must be a readable file", args.melody) from exc
    if len(data) > MAX_MELODY_BYTES:
        raise InvalidRequest("melody", f"must be a MIDI file or recording of at most {MAX_MELODY_BYTES} bytes", args.melody)
    return base64.b64encode(data).decode("ascii")


def _generate(args: argparse.Namespace) -> int:
    from .request import SongRequest
    from .song import read_song_file

    edits: tuple[dict, ...] = ()
    if args.from_file is not None:
        _refuse_request_options_with_from(args)
        request, edits = read_song_file(args.from_file)
    else:
        request = SongRequest(
            tags=args.tags, lyrics=_read_lyrics(args), duration_s=args.duration, tempo_bpm=args.bpm, key=args.key,
            time_signature=args.time_signature, seed=args.seed, instrumental=args.instrumental, engine=args.engine,
            voice=args.voice, steps=args.steps, sampler=args.sampler,
            guidance_scale=args.guidance, guided=args.guided, guide_strength=args.guide_strength,
            chords=_read_chords(args), melody=_read_melody(args), melody_track=args.melody_track,
        ).validate()
    return _produce(args, request, edits, _engine(args, request.engine))


EDIT_VERBS = ("remix", "retake", "repaint", "extend", "relyric")


def _edit(args: argparse.Namespace) -> int:
    """An edit verb: the song file's song with one edit more, written as a new song."""
    from . import edits
    from .song import read_song_file, read_song_mix

    made = {
        "remix": lambda: edits.remix_edit(key=args.key, tempo_bpm=args.bpm, voice=args.voice, tags=args.tags,
                                          time_signature=args.time_signature),
        "retake": lambda: edits.retake_edit(section=args.section, bars=args.bars, seed=args.seed,
                                            keep_chords=args.keep_chords),
        "repaint": lambda: edits.repaint_edit(start_s=args.start_s, end_s=args.end_s, seed=args.seed,
                                              keep_chords=args.keep_chords),
        "extend": lambda: edits.extend_edit(duration_s=args.duration, lyrics=_read_lyrics(args), before=args.before),
        "relyric": lambda: edits.relyric_edit(line=args.line, text=args.text),
    }
    edit = made[args.command]()
    request, earlier = read_song_file(args.song)
    source = read_song_mix(args.song, stems=bool(args.stems))  # None: the whole song is rendered again
    return _produce(args, request, earlier + (edit,), _engine(args, request.engine), source=source)


def _produce(args: argparse.Namespace, request, edits: tuple[dict, ...], engine, *, source=None) -> int:
    """Make the song (its edits applied) and write every output asked for, all or none."""
    from .audio.io import StagedOutputs, audio_format, check_writable
    from .edits import make
    from .engines import generate

    chart = getattr(args, "chart", None)  # generate's options
    melody_midi = getattr(args, "melody_midi_out", None)
    if melody_midi and request.melody is None:
        raise InvalidRequest("melody_midi_out", "needs a melody (--melody) to write", melody_midi)
    for field in ("stems", "midi", "lrc"):
        if getattr(args, field) and not getattr(engine.capabilities, field):
            raise InvalidRequest(field, f"is not made by the {engine.name} engine", f"--engine {request.engine}")
    if chart and not engine.capabilities.midi:  # the chart comes from the score's plan, as the MIDI does
        raise InvalidRequest("chart", f"is not made by the {engine.name} engine", f"--engine {request.engine}")
    audio_format(args.output, "output")
    check_writable(args.output, "output")
    for field, path, is_dir in (("stems", args.stems, True), ("midi", args.midi, False), ("lrc", args.lrc, False),
                                ("json", args.json, False), ("chart", chart, False),
                                ("melody_midi_out", melody_midi, False)):
        if path:
            check_writable(path, field, is_dir)
    _check_distinct_outputs(args)

    progress = _ProgressBar() if not args.quiet and sys.stderr.isatty() else None
    staged = StagedOutputs()
    try:
        report = progress or (lambda stage, fraction: None)
        song = (make(request, edits, progress=report, engine=engine, source=source) if edits
                else generate(request, progress=report, engine=engine, keep_stems=bool(args.stems)))
        if progress:
            progress.finish()
        if _INTERRUPTS.received:  # a Ctrl-C some C code swallowed while it ran
            raise KeyboardInterrupt
        song.save_all(args.output, stems_dir=args.stems, midi_path=args.midi, lrc_path=args.lrc, json_path=args.json,
                      staged=staged, chart_path=chart, melody_midi_path=melody_midi)
        if _INTERRUPTS.received:
            raise KeyboardInterrupt
    except RenderError as exc:
        if staged.committed:  # renaming failed part-way: the error lists what is missing
            raise
        raise RenderError(f"{exc}; no output file was written") from exc
    except BaseException as exc:  # save_all writes all its files or none: so none
        if not _interrupted(exc):
            raise
        if progress:
            progress.finish()
        written = "every output file was written" if staged.committed else "no output file was written"
        print(f"songwright: {_INTERRUPTS.word}; {written}", file=sys.stderr)
        return _INTERRUPTS.exit_code
    if not args.quiet:
        try:
            _summary(args.output, song)
        except BrokenPipeError:
            _silence_stdout()
            print("songwright: standard output was closed; the song and its files were written", file=sys.stderr)
    return EXIT_OK


REQUEST_OPTIONS = ("tags", "lyrics", "lyrics_text", "duration", "bpm", "key", "time_signature", "seed", "instrumental",
                   "voice", "engine", "steps", "sampler", "guidance", "guided", "guide_strength", "chords", "chords_text", "melody",
                   "melody_track")


def _refuse_request_options_with_from(args: argparse.Namespace) -> None:
    """A song file holds the whole request: an option that would change it is refused, not ignored."""
    defaults = build_parser().parse_args(["generate"])
    for name in REQUEST_OPTIONS:
        if getattr(args, name) != getattr(defaults, name):
            option = "--" + name.replace("_", "-")
            raise InvalidRequest(name, "cannot be combined with --from (the song file holds the whole request)",
                                 f"{option} {getattr(args, name)}")


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null, so Python's flush at exit does not fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Interrupts:
    """SIGINT as Python has it (KeyboardInterrupt), also remembered: an interrupt that lands in
    an extension module's import or C code can come out as another error (numpy: an ImportError,
    "PyCapsule_Import could not import module datetime"; a SystemError) or be swallowed. SIGTERM
    (`kill`, `timeout`, a process manager) is taken the same way, so that it too leaves no output
    half-written and no temporary files (a long song's stems wait on disk: 1.7 GB for 10 minutes)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    received = False
    signum: int | None = None

    def __call__(self, signum, frame) -> None:
        self.received, self.signum = True, signum
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        return EXIT_TERMINATED if self.signum == signal.SIGTERM else EXIT_INTERRUPTED

    @property
    def word(self) -> str:
        return "terminated" if self.signum == signal.SIGTERM else "interrupted"


_INTERRUPTS = _Interrupts()


@contextlib.contextmanager
def _noting_interrupts():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _INTERRUPTS.received, _INTERRUPTS.signum = False, None
    previous = {signum: signal.signal(signum, _INTERRUPTS) for signum in _INTERRUPTS.SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupted(exc: BaseException | None) -> bool:
    """Whether Ctrl-C caused `exc`: a KeyboardInterrupt, an error it set off inside C code (a
    SystemError "returned a result with an exception set" whose cause is the interrupt), or any
    error raised after a SIGINT arrived."""
    if _INTERRUPTS.received:
        return True
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _check_distinct_outputs(args: argparse.Namespace) -> None:
    """Refuse two outputs that name the same file (links followed): one would overwrite the other."""
    from .audio.io import resolved
    from .score import STEMS

    wanted = [("output", args.output, "")]
    if args.stems:
        wanted.append(("stems", args.stems, "the stems folder"))
        wanted += [("stems", str(Path(args.stems) / f"{name}.wav"), f"the {name} stem") for name in STEMS]
    wanted += [(field, getattr(args, field, None), "") for field in ("json", "midi", "lrc", "chart", "melody_midi_out")]
    claimed: dict[Path, tuple[str, str, str]] = {}
    for field, path, role in wanted:
        if not path:
            continue
        target = resolved(path)
        if target in claimed:
            earlier = claimed[target]
            culprit, other = (earlier, (field, path, role)) if field == "stems" else ((field, path, role), earlier)
            what = other[2] or f"--{other[0]}"
            raise InvalidRequest(culprit[0], f"must be a different file from {what} ({target})", culprit[1])
        claimed[target] = (field, path, role)


def _engine(args: argparse.Namespace, name: str):
    """The engine the request names, configured from the options (the checkpoint is engine configuration)."""
    from .engines import CHECKPOINT_ENV, AceStepEngine, default_engine

    if name != "acestep":
        return default_engine(name)
    from .acestep.runtime import Runtime

    option = lambda name: getattr(args, name, None)  # noqa: E731 - the edit verbs take only some
    runtime = Runtime(device=option("device") or "auto", dtype=option("dtype"), cpu_offload=bool(option("cpu_offload")),
                      compile=bool(option("compile")), lyric_vocab=option("lyric_vocab"))
    return AceStepEngine(checkpoint=args.checkpoint or os.environ.get(CHECKPOINT_ENV), runtime=runtime)


def _summary(output: str, song) -> None:
    plan = song.plan
    if plan is None:
        settings = ", ".join(f"{k} {v}" for k, v in song.settings.items())
        print(f"{output}: {song.duration_s:.2f} s, seed {song.seed}, {song.engine} ({settings}), "
              f"{song.loudness_lufs:.1f} LUFS, {song.true_peak_dbtp:.1f} dBTP")
    else:
        others = [name for name in song.voices() if name != plan.lead_voice]
        voice = f", sung by {' and '.join([plan.lead_voice, *others])}" if plan.lead_voice else ", instrumental"
        print(f"{output}: {song.duration_s:.2f} s, {plan.tempo_bpm:g} BPM, {plan.key.name}, {plan.time_signature}, "
              f"seed {song.seed}{voice}, {song.loudness_lufs:.1f} LUFS, {song.true_peak_dbtp:.1f} dBTP")
        print("form: " + " ".join(f"{s.kind}({s.bars})" for s in plan.sections))
    for warning in song.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _styles(args: argparse.Namespace) -> int:
    from .styles import describe_styles

    print(describe_styles())
    return EXIT_OK


def _voices(args: argparse.Namespace) -> int:
    from .singer.voices import VOICES

    for voice in VOICES.values():
        state = "installed" if voice.installed else "not installed (bash scripts/setup-system.sh)"
        print(f"{voice.name:5} {voice.language:3} {voice.gender:7} {voice.description}: {state}")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from .server.config import ServerConfig, parse_duration_s
    from .server.main import serve

    for field in ("port", "workers", "max_queue", "rate_limit"):
        if getattr(args, field) < (0 if field == "port" else 1):
            raise InvalidRequest(field, "must be a positive whole number", getattr(args, field))
    try:
        retention_s = parse_duration_s(args.retention)
    except ValueError as error:
        raise InvalidRequest("retention", str(error).removeprefix("retention "), args.retention) from None
    _server_owns_sigterm()
    serve(ServerConfig(data_dir=Path(args.data_dir).resolve(), host=args.host, port=args.port, workers=args.workers,
                       api_key=args.api_key or None, queue=args.queue, checkpoint=args.checkpoint,
                       max_queue=args.max_queue, retention_s=retention_s, cors_origins=tuple(args.cors_origin),
                       rate_limit_per_min=args.rate_limit))
    return EXIT_OK


def _worker(args: argparse.Namespace) -> int:
    from .server.main import work

    _server_owns_sigterm()
    work(queue=args.queue, data_dir=Path(args.data_dir).resolve(), checkpoint=args.checkpoint, burst=args.burst)
    return EXIT_OK


def _server_owns_sigterm() -> None:
    """The server and the worker shut down on SIGTERM their own way (uvicorn drains its requests, RQ
    finishes its job), then the signal ends the process as it would any other."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _analyze(args: argparse.Namespace) -> int:
    from .audio.analysis import analyze_file

    if not Path(args.file).is_file():
        raise InvalidRequest("file", "must be an existing audio file", args.file)
    report = analyze_file(args.file)
    if args.json:
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        for name, value in report.items():
            print(f"{name}: {value}")
    return EXIT_OK


class _ProgressBar:
    WIDTH = 30

    def __call__(self, stage: str, fraction: float) -> None:
        filled = int(self.WIDTH * fraction)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction * 100:3.0f}% {stage:<12}")
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")


def run() -> None:
    """The `songwright` command. After Ctrl-C (or SIGTERM) it leaves at once with exit code 130
    (143): a library interrupted while importing may have marked the interpreter to kill itself
    with SIGINT at exit, which would hide the exit code."""
    code = main()
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    gc.freeze()  # what is left is freed at exit all the same: the collector's last pass over it took 30 ms
    sys.exit(code)


if __name__ == "__main__":
    run()
