"""A minimal SMTP server on loopback that keeps every message it is given (for the fault suite)."""

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._say("220 sink ESMTP")
        data_lines: list[bytes] | None = None
        for _ in range(10_000):  # bounded: one conversation is a few commands
            raw = self.rfile.readline()
            if not raw:
                return
            if data_lines is not None:
                if raw.rstrip(b"\r\n") == b".":
                    self.server.messages.append(b"".join(data_lines).decode(errors="replace"))  # type: ignore[attr-defined]
                    data_lines = None
                    self._say("250 OK queued")
                else:
                    data_lines.append(raw)
                continue
            verb = raw.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self._say("250 sink")
            elif verb == b"DATA":
                data_lines = []
                self._say("354 go ahead")
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self._say("250 OK")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int):
        super().__init__(("127.0.0.1", port), _Handler)
        self.messages: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)

    def __enter__(self) -> "SmtpSink":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
