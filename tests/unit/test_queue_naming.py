"""Queue names applied to the queue tables' records: service-level targets by name, and the
InfluxDB name tag."""

from jobs.core.queue_naming import QueueNaming, queue_key, record_name
from jobs.core.service_levels import ServiceLevels

LEVELS = ServiceLevels.parse("20,60", "name:Sales=120;q-id=30")


def record(queue_id: str, threshold: int | None = None, **measures) -> dict:
    dims = [{"Name": "instance_id", "Value": "i-1", "DimensionValueType": "VARCHAR"},
            {"Name": "queue_id", "Value": queue_id, "DimensionValueType": "VARCHAR"}]
    if threshold is not None:
        dims.append({"Name": "threshold_s", "Value": str(threshold),
                     "DimensionValueType": "VARCHAR"})
    return {"Dimensions": dims, "MeasureName": "t", "MeasureValueType": "MULTI",
            "MeasureValues": [{"Name": k, "Value": v, "Type": "VARCHAR"}
                              for k, v in measures.items()], "Time": "0", "Version": 1}


def test_records_are_keyed_by_instance_and_queue_and_names_read():
    assert queue_key(record("q-1")) == "i-1/q-1"
    assert record_name(record("q-1", queue_name="Sales")) == "Sales"


def test_only_the_tables_a_name_changes_pass_through_the_naming():
    service_level = ("instance_id", "queue_id", "channel", "threshold_s")
    names, realtime = ("instance_id", "queue_id"), ("instance_id", "queue_id", "channel")
    plain, tagged = QueueNaming(LEVELS), QueueNaming(LEVELS, name_tag=True)
    assert plain.needs("queue_service_level", service_level)
    assert plain.needs("queue_names", names)
    assert not plain.needs("queue_realtime", realtime)  # Timestream: straight to the sink
    assert tagged.needs("queue_realtime", realtime)  # InfluxDB: tagged with the name
    assert not tagged.needs("agent_realtime", ("instance_id", "agent_id"))


def test_a_threshold_is_written_only_for_the_queue_whose_newest_name_has_it():
    naming = QueueNaming(LEVELS)
    counted = [record("q-7", seconds) for seconds in LEVELS.candidates("q-7")]
    assert [naming.settle("queue_service_level", r, "Sales") is not None for r in counted] == [
        False, False, True]  # 20, 60, 120
    assert [naming.settle("queue_service_level", r, "Support") is not None for r in counted] == [
        True, True, False]  # another name: the default
    assert [naming.settle("queue_service_level", r, None) is not None for r in counted] == [
        True, True, False]  # never named: the default


def test_a_service_level_record_waits_only_when_a_name_would_decide():
    naming = QueueNaming(LEVELS)
    assert naming.waits(record("q-7", 20), None)
    assert not naming.waits(record("q-7", 20), "Sales")
    assert not naming.waits(record("q-id", 30), None)  # an id target: no name needed
    assert not naming.waits(record("q-7"), None)  # no threshold: nothing to decide
    assert not QueueNaming(ServiceLevels()).waits(record("q-7", 20), None)  # no name targets


def test_the_name_tag_holds_the_newest_name_or_the_id_of_a_queue_never_named():
    naming = QueueNaming(ServiceLevels(), name_tag=True)
    tags = lambda r: {d["Name"]: d["Value"] for d in r["Dimensions"]}  # noqa: E731
    assert tags(naming.settle("queue_interval", record("q-7"), "Sales"))["queue_name"] == "Sales"
    assert tags(naming.settle("queue_interval", record("q-7"), None))["queue_name"] == "q-7"
    names = record("q-7", queue_name="Sales")
    assert naming.settle("queue_names", names, "Sales") is names  # its own table: no tag
    plain = record("q-7")
    assert QueueNaming(ServiceLevels()).settle("queue_interval", plain, "Sales") is plain
