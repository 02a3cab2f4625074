"""The cluster's REST answers as `cli.flink_cluster` reads them, from a stand-in server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli import flink_cluster
from cli.flink_cluster import NO_WATERMARK, ClusterError, ClusterSettings

JOB = {"vertices": [{"id": "v1", "name": "Source: kinesis agents"},
                    {"id": "v2", "name": "metric sink -> Map"}]}


@pytest.fixture
def rest(tmp_path):
    """A REST stand-in answering `answers[path]`; yields (settings, answers)."""
    answers: dict[str, object] = {"/jobs/j1": JOB}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(answers[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield ClusterSettings(state_dir=tmp_path, rest_port=server.server_port), answers
    finally:
        server.shutdown()


def watermarks(*values: int) -> list[dict]:
    return [{"id": f"{n}.currentInputWatermark", "value": str(v)} for n, v in enumerate(values)]


def test_the_input_watermark_is_the_lowest_of_the_vertex_subtasks(rest):
    settings, answers = rest
    answers["/jobs/j1/vertices/v2/watermarks"] = watermarks(7_000, 5_000)
    assert flink_cluster.input_watermark(settings, "j1", "metric sink") == 5_000


def test_the_input_watermark_is_the_lowest_of_every_vertex_with_the_name(rest):
    """The metric sinks are one per table: event time is at a point once every sink is."""
    settings, answers = rest
    answers["/jobs/j1"] = {"vertices": [*JOB["vertices"],
                                        {"id": "v3", "name": "metric sink queue_interval"}]}
    answers["/jobs/j1/vertices/v2/watermarks"] = watermarks(7_000)
    answers["/jobs/j1/vertices/v3/watermarks"] = watermarks(6_000, 9_000)
    assert flink_cluster.input_watermark(settings, "j1", "metric sink") == 6_000


def test_a_subtask_without_a_watermark_holds_the_vertex_back(rest):
    settings, answers = rest
    answers["/jobs/j1/vertices/v2/watermarks"] = watermarks(7_000, NO_WATERMARK)
    assert flink_cluster.input_watermark(settings, "j1", "metric sink") == NO_WATERMARK
    answers["/jobs/j1/vertices/v2/watermarks"] = []
    assert flink_cluster.input_watermark(settings, "j1", "metric sink") == NO_WATERMARK


def test_a_vertex_the_job_lacks_is_named_in_the_error(rest):
    settings, _ = rest
    with pytest.raises(ClusterError, match="no vertex named 'timestream'"):
        flink_cluster.input_watermark(settings, "j1", "timestream")


def fake_home(tmp_path, *jars: str):
    home = tmp_path / "pyflink"
    for jar in jars:
        (home / jar).parent.mkdir(parents=True, exist_ok=True)
        (home / jar).write_text("")
    return home


def test_the_cluster_lib_holds_the_distribution_jars_and_flink_python(tmp_path, monkeypatch):
    home = fake_home(tmp_path, "lib/flink-dist-2.2.1.jar", "opt/flink-python-2.2.1.jar",
                     "opt/flink-sql-client-2.2.1.jar")
    monkeypatch.setattr(flink_cluster, "flink_home", lambda: home)
    lib = tmp_path / "cluster" / "lib"
    (lib).mkdir(parents=True)
    (lib / "flink-dist-2.1.0.jar").symlink_to(tmp_path / "gone.jar")  # another version's
    linked = flink_cluster.link_libraries(lib)
    assert [p.name for p in linked] == ["flink-dist-2.2.1.jar", "flink-python-2.2.1.jar"]
    assert all(p.resolve().parent.parent == home for p in linked)
    assert flink_cluster.link_libraries(lib) == linked  # again, while the cluster runs


def test_a_distribution_without_flink_python_is_named(tmp_path, monkeypatch):
    home = fake_home(tmp_path, "lib/flink-dist-2.2.1.jar")
    monkeypatch.setattr(flink_cluster, "flink_home", lambda: home)
    with pytest.raises(ClusterError, match="no flink-python jar in .*opt; reinstall"):
        flink_cluster.link_libraries(tmp_path / "lib")


def test_the_scripts_read_the_cluster_lib(tmp_path):
    settings = ClusterSettings(state_dir=tmp_path)
    assert flink_cluster._process_env(settings)["FLINK_LIB_DIR"] == str(tmp_path / "lib")
