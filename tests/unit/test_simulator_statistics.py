"""A simulated hour of 50 agents, 3 queues, voice and chat agrees with its own inputs: arrival
counts, mean handle time and abandonment, each against a proper confidence bound.

Contacts arrive for one hour; the run goes on for a second hour without arrivals, so every
contact answered in the hour is complete and the handle times are a sample of the configured
distributions, not cut short by the end of the run (a contact's durations are drawn when it is
answered, independently of when that is).

Each check is a two-sided test at level ALPHA = 0.001 on a fixed seed, so it is deterministic;
it would fail for a seed only once in a thousand if the simulation were right, and fails for
every seed once the behaviour it names is broken by more than the noise of an hour.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import pytest

from simulator.centre import AGENT_FEED, CONTACT_FEED, Centre
from simulator.settings import DEFAULT_CHANNELS, CentreSettings
from simulator.truth import TruthList

START = 1_795_428_000_000
HOUR = 3_600_000
RUN = 2 * HOUR  # one hour of arrivals, one to finish them
END = START + RUN
SEED = 2024
ALPHA = 0.001
Z = 3.2905  # two-sided normal quantile for ALPHA
SETTINGS = CentreSettings(
    agents=50, queues=3, arrivals_per_minute=12.0, channels=("VOICE", "CHAT"),
    channel_settings={
        "VOICE": DEFAULT_CHANNELS["VOICE"],
        "CHAT": dataclasses.replace(DEFAULT_CHANNELS["CHAT"], mean_patience_s=60.0),
    },
    arrivals_end_s=HOUR / 1000,
)


def poisson_interval(mean: float, alpha: float = ALPHA) -> tuple[int, int]:
    """The central 1 - alpha acceptance interval [low, high] of a Poisson(mean) count."""
    low = high = None
    cumulative = 0.0
    k = 0
    while high is None:
        cumulative += math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1))
        if low is None and cumulative >= alpha / 2:
            low = k
        if cumulative >= 1 - alpha / 2:
            high = k
        k += 1
    return low, high


def test_poisson_interval():
    assert poisson_interval(100.0, 0.05) == (81, 120)  # the known 95 % interval of Poisson(100)
    low, high = poisson_interval(4.0, 0.001)
    assert low == 0 and high == 12


@pytest.fixture(scope="module")
def hour():
    truth = TruthList()
    centre = Centre(SETTINGS, seed=SEED, start_ms=START, truth=truth)
    events = list(centre.events(RUN))
    return centre, events, truth


def measure(centre: Centre, truth: TruthList) -> dict:
    """What the hour measured, next to what its inputs imply."""
    contacts = truth.of("contact")
    queue_index = {q.queue_id: n for n, q in enumerate(centre.queues)}
    rates = SETTINGS.rates_per_minute()
    results: dict = {"arrivals": {}, "handle": {}, "abandonment": {}}

    arrivals = {key: 0 for key in rates}
    for contact in contacts:
        channel = contact["channel"]
        if contact["initiation_method"] == SETTINGS.channel(channel).initiation_method:
            arrivals[(queue_index[contact["queue_id"]], channel)] += 1
    for key, rate in rates.items():
        results["arrivals"][key] = {"count": arrivals[key], "expected": rate * 60}
    results["arrivals"]["total"] = {
        "count": sum(arrivals.values()), "expected": SETTINGS.arrivals_per_minute * 60,
    }

    for channel in SETTINGS.channels:
        answered = [c for c in contacts if c["channel"] == channel
                    and c["queue_outcome"] == "answered" and c["connected_at"] < START + HOUR]
        incomplete = [c for c in answered if c["handle_time_ms"] is None]
        times = [c["handle_time_ms"] for c in answered if c["handle_time_ms"] is not None]
        results["handle"][channel] = {
            "n": len(times),
            "incomplete": len(incomplete),
            "mean_ms": statistics.fmean(times),
            "sd_ms": statistics.stdev(times),
            "expected_ms": SETTINGS.channel(channel).expected_handle_ms(),
        }

        # Patience is exponential: while a customer waits, it gives up at the constant rate
        # 1 / mean patience. Over all queue stays the number of abandons D is then Poisson
        # with mean W / mean patience, W the total time customers spent waiting (answered,
        # callback and still-waiting stays are censored at the time they ended).
        stays = [c for c in contacts if c["channel"] == channel and c["enqueued_at"] is not None
                 and c["initiation_method"] != "CALLBACK"]
        exposure_ms = sum((c["left_queue_at"] or END) - c["enqueued_at"] for c in stays)
        abandoned = sum(1 for c in stays if c["queue_outcome"] == "abandoned")
        patience_ms = SETTINGS.channel(channel).mean_patience_s * 1000
        results["abandonment"][channel] = {
            "stays": len(stays),
            "abandoned": abandoned,
            "exposure_s": exposure_ms / 1000,
            "expected_abandoned": exposure_ms / patience_ms,
            "patience_estimate_s": exposure_ms / abandoned / 1000 if abandoned else None,
            "patience_s": patience_ms / 1000,
        }
    return results


def test_the_hour_produces_both_feeds_and_truth(hour):
    centre, events, truth = hour
    feeds = {e.feed for e in events}
    assert feeds == {AGENT_FEED, CONTACT_FEED}
    kinds = {line["kind"] for line in truth}
    assert kinds >= {"instance", "agent", "contact", "agent_activity", "interval",
                     "queue_gauge", "agent_gauge", "summary"}
    assert len(truth.of("agent")) == 50 and len(centre.queues) == 3
    assert {c["channel"] for c in truth.of("contact")} == {"VOICE", "CHAT"}


def test_arrival_counts_agree_with_the_poisson_rates(hour):
    centre, _, truth = hour
    arrivals = measure(centre, truth)["arrivals"]
    for key, seen in arrivals.items():
        low, high = poisson_interval(seen["expected"])
        assert low <= seen["count"] <= high, (key, seen, (low, high))


def test_mean_handle_time_agrees_with_the_configured_distributions(hour):
    centre, _, truth = hour
    for channel, seen in measure(centre, truth)["handle"].items():
        assert seen["incomplete"] == 0, seen
        assert seen["n"] >= 100, seen
        error = Z * seen["sd_ms"] / math.sqrt(seen["n"])
        assert abs(seen["mean_ms"] - seen["expected_ms"]) <= error, (channel, seen, error)


def test_abandonment_agrees_with_exponential_patience(hour):
    centre, _, truth = hour
    for channel, seen in measure(centre, truth)["abandonment"].items():
        assert seen["abandoned"] >= 20, seen  # enough waiting for the test to mean something
        low, high = poisson_interval(seen["expected_abandoned"])
        assert low <= seen["abandoned"] <= high, (channel, seen, (low, high))


def test_the_checks_reject_a_wrong_input(hour):
    """The same measurements against inputs the hour was not run with: they must fail."""
    centre, _, truth = hour
    measured = measure(centre, truth)
    total = measured["arrivals"]["total"]
    low, high = poisson_interval(total["expected"] * 1.15)
    assert not low <= total["count"] <= high
    voice = measured["handle"]["VOICE"]
    error = Z * voice["sd_ms"] / math.sqrt(voice["n"])
    assert abs(voice["mean_ms"] - voice["expected_ms"] * 1.2) > error
    voice = measured["abandonment"]["VOICE"]
    low, high = poisson_interval(voice["expected_abandoned"] * 1.5)
    assert not low <= voice["abandoned"] <= high
