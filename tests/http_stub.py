"""A loopback HTTP server for download tests: serves bytes, honours (or ignores) Range, and can
drop the connection part-way through a response, as a flaky network does."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stub:
    """Serve ``files`` (path -> bytes) on 127.0.0.1.

    Attributes
    ----------
    drop_after
        When set, the next ``drops`` full responses announce the whole length but send only
        this many bytes of body before closing the connection.
    support_range
        Honour ``Range: bytes=N-`` with 206 (else always 200 with the whole file).
    requests
        ``(path, range header or None)`` of every request received.
    """

    def __init__(self, files: dict[str, bytes], *, support_range: bool = True,
                 drop_after: int | None = None, drops: int = 1):
        self.files = files
        self.support_range = support_range
        self.drop_after = drop_after
        self.drops = drops
        self.requests: list[tuple[str, str | None]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                rng = self.headers.get("Range")
                stub.requests.append((self.path, rng))
                body = stub.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and stub.support_range and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if (stub.drop_after is not None and stub.drops > 0 and start == 0
                        and len(part) > stub.drop_after):
                    stub.drops -= 1
                    self.wfile.write(part[: stub.drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Stub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
