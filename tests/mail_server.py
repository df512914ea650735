"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests.

``refuse`` makes it answer every message with that SMTP reply (e.g. "451 4.3.0 Try later"
or "550 5.1.1 No such user") until it is set back to None.
"""

from __future__ import annotations

import email
import socket
import threading
import time
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_DATA(self, smtp_server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        if self.server.refuse:
            return self.server.refuse
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.server.lock:
            self.server.messages.append(message)
        return "250 2.0.0 Message accepted"


class MailServer:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse: str | None = None
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self) -> dict:
        """App settings that send mail here."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USE_TLS": False, "MAIL_TIMEOUT": 10}

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.to(address)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()
