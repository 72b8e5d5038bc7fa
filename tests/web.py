"""The web pages as a browser without JavaScript sees them: a real uvicorn server in a thread
over a test's service, and an httpx client that keeps its cookies and sends the forms' CSRF
tokens."""

from __future__ import annotations

import html
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from tests.polling import wait_for
from workflow.server import create_app
from workflow.service import Service
from workflow.settings import Settings

PASSWORD = "mat-khau-thu-nghiem"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
_FLASH = re.compile(r'<p class="flash" role="status">(.*?)</p>', re.S)


@contextmanager
def serving(service: Service, settings: Settings | None = None) -> Iterator[str]:
    """Serve `service`'s API and pages on a free port of 127.0.0.1; yield the base URL."""
    app = create_app(service, settings or Settings())
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 30, "the test server to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


class Visitor:
    """One browser: cookies kept, redirects not followed unless asked."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.last: httpx.Response | None = None

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, follow: bool = True) -> httpx.Response:
        self.last = self.client.get(path, follow_redirects=follow)
        return self.last

    def csrf(self) -> str:
        """The CSRF token of the last page's forms."""
        assert self.last is not None
        found = _CSRF.search(self.last.text)
        assert found, "the page has no form with a CSRF token"
        return html.unescape(found.group(1))

    def post(
        self, path: str, data: dict[str, str | list[str]] | None = None, *, csrf: str | None = None
    ) -> httpx.Response:
        """Post a form with the last page's CSRF token (or `csrf`), following the redirect."""
        fields: dict[str, str | list[str]] = {"csrf": self.csrf() if csrf is None else csrf}
        fields.update(data or {})
        self.last = self.client.post(path, data=fields, follow_redirects=True)
        return self.last

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        self.get("/dang-nhap")
        return self.post("/dang-nhap", {"username": username, "password": password})


def error_of(response: httpx.Response) -> str:
    found = _ERROR.search(response.text)
    return html.unescape(found.group(1)) if found else ""


def flash_of(response: httpx.Response) -> str:
    found = _FLASH.search(response.text)
    return html.unescape(found.group(1)) if found else ""
