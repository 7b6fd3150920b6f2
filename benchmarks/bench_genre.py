"""Does each genre sound like itself? Every genre of data/styles.toml rendered over several seeds
(instrumental, so the band's sound is measured, not the singer; with --sung, each sings one
English lyric, as a user's song would), each mix tagged by musicnn's
pre-trained taggers, and the rank of the requested genre among the tagger's genre labels.

    python benchmarks/bench_genre.py [--seeds 3] [--first-seed 0] [--duration 30] [--out DIR] [--json FILE] [--sung]
                                     [--tagger-python .venv-tagger/bin/python]

Taggers (weights inside the musicnn 0.1.0 wheel; set-up in benchmarks/genre_tagger.py):
  MSD_musicnn  Million Song Dataset, 50 Last.fm tags, musically motivated CNN (the main figure)
  MSD_vgg      the same data and tags, a plain VGG-like CNN (a second opinion)
  MTT_musicnn  MagnaTagATune, 50 tags (few genres: only where it has a label)

A genre's rank is the best rank of any of its labels among the tagger's genre labels only
(moods, decades, voices and instruments are left out), ordered by the tagger's mean score over
3 s patches. Genres with no label in a tagger are shown as "-" and left out of its top-3 share.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAGGER = Path(__file__).resolve().parent / "genre_tagger.py"
MODELS = ("MSD_musicnn", "MSD_vgg", "MTT_musicnn")

# The labels each tagger may call a genre (its other labels are moods, decades, voices, instruments).
GENRE_LABELS = {
    "MSD": ["rock", "pop", "alternative", "indie", "electronic", "dance", "alternative rock", "jazz", "metal",
            "chillout", "classic rock", "soul", "indie rock", "electronica", "folk", "punk", "blues", "hard rock",
            "ambient", "experimental", "Hip-Hop", "country", "easy listening", "funk", "electro", "heavy metal",
            "Progressive rock", "rnb", "indie pop", "House"],
    "MTT": ["classical", "techno", "electronic", "rock", "ambient", "indian", "opera", "pop", "classic", "new age",
            "dance", "country", "metal"],
}
# Which of those labels count as the requested genre. No entry: the tagger has no label for it.
GENRE_MAP = {
    "MSD": {
        "pop": ["pop", "indie pop"],
        "rock": ["rock", "classic rock", "alternative rock", "indie rock", "hard rock", "punk"],
        "funk": ["funk"],
        "electronic": ["electronic", "electronica", "electro", "dance", "House"],
        "hiphop": ["Hip-Hop"],
        "trap": ["Hip-Hop"],
        "jazz": ["jazz"],
        "lofi": ["Hip-Hop"],
        "folk": ["folk"],
        "rnb": ["rnb", "soul"],
        "metal": ["metal", "heavy metal", "hard rock"],
        "country": ["country"],
        "ambient": ["ambient"],
        "synthwave": ["electronic", "electronica", "electro"],
        "disco": ["dance", "funk"],
        "blues": ["blues"],
    },
    "MTT": {
        "pop": ["pop"],
        "rock": ["rock"],
        "electronic": ["electronic", "techno", "dance"],
        "cinematic": ["classical", "classic"],
        "metal": ["metal"],
        "country": ["country"],
        "ambient": ["ambient", "new age"],
        "synthwave": ["electronic", "techno"],
        "disco": ["dance"],
    },
}


# --sung: every genre sings (or raps) the same English lyric, as a song a user makes would.
SUNG_LYRICS = ("[verse]\nStep into the light, the night is young\nEvery word I never said is on my tongue\n"
               "[chorus]\nHold on, hold on to me\nThis is where we want to be")


def render_all(*, genres: list[str], seeds: list[int], duration_s: float, out: Path,
               sung: bool = False) -> tuple[dict, list[float]]:
    """Each (genre, seed) as a WAV mix; returns {(genre, seed): path} and the generate times."""
    import songwright as sw

    files, times = {}, []
    for genre in genres:
        for seed in seeds:
            request = (sw.SongRequest(tags=genre, lyrics=SUNG_LYRICS, duration_s=duration_s, seed=seed) if sung else
                       sw.SongRequest(tags=genre, duration_s=duration_s, seed=seed, instrumental=True))
            start = time.perf_counter()
            song = sw.generate(request)
            times.append(time.perf_counter() - start)
            path = out / f"{genre}-{seed}.wav"
            song.save(str(path))
            files[(genre, seed)] = path
    return files, times


def genre_rank(*, scores: list[float], labels: list[str], family: str, wanted: list[str]) -> tuple[int, list[str]]:
    """The best rank (1 = first) of any wanted label among the genre labels, and the top 3."""
    vocabulary = GENRE_LABELS[family]
    ordered = sorted(vocabulary, key=lambda label: -scores[labels.index(label)])
    rank = min(ordered.index(label) + 1 for label in wanted)
    return rank, ordered[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this one (3: seeds never tuned on)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--genres", default="", help="comma-separated subset (default: every genre)")
    parser.add_argument("--out", default="", help="keep the mixes here (default: a temporary folder)")
    parser.add_argument("--tag-only", action="store_true",
                        help="tag the mixes an earlier run left in --out instead of rendering them")
    parser.add_argument("--json", default="", help="write every rank and score here")
    parser.add_argument("--sung", action="store_true", help="songs with vocals (SUNG_LYRICS) instead of instrumentals")
    parser.add_argument("--tagger-python", default=str(ROOT / ".venv-tagger" / "bin" / "python"))
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()

    from songwright.styles import load_styles

    genres = [g for g in load_styles()["genre"]] if not args.genres else args.genres.split(",")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    models = args.models.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(args.out) if args.out else Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        if args.tag_only:
            files, times = {(g, s): out / f"{g}-{s}.wav" for g in genres for s in seeds}, [float("nan")]
        else:
            files, times = render_all(genres=genres, seeds=seeds, duration_s=args.duration, out=out, sung=args.sung)
        tags_json = Path(scratch) / "tags.json"
        subprocess.run([args.tagger_python, str(TAGGER), str(tags_json), *models, "--",
                        *[str(p) for p in files.values()]], check=True)
        tags = json.loads(tags_json.read_text())

    report = {"seeds": seeds, "duration_s": args.duration, "models": models, "genres": {}}
    print(f"rank of the requested genre among each tagger's genre labels; seeds {seeds}, {args.duration:g} s, {'sung' if args.sung else 'instrumental'}")
    print(f"{'genre':<11}" + "".join(f"{m:>24}" for m in models) + "   MSD_musicnn top 3 (seed 0)")
    totals = {m: [0, 0] for m in models}
    for genre in genres:
        row, entry = f"{genre:<11}", {}
        top_first = ""
        for model in models:
            family = model.split("_")[0]
            wanted = GENRE_MAP[family].get(genre)
            if not wanted:
                row += f"{'-':>24}"
                continue
            ranks = []
            for seed in seeds:
                labels = tags[model]["labels"]
                rank, top = genre_rank(scores=tags[model]["files"][str(files[(genre, seed)])], labels=labels,
                                       family=family, wanted=wanted)
                ranks.append(rank)
                if model == "MSD_musicnn" and seed == seeds[0]:
                    top_first = ", ".join(top)
            hits = sum(r <= 3 for r in ranks)
            totals[model][0] += hits
            totals[model][1] += len(ranks)
            entry[model] = {"ranks": ranks, "top3": hits,
                            "scores": [dict(zip(tags[model]["labels"], tags[model]["files"][str(files[(genre, s)])]))
                                       for s in seeds]}
            row += f"{' '.join(str(r) for r in ranks) + f'  ({hits}/{len(ranks)})':>24}"
        report["genres"][genre] = entry
        print(row + "   " + top_first)
    summary = "".join(f"{f'{h}/{n} = {100 * h / max(1, n):.0f} %':>24}" for h, n in totals.values())
    print(f"{'top 3':<11}" + summary)
    if not args.tag_only:
        print(f"generate: median {statistics.median(times):.2f} s per {args.duration:g} s song")
    report["top3"] = {m: totals[m] for m in models}
    report["generate_median_s"] = statistics.median(times)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    sys.exit(main())
