"""How ``bench/bench_gateway.py`` takes the status p99 with many jobs held: the full mock and
a one-job mock take turns (the order swapped each round) and the figure is the median of the
rounds' ratios, so one slow moment of the shared machine cannot decide it either way."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from bench_gateway import Phase, p99_growth, taking_turns  # noqa: E402
from loadgen import Figures  # noqa: E402


def polled(p99_ms: float) -> Phase:
    return Phase(Figures(1_000, 1.0, 0.001, p99_ms / 1000, p99_ms / 500, 0), cpu=0.1)


def test_the_two_mocks_swap_who_goes_first_every_round() -> None:
    order = taking_turns("empty", "full", 4)
    assert order == [("empty", "full"), ("full", "empty"), ("empty", "full"), ("full", "empty")]


def test_the_growth_is_the_median_of_the_rounds_ratios_not_a_ratio_of_extremes() -> None:
    # round 2 hit a stall of the machine on the full mock, round 3 on the empty one
    full = [polled(3.0), polled(30.0), polled(3.3), polled(3.1), polled(2.9)]
    empty = [polled(3.0), polled(3.0), polled(33.0), polled(3.1), polled(2.5)]
    assert round(p99_growth(full, empty), 6) == 1.0  # ratios 1, 10, 0.1, 1, 1.16
    assert round(p99_growth([polled(4.4)], [polled(4.0)]), 6) == 1.1
