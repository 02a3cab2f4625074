"""The counts file the sink and dead-letter operators append to for a replay."""


from connectors.counts import MAX_MESSAGE_CHARS, CountsFile, read_counts


def test_lines_of_several_writers_are_appended_whole_and_made_at_the_first(tmp_path):
    path = tmp_path / "counts.jsonl"
    sink, letters = CountsFile(path), CountsFile(path)
    sink.written("queue_interval", 0)  # a flush that wrote nothing leaves no line
    assert not path.exists()
    sink.written("queue_interval", 3)
    letters.dead_lettered({"reason": "influxdb_refused", "table": "queue_interval",
                           "message": "x" * 2 * MAX_MESSAGE_CHARS, "record": {"big": "y" * 999}})
    sink.written("agent_interval", 2)
    letters.dead_lettered({"reason": "invalid_json", "message": "not JSON", "raw_base64": "e30="})
    sink.close()
    letters.close()
    assert read_counts(path) == [
        {"table": "queue_interval", "written": 3},
        {"table": "queue_interval", "reason": "influxdb_refused",
         "message": "x" * MAX_MESSAGE_CHARS},
        {"table": "agent_interval", "written": 2},
        {"table": None, "reason": "invalid_json", "message": "not JSON"},
    ]


def test_a_writer_reopens_after_close_and_appends(tmp_path):
    path = tmp_path / "counts.jsonl"
    counts = CountsFile(path)
    counts.written("queue_interval", 1)
    counts.close()
    counts.close()  # closing twice is harmless (Flink may close after a failed open)
    counts.written("queue_interval", 1)
    counts.close()
    assert [line["written"] for line in read_counts(path)] == [1, 1]


def test_no_file_is_no_counts(tmp_path):
    assert read_counts(tmp_path / "absent.jsonl") == []
