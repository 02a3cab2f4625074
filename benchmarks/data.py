"""Simulator files for the throughput and write-cost runs, made once and cached by parameters.

A bounded file source reads one file at a time per reader, and a file read after another one
would be late as a whole (its event times start again). So a run at parallelism P reads P
files, each holding the records of some partition keys in delivery order: a Kinesis stream
with P shards. Every layout comes from the same single simulation, so the runs at each
parallelism see the very same records.
"""

from __future__ import annotations

import json
import math
import shutil
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from jobs.config import PROJECT_ROOT
from simulator.centre import AGENT_FEED
from simulator.output import Progress
from simulator.settings import CentreSettings
from simulator.simulation import Simulation

CACHE_DIR = PROJECT_ROOT / ".local" / "bench" / "data"
# Records one instance of the default centre below produces per simulated hour (both feeds),
# measured; it only sizes the simulation, the run stops at the wanted record count.
RECORDS_PER_INSTANCE_HOUR = 13_000
START_MS = 1_767_600_000_000  # 2026-01-05T08:00:00Z


@dataclass(frozen=True)
class DataSpec:
    """What to simulate: instances of `agents` agents on `queues` queues, `rate` contacts
    arriving per minute per instance, for up to `hours`, stopping at `records` records."""

    records: int
    agents: int = 100
    queues: int = 4
    rate: float = 20.0
    hours: float = 2.0
    seed: int = 7
    shards: tuple[int, ...] = (1, 2)

    @classmethod
    def one_instance(cls, records: int, shards: tuple[int, ...] = (1, 2)) -> DataSpec:
        """A single-instance centre simulated for as long as `records` records take."""
        return cls(records, hours=math.ceil(records / RECORDS_PER_INSTANCE_HOUR) + 1,
                   shards=shards)

    @property
    def instances(self) -> int:
        return max(1, math.ceil(self.records / (RECORDS_PER_INSTANCE_HOUR * self.hours)))

    @property
    def key(self) -> str:
        shards = "-".join(str(s) for s in self.shards)
        return (f"r{self.records}-a{self.agents}-q{self.queues}-rate{self.rate:g}-h{self.hours:g}"
                f"-s{self.seed}-i{self.instances}-p{shards}")


@dataclass(frozen=True)
class Dataset:
    spec: DataSpec
    directory: Path
    records: int
    agent_records: int
    contact_records: int
    agents: int
    simulated_ms: int  # from the simulation's start to its last record

    def files(self, parallelism: int) -> list[Path]:
        return sorted((self.directory / f"p{parallelism}").glob("records-*.jsonl"))


def shard_of(partition_key: str, shards: int) -> int:
    """Stable across runs and machines (Python's own hash of a str is salted per process)."""
    return zlib.crc32(partition_key.encode()) % shards


def dataset(spec: DataSpec, cache_dir: Path = CACHE_DIR) -> Dataset:
    """The cached files of `spec`, simulated first when missing."""
    directory = cache_dir / spec.key
    meta = directory / "meta.json"
    if not meta.is_file():
        _simulate(spec, directory)
    facts = json.loads(meta.read_text())
    return Dataset(spec, directory, **{k: facts[k] for k in (
        "records", "agent_records", "contact_records", "agents", "simulated_ms")})


def _simulate(spec: DataSpec, directory: Path) -> None:
    partial = directory.with_name(directory.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    outputs = {}
    for shards in spec.shards:
        (partial / f"p{shards}").mkdir(parents=True)
        outputs[shards] = [(partial / f"p{shards}" / f"records-{n}.jsonl").open("wb")
                           for n in range(shards)]
    duration_ms = int(spec.hours * 3_600_000)
    settings = CentreSettings(agents=spec.agents, queues=spec.queues,
                              arrivals_per_minute=spec.rate)
    simulation = Simulation([settings] * spec.instances, seed=spec.seed, start_ms=START_MS)
    progress = Progress(START_MS, START_MS + duration_ms)
    counts = {"records": 0, "agent_records": 0, "contact_records": 0}
    last = START_MS
    try:
        for event in simulation.events(duration_ms):
            line = event.payload + b"\n"
            for shards, files in outputs.items():
                files[shard_of(event.partition_key, shards)].write(line)
            counts["records"] += 1
            counts["agent_records" if event.feed == AGENT_FEED else "contact_records"] += 1
            last = event.at
            progress.update(event.at, counts["records"])
            if counts["records"] >= spec.records:
                break
    finally:
        for files in outputs.values():
            for file in files:
                file.close()
    progress.update(last, counts["records"], force=True)
    facts = {**counts, "agents": spec.agents * spec.instances, "simulated_ms": last - START_MS,
             "spec": asdict(spec)}
    (partial / "meta.json").write_text(json.dumps(facts, indent=1))
    shutil.rmtree(directory, ignore_errors=True)
    partial.rename(directory)
