"""Several simulated instances together, with delivery faults, and the truth of all of it."""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterator, Sequence

from simulator.centre import Centre, Emitted
from simulator.faults import FaultInjector, FaultSettings
from simulator.settings import CentreSettings
from simulator.truth import (
    GAUGE_PERIOD_MS,
    INTERVAL_MS,
    SERVICE_LEVELS_S,
    TRUTH_VERSION,
    TruthSink,
)


def instance_seed(seed: int | str, index: int) -> int | str:
    """The seed of the `index`-th instance: the seed itself for the first one."""
    return seed if index == 0 else f"{seed}/instance/{index}"


class Simulation:
    """One or more Amazon Connect instances (each with its own seed-derived ids), their records
    merged in time order, then the delivery faults. Runs once."""

    def __init__(self, instances: CentreSettings | Sequence[CentreSettings] | None = None,
                 seed: int | str = 1, start_ms: int = 0,
                 faults: FaultSettings | None = None, truth: TruthSink | None = None):
        if instances is None:
            instances = [CentreSettings()]
        elif isinstance(instances, CentreSettings):
            instances = [instances]
        if not instances:
            raise ValueError("a simulation needs at least one instance")
        self.seed = seed
        self.start_ms = start_ms
        self.faults = faults or FaultSettings()
        self._truth = truth
        self.centres = [
            Centre(settings, instance_seed(seed, n), start_ms, truth)
            for n, settings in enumerate(instances)
        ]
        ids = [centre.instance_id for centre in self.centres]
        if len(set(ids)) != len(ids):
            raise ValueError(f"instances need distinct instance ids, got {ids}")
        self.injector = FaultInjector(self.faults, seed, truth)
        self.records = 0

    def events(self, duration_ms: int | None = None) -> Iterator[Emitted]:
        end = None if duration_ms is None else self.start_ms + duration_ms
        truth = self._truth
        if truth is not None:
            truth.write({
                "kind": "meta",
                "version": TRUTH_VERSION,
                "seed": self.seed,
                "start_ms": self.start_ms,
                "end_ms": end,
                "interval_ms": INTERVAL_MS,
                "gauge_period_ms": GAUGE_PERIOD_MS,
                "service_levels_s": list(SERVICE_LEVELS_S),
                "instance_ids": [centre.instance_id for centre in self.centres],
                "faults": dataclasses.asdict(self.faults),
            })
        streams = [centre.events(duration_ms) for centre in self.centres]
        merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_time)
        delivered = self.injector.run(merged) if self.faults.any else merged
        for event in delivered:
            self.records += 1
            yield event
        if truth is not None and end is not None:
            truth.write({
                "kind": "end",
                "end_ms": end,
                "records_delivered": self.records,
                "faults": dict(self.injector.counts),
            })


def _time(event: Emitted) -> int:
    return event.at
