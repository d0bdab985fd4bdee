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
from servers import settle  # noqa: E402


def polled(p99_ms: float) -> Phase:
    return Phase(Figures(1_000, 1.0, 0.001, p99_ms / 1000, p99_ms / 500, 0), cpu=0.1)


def test_the_two_mocks_swap_who_goes_first_every_round() -> None:
    order = taking_turns(["empty", "full"], 4)
    assert order == [["empty", "full"], ["full", "empty"], ["empty", "full"], ["full", "empty"]]


def test_with_three_servers_each_leads_a_round_in_turn() -> None:
    order = taking_turns(["mock", "asgi", "wiremock"], 4)
    assert order == [
        ["mock", "asgi", "wiremock"],
        ["asgi", "wiremock", "mock"],
        ["wiremock", "mock", "asgi"],
        ["mock", "asgi", "wiremock"],
    ]


def test_the_growth_is_the_median_of_the_rounds_ratios_not_a_ratio_of_extremes() -> None:
    # round 2 hit a stall of the machine on the full mock, round 3 on the empty one
    full = [polled(3.0), polled(30.0), polled(3.3), polled(3.1), polled(2.9)]
    empty = [polled(3.0), polled(3.0), polled(33.0), polled(3.1), polled(2.5)]
    assert round(p99_growth(full, empty), 6) == 1.0  # ratios 1, 10, 0.1, 1, 1.16
    assert round(p99_growth([polled(4.4)], [polled(4.0)]), 6) == 1.1


class Busy:
    """A server whose CPU use the test scripts: ``shares`` cores in each window, in turn."""

    def __init__(self, shares: list[float], window: float) -> None:
        self.shares, self.window, self.used, self.looks = list(shares), window, 0.0, 0

    def cpu_seconds_exact(self) -> float:
        if self.looks:  # the first look is the starting point
            self.used += (self.shares.pop(0) if self.shares else 0.0) * self.window
        self.looks += 1
        return self.used


def test_settling_waits_until_every_server_is_idle_in_the_same_window() -> None:
    slept: list[float] = []
    jvm = Busy([1.0, 1.0, 0.9, 0.0], 0.2)  # compiling for three windows after its phase
    mock = Busy([0.0, 0.3, 0.0, 0.0], 0.2)
    waited = settle([jvm, mock], window=0.2, sleep=slept.append)  # type: ignore[list-item]
    assert slept == [0.2] * 4 and round(waited, 6) == 0.8


def test_settling_gives_up_at_its_limit() -> None:
    always = Busy([1.0] * 100, 0.2)
    waited = settle([always], window=0.2, limit=1.0, sleep=lambda seconds: None)  # type: ignore[list-item]
    assert round(waited, 6) == 1.0
