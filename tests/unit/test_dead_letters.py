import base64
import json

import orjson
import pytest

from connectors.dead_letter import (
    JsonLinesDeadLetters, KinesisDeadLetters, MAX_KINESIS_RECORD_BYTES, check_target,
)
from cli import commands
from jobs.core.events import parse_record


def letter(raw: bytes) -> str:
    return orjson.dumps(parse_record(raw, "agent-events", 7).to_json()).decode()


class StubKinesis:
    def __init__(self, failures: int = 0):
        self.failures = failures
        self.records = []

    def put_record(self, StreamName, Data, PartitionKey):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("unreachable")
        self.records.append((StreamName, Data, PartitionKey))


def test_jsonl_dead_letters_are_one_object_per_line(tmp_path):
    path = tmp_path / "dead" / "letters.jsonl"
    writer = JsonLinesDeadLetters(path)
    writer.write(letter(b"{broken"))
    writer.write(letter(b"\xff"))
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["reason"] for line in lines] == ["invalid_json", "not_utf8"]
    assert base64.b64decode(lines[1]["raw_base64"]) == b"\xff"
    assert lines[0]["stream"] == "agent-events" and lines[0]["arrival_time"] == 7


def test_a_run_without_dead_letters_leaves_no_file(tmp_path):
    path = tmp_path / "dead" / "letters.jsonl"
    writer = JsonLinesDeadLetters(path)
    writer.close()
    assert not path.parent.exists()


def test_kinesis_dead_letters_are_retried_and_keyed_by_reason():
    client = StubKinesis(failures=2)
    KinesisDeadLetters(client, "dead-letters", sleep=lambda s: None).write(letter(b"{broken"))
    [(stream, data, key)] = client.records
    assert (stream, key) == ("dead-letters", "invalid_json")
    assert json.loads(data)["reason"] == "invalid_json"


def test_kinesis_dead_letters_over_1_mb_keep_a_prefix_and_say_so():
    client = StubKinesis()
    KinesisDeadLetters(client, "dl").write(letter(b"x" * 1_048_577))
    data = client.records[0][1]
    assert len(data) <= MAX_KINESIS_RECORD_BYTES
    assert json.loads(data)["raw_truncated"] is True


def test_kinesis_that_stays_down_fails_loudly():
    with pytest.raises(RuntimeError, match="cannot be written to Kinesis stream 'dl'"):
        KinesisDeadLetters(StubKinesis(failures=99), "dl", max_attempts=3,
                           sleep=lambda s: None).write(letter(b"{"))


@pytest.mark.parametrize("target", ["file:x", "jsonl:", "kinesis:", "s3://bucket"])
def test_unknown_targets_name_the_supported_forms(target):
    with pytest.raises(ValueError, match="use jsonl:PATH .* or kinesis:STREAM"):
        check_target(target)


def test_run_refuses_a_bad_dead_letter_target_before_flink_starts(capsys):
    assert commands.main(["run", "--dead-letter", "s3://bucket"]) == 2
    assert "dead-letter target 's3://bucket' is not supported" in capsys.readouterr().err
