"""What has landed in an InfluxDB database, read back with InfluxQL as the Timestream records
the job computed: each point a `LandedRecord` whose measures carry their Timestream types, so
checks written against the Timestream emulator compare InfluxDB the same way.

A point has no version (the last write of a point is the point), so each reads as version 0.
"""

from __future__ import annotations

from connectors.influxdb import influxql, quoted_identifier
from cli.landed import LandedRecord

_TYPES = {"integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN", "string": "VARCHAR"}


def influxdb_records(endpoint: str, database: str) -> list[LandedRecord]:
    """Every point of every measurement in `database`, in time order per series."""
    records = []
    for measurement in _column(influxql(endpoint, "SHOW MEASUREMENTS", database)):
        name = quoted_identifier(measurement)
        types = dict(_rows(influxql(endpoint, f"SHOW FIELD KEYS FROM {name}", database)))
        answer = influxql(endpoint, f"SELECT * FROM {name} GROUP BY *", database)
        for series in answer["results"][0].get("series", []):
            tags = series.get("tags", {})
            dimensions = [{"Name": k, "Value": v, "DimensionValueType": "VARCHAR"}
                          for k, v in sorted(tags.items()) if v != ""]
            columns = series["columns"]
            for values in series["values"]:
                row = dict(zip(columns, values))
                measures = [
                    _measure(field, value, types.get(field, "string"))
                    for field, value in row.items()
                    if field != "time" and field not in tags and value is not None
                ]
                records.append(LandedRecord(database, measurement, {
                    "Dimensions": dimensions, "MeasureName": measurement,
                    "MeasureValueType": "MULTI", "MeasureValues": measures,
                    "Time": str(row["time"]), "TimeUnit": "MILLISECONDS", "Version": 0,
                }))
    return records


def _measure(name: str, value: object, influx_type: str) -> dict:
    kind = _TYPES.get(influx_type, "VARCHAR")
    if kind == "DOUBLE":
        text = repr(float(value))
    elif kind == "BOOLEAN":
        text = "true" if value else "false"
    else:
        text = str(value)
    return {"Name": name, "Value": text, "Type": kind}


def _rows(answer: dict) -> list[list]:
    return [values for series in answer["results"][0].get("series", [])
            for values in series["values"]]


def _column(answer: dict) -> list[str]:
    return [values[0] for values in _rows(answer)]

