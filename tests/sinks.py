"""Real servers on loopback that receive notifications: an SMTP server (aiosmtpd) and a webhook
server (http.server in a thread). Each records what it received; each can be stopped and started
again on the same port to play a channel that is down, then up."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

WEBHOOK_SECRET = "bí-mật-webhook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpSink:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.box = _Mailbox()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.box.lock:
            return list(self.box.messages)

    def start(self) -> None:
        self._controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self) -> dict[str, str]:
        return {"THIDUA_SMTP_HOST": "127.0.0.1", "THIDUA_SMTP_PORT": str(self.port)}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def signature_ok(self) -> bool:
        expected = hmac.new(WEBHOOK_SECRET.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("x-thidua-signature", ""), f"sha256={expected}")


class WebhookSink:
    """An HTTP server on 127.0.0.1 that keeps every POST; `hang_on` makes the n-th request
    (1-based) block until the test lets it go, after `hung` is set."""

    def __init__(self, status: int = 204) -> None:
        self.port = free_port()
        self.status = status
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.hang_on: int | None = None
        #: Seconds each request takes; keys being received now; keys received while in flight.
        self.delay = 0.0
        self.inflight: set[str] = set()
        self.overlaps: list[str] = []
        self.hung = threading.Event()
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                key = headers.get("x-thidua-idempotency-key", "")
                with sink.lock:
                    sink.received.append(Received(self.path, headers, body))
                    count = len(sink.received)
                    if key in sink.inflight:
                        sink.overlaps.append(key)
                    sink.inflight.add(key)
                try:
                    if sink.hang_on is not None and count == sink.hang_on:
                        sink.hung.set()
                        sink.release.wait(30)
                    elif sink.delay:
                        time.sleep(sink.delay)
                    self.send_response(sink.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender was killed while we waited
                finally:
                    with sink.lock:
                        sink.inflight.discard(key)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def keys(self) -> list[str]:
        with self.lock:
            return [r.headers["x-thidua-idempotency-key"] for r in self.received]
