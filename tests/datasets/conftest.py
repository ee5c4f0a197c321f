"""Fixtures for the data set tests: a loopback file server and an isolated data home.

Nothing here reaches the internet: downloads are served from a temporary
folder on 127.0.0.1, and "offline" is a loopback port nobody listens on.
"""

from __future__ import annotations

import functools
import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dagmm.datasets._base import DATA_HOME_ENV

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


@dataclass
class FileServer:
    """A folder served over HTTP on the loopback interface."""

    root: Path
    base_url: str
    requests: list[str] = field(default_factory=list)

    def serve(self, name: str, content: bytes) -> tuple[str, str]:
        """Publish ``content`` as ``name``; return its URL and SHA-256."""
        (self.root / name).write_bytes(content)
        return f"{self.base_url}/{name}", hashlib.sha256(content).hexdigest()


class _Handler(SimpleHTTPRequestHandler):
    """Serves files quietly, records paths, and can cut a response short."""

    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.requests.append(self.path)
        if self.path.startswith("/truncated/"):
            # Announce 1000 bytes, send 10, close: an interrupted download.
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def no_env_data_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset DAGMM_DATA_HOME so a test sees only the folders it names."""
    monkeypatch.delenv(DATA_HOME_ENV, raising=False)


@pytest.fixture
def file_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileServer]:
    """Serve ``tmp_path / "served"`` on 127.0.0.1, bypassing any proxy."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "served"
    root.mkdir()
    requests: list[str] = []
    handler_class = type("Handler", (_Handler,), {"requests": requests})
    handler = functools.partial(handler_class, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FileServer(root, f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def offline_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """A loopback URL whose port refuses connections."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/missing.bin"
