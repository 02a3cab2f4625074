"""Each queue's newest name, applied to the records of the queue tables on their way to the sink.

Contact events name queues by id only; names come from agent snapshots (the `queue_names`
table). Two things need a queue's name after its rows are computed:

- service-level targets given by name (`jobs.core.service_levels`): a contact is counted
  against every threshold its queue may have (`ServiceLevels.candidates`), and a record of a
  threshold that is not the queue's, by its newest name, is not written;
- the `queue_name` tag on the InfluxDB rows of the queue tables, which InfluxQL dashboards group
  by since they cannot join (a queue never named keeps its id).

Records are the sink's (Timestream multi-measure records as dicts), keyed by instance and queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobs.core.service_levels import ServiceLevels

NAMES_TABLE = "queue_names"
NAME_MEASURE = "queue_name"
NAME_TAG = "queue_name"
THRESHOLD = "threshold_s"


def dimension(record: dict, name: str) -> str | None:
    return next((d["Value"] for d in record["Dimensions"] if d["Name"] == name), None)


def queue_key(record: dict) -> str:
    """The key of a queue table's record: its instance and queue."""
    return f"{dimension(record, 'instance_id')}/{dimension(record, 'queue_id')}"


def record_name(record: dict) -> str | None:
    """The name a `queue_names` record holds."""
    return next((m["Value"] for m in record["MeasureValues"] if m["Name"] == NAME_MEASURE), None)


@dataclass(frozen=True)
class QueueNaming:
    """`levels`: each queue's service-level thresholds; `name_tag`: whether records get the
    `queue_name` tag (the InfluxDB target)."""

    levels: ServiceLevels
    name_tag: bool = False

    def needs(self, table: str, dimensions: tuple[str, ...]) -> bool:
        """Whether a table's records must pass here: the names themselves, the service-level
        tables, and for the name tag every table keyed by queue. The others go straight to the
        sink (most records are `queue_realtime`'s)."""
        return "queue_id" in dimensions and (
            self.name_tag or table == NAMES_TABLE or THRESHOLD in dimensions)

    def waits(self, record: dict, name: str | None) -> bool:
        """Whether `record` must wait for its queue's name: a service-level record of a queue
        whose thresholds depend on its name while none is known (None)."""
        return name is None and dimension(record, THRESHOLD) is not None \
            and self.levels.needs_name(dimension(record, "queue_id"))

    def settle(self, table: str, record: dict, name: str | None) -> dict | None:
        """`record` as written for a queue whose newest name is `name` (None: none known): None
        when its threshold is not one of the queue's; with the name tag when asked."""
        queue_id = dimension(record, "queue_id")
        threshold = dimension(record, THRESHOLD)
        if threshold is not None and int(threshold) not in self.levels.for_queue(queue_id, name):
            return None
        if self.name_tag and table != NAMES_TABLE:
            tag = {"Name": NAME_TAG, "Value": name or queue_id, "DimensionValueType": "VARCHAR"}
            return {**record, "Dimensions": [*record["Dimensions"], tag]}
        return record
