"""When each record landed: a proxy between the job and the Timestream emulator that forwards
every request and notes the moment the emulator acknowledged each record a `WriteRecords` call
wrote. Polling the emulator instead would see a record up to a poll late, and each poll
serialises the emulator's whole state, holding up the job's writes while it does.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from cli.landed import LandedRecord

WRITE_RECORDS = "WriteRecords"
_HOP_BY_HOP = frozenset(("connection", "keep-alive", "transfer-encoding", "content-length"))


class WriteLog:
    """The proxy, on a free loopback port (`endpoint`), forwarding to `upstream`.
    `first_seen` maps each record's identity (table, dimensions, time, version) to the record
    and the wall time in milliseconds its write was acknowledged, first write first."""

    def __init__(self, upstream: str):
        target = urlparse(upstream)
        self._upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self._lock = threading.Lock()
        self.first_seen: dict[tuple, tuple[LandedRecord, int]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> WriteLog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wrote(self, body: bytes, acknowledged_ms: int) -> None:
        request = json.loads(body)
        with self._lock:
            for record in request.get("Records", []):
                landed = LandedRecord(request.get("DatabaseName", ""), request["TableName"],
                                      record)
                identity = (landed.table, tuple(sorted(landed.dimensions.items())),
                            landed.time_ms, record.get("Version"))
                self.first_seen.setdefault(identity, (landed, acknowledged_ms))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        log = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection(*log._upstream, timeout=60)
                try:
                    upstream.request("POST", self.path, body, {
                        k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP})
                    response = upstream.getresponse()
                    answer = response.read()
                finally:
                    upstream.close()
                if (response.status == 200
                        and self.headers.get("X-Amz-Target", "").endswith(WRITE_RECORDS)):
                    log.wrote(body, time.time_ns() // 1_000_000)
                self.send_response_only(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                pass

        return Forward
