"""A fuzz campaign: hostile inputs for N minutes against each target, with the oracles of
tests/robustness.py (the same ones tests/test_properties.py runs, bounded, in CI).

    python benchmarks/fuzz.py --minutes 10 [--seed 1] [--json fuzz.json]

Targets, in turn, in batches: `request` (SongRequest.from_dict: a request or an error naming a
field, under 50 ms), `lyrics` (every letter sung in order or named in a warning, syllables spell
their words), `tagged lyrics` (any structure tags: syllables spell their words), `tags` (the tag
resolver: a style or an error naming `tags`) and `planning` (validate -> cast with espeak-ng ->
plan -> compose: ASCII phonemes, the vocal part sings the plan's syllables). Prints, per target,
the inputs tried and the failures found (each distinct failure once, with its first input).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from songwright.errors import InvalidRequest  # noqa: E402
from tests.robustness import (  # noqa: E402
    check_lyrics, check_planning, check_validation, plain_lyrics, plan_requests, request_fields, tagged_lyrics,
)


def check_tags(text: str) -> str | None:
    from songwright.styles import resolve_tags

    try:
        resolve_tags(text)
    except InvalidRequest as error:
        return None if error.field == "tags" else f"InvalidRequest names {error.field!r}"
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:200]}"
    return None


_TAG_WORDS = st.sampled_from(["pop", "lo-fi", "chill", "piano", "female vocal", "jazz", "rock", "sad", "x", "", " "])
TARGETS = {  # name: (strategy, oracle, examples per batch)
    "request": (request_fields(), check_validation, 200),
    "lyrics": (plain_lyrics(), check_lyrics, 200),
    "tagged lyrics": (tagged_lyrics(), functools.partial(check_lyrics, letters_sung=False), 200),
    "tags": (st.one_of(st.text(max_size=80), st.lists(_TAG_WORDS, max_size=8).map(", ".join)), check_tags, 200),
    "planning": (plan_requests(), check_planning, 20),
}


class Campaign:
    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.distinct: dict[tuple[str, str], str] = {}  # (target, failure) -> first input

    def batch(self, name: str, batch_seed: int) -> None:
        strategy, oracle, examples = TARGETS[name]

        @hypothesis_seed(batch_seed)
        @settings(max_examples=examples, phases=[Phase.generate], database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def run(value) -> None:
            self.tried[name] += 1
            problem = oracle(value)
            if problem:
                self.failures[name] += 1
                self.distinct.setdefault((name, problem[:120]), repr(value)[:300])

        run()

    def report(self, minutes: float) -> dict:
        return {"minutes": minutes, "targets": {name: {"inputs": self.tried[name], "failures": self.failures[name],
                                                         "distinct_failures": [{"failure": f, "input": i}
                                                                               for (t, f), i in self.distinct.items()
                                                                               if t == name]}
                                                  for name in TARGETS}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None, help="seed of the batch seeds (default: random)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    campaign = Campaign()
    start = time.monotonic()
    deadline = start + args.minutes * 60
    while time.monotonic() < deadline:
        for name in TARGETS:
            if time.monotonic() >= deadline:
                break
            campaign.batch(name, rng.randrange(2**32))
    elapsed_min = (time.monotonic() - start) / 60
    report = campaign.report(round(elapsed_min, 2))
    print(f"fuzz campaign: {elapsed_min:.1f} minutes")
    print(f"{'target':15} {'inputs':>8} {'failures':>9} {'distinct':>9}")
    for name, figures in report["targets"].items():
        print(f"{name:15} {figures['inputs']:8d} {figures['failures']:9d} {len(figures['distinct_failures']):9d}")
    for name, figures in report["targets"].items():
        for failure in figures["distinct_failures"]:
            print(f"  {name}: {failure['failure']}\n    input: {failure['input']}")
    total = sum(campaign.tried.values())
    print(f"total: {total} inputs, {sum(campaign.failures.values())} failures")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
