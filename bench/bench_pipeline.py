"""What one gateway call costs in the pure pipeline, without HTTP, as ratios from one run.

The HTTP fast path adds about 15 us a request, so what a submit itself costs decides how
many submits a second the mock serves. Each figure is the median of ``--rounds`` timed
batches, printed in microseconds and as a multiple of a baseline measured in the same run:
``json.loads`` then ``json.dumps`` of the same body (the least any JSON API does with it).
Times are CPU time of this thread (``time.thread_time``), so being preempted by other work on
a shared machine does not count; absolute numbers still drift, the multiples hold.

- a submit of each operation (``{"prompt": "a red bicycle"}`` and one input image URL where
  the operation takes one), through ``pipeline.submit`` as the HTTP layer calls it;
- the body steps of a submit on their own (strict JSON parse, schema check, the whole
  ``parse_submit``), so a profile's claims can be checked;
- a status poll of a finished job (``pipeline.status``);
- a text-to-image submit whose prompt differs every time, as a real client's does.

The GC policy of the served mock runs too (``web/gc_policy.py``: a freeze every 250
calls), so the figures count the collector's work as a server would see it.

    .venv/bin/python bench/bench_pipeline.py [--rounds 15] [--batch 2000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mock_gateway.config.settings import Settings
from mock_gateway.pipeline import Outcome, StatusCall, SubmitCall, World, status, submit
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.validation.request import parse_json, parse_submit
from mock_gateway.web.app import build_state
from mock_gateway.web.gc_policy import GcPolicy

T0 = 1_776_426_066.171
KEY = "bench-key"
BASE = "http://127.0.0.1:8000"
IMAGE = "https://example.com/images/cat.png"
BODIES = {  # per operation id: a small valid body, as a client sends it
    "liteTextToImageSubmit": {"prompt": "a red bicycle"},
    "liteEditSubmit": {"prompt": "a red bicycle", "image_urls": [IMAGE]},
    "byteplusTextToImageSubmit": {"prompt": "a red bicycle", "model": "seedream-4-5-251128"},
    "byteplusEditSubmit": {"prompt": "a red bicycle", "image": IMAGE},
    "byteplusMultiEditSubmit": {"prompt": "a red bicycle", "image": [IMAGE, IMAGE]},
}
CONFIG: dict[str, Any] = {
    "seed": 1,
    "timing": "fast",
    "workers": 1_000_000,
    "keys": [
        {
            "key": KEY,
            "balance_usd": "100000000",
            "rate_limits": {"submit": "1000000000/s", "status": "1000000000/s"},
        }
    ],
}


def make_world(**changes: Any) -> World:
    settings = Settings.load(**{**CONFIG, **changes})
    return build_state(settings, clock=VirtualClock(start=T0, rate=0.0)).world


def per_call(steps: dict[str, Callable[[], object]], rounds: int, batch: int) -> dict[str, float]:
    """Seconds per call of each step: the median of ``rounds`` batches, the steps taking
    turns batch by batch (so a busy neighbour slows them all alike)."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, work in steps.items():
            started = time.thread_time()  # CPU time: a preempted batch does not count
            for _ in range(batch):
                work()
            samples[name].append((time.thread_time() - started) / batch)
    return {name: statistics.median(seconds) for name, seconds in samples.items()}


def main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)  # hygiene's one line per key and kind is not the point
    # the submits' world keeps a job 5 s of mock time (about 10,000 of them, as in a long
    # run); the polls' world keeps its one job
    world, polled = make_world(retention_seconds=5.0), make_world()
    operations = {op.operation_id: op for op in world.schemas.submit_operations()}
    ticks = iter(range(10**9))

    gc_policy = GcPolicy()  # as in the served mock, whose ticker looks now and then

    def now() -> float:  # a little later each call: jobs finish and expire as in a run
        tick = next(ticks)
        if tick % 50 == 0:
            gc_policy.after_calls(tick)
        return T0 + 3600.0 + tick * 0.0005

    def submitter(operation_id: str) -> Callable[[], object]:
        raw = json.dumps(BODIES[operation_id]).encode()
        call = SubmitCall(KEY, operations[operation_id], raw, None, BASE)

        def work() -> object:
            outcome = submit(world, call, now())
            assert isinstance(outcome, Outcome) and outcome.answer.status == 202, outcome
            return outcome

        return work

    t2i = operations["liteTextToImageSubmit"]
    raw = json.dumps(BODIES[t2i.operation_id]).encode()
    first = submit(polled, SubmitCall(KEY, t2i, raw, None, BASE), T0)  # COMPLETED by now()
    assert isinstance(first, Outcome) and first.queued is not None
    poll = StatusCall(KEY, first.queued.request_id, BASE)

    def baseline() -> object:
        return json.dumps(json.loads(raw)).encode()

    steps: dict[str, Callable[[], object]] = {
        "baseline: json.loads + json.dumps": baseline,
        "strict JSON parse (parse_json)": lambda: parse_json(raw),
        "schema check (first_error)": lambda: world.schemas.first_error(
            t2i.operation_id, json.loads(raw)
        ),
        "parse_submit (schema + fields)": lambda: parse_submit(world.schemas, t2i, json.loads(raw)),
        "status poll, COMPLETED job": lambda: status(polled, poll, now()),
    }
    for operation_id in BODIES:
        steps[f"submit {operation_id}"] = submitter(operation_id)
    counter = iter(range(10**9))

    def new_prompt() -> object:
        # what a real client sends: every body new, so the duplicate-submit table fills to
        # its capacity (the journal size) and makes room for each one
        body = b'{"prompt": "a red bicycle, take %d"}' % next(counter)
        outcome = submit(world, SubmitCall(KEY, t2i, body, None, BASE), now())
        assert isinstance(outcome, Outcome) and outcome.answer.status == 202, outcome
        return outcome

    steps["submit, a new prompt each time"] = new_prompt
    for work in steps.values():  # warm up: compiled validators, caches, bytecode
        for _ in range(200):
            work()
    for _ in range(Settings.load(**CONFIG).journal_size):
        new_prompt()  # the duplicate-submit table full, as after the first minutes of a run
    if args.profile:
        profile = cProfile.Profile()
        work = steps["submit liteTextToImageSubmit"]
        profile.runcall(lambda: [work() for _ in range(args.batch)])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    costs = per_call(steps, args.rounds, args.batch)
    unit = costs["baseline: json.loads + json.dumps"]
    print(f"pure pipeline, median of {args.rounds} batches of {args.batch} (one run):")
    for name, cost in costs.items():
        print(f"  {name:<40} {cost * 1e6:8.1f} us  {cost / unit:6.1f}x baseline")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15, help="timed batches per figure")
    parser.add_argument("--batch", type=int, default=2000, help="calls per batch")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of a submit")
    main(parser.parse_args())
