"""An SMTP sink in a process of its own that durably records every message it accepts.

Usage: python -m tests.smtpsink PORTFILE RECORDFILE

Listens on a free port of 127.0.0.1 and writes the port to PORTFILE once it accepts
connections. Each accepted message adds one line per recipient, "recipient<TAB>Message-ID",
to RECORDFILE, flushed and fsynced before the 250 reply: the record is the truth about
what the server took, whatever happens to the client. Stops on SIGTERM or SIGINT.
`running_sink` starts one for a test and `accepted` reads its record.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, BinaryIO

from aiosmtpd.smtp import SMTP

_HEADERS = BytesHeaderParser(policy=policy.default)


class RecordingHandler:
    def __init__(self, record: BinaryIO) -> None:
        self.record = record

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        message_id = _HEADERS.parsebytes(envelope.content).get("Message-ID", "")
        lines = "".join(f"{to}\t{message_id}\n" for to in envelope.rcpt_tos)
        self.record.write(lines.encode())
        self.record.flush()
        os.fsync(self.record.fileno())  # recorded for good before the client hears 250
        return "250 Message accepted"


async def serve(port_file: Path, record_file: Path) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    with record_file.open("ab") as record:
        handler = RecordingHandler(record)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="smtpsink"), "127.0.0.1", 0
        )
        port = server.sockets[0].getsockname()[1]
        partial = port_file.with_suffix(".partial")
        partial.write_text(str(port))
        partial.replace(port_file)  # readers never see half a number
        await stop.wait()
        server.close()


@dataclass(frozen=True)
class Sink:
    port: int
    record_file: Path

    def accepted(self) -> list[tuple[str, str]]:
        """(recipient, Message-ID) of every message accepted so far, in order."""
        text = self.record_file.read_text(encoding="utf-8")
        pairs = (line.split("\t") for line in text.splitlines())
        return [(to, message_id) for to, message_id in pairs]

    def count(self) -> int:
        return self.record_file.read_bytes().count(b"\n")


@contextmanager
def running_sink(folder: Path, timeout: float = 10) -> Iterator[Sink]:
    """Start `python -m tests.smtpsink` with its files in `folder`; stop it afterwards."""
    port_file, record_file = folder / "sink.port", folder / "sink.record"
    record_file.touch()
    root = Path(__file__).parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.smtpsink", str(port_file), str(record_file)], cwd=root
    )
    try:
        deadline = time.monotonic() + timeout
        while not port_file.exists():
            assert process.poll() is None, f"the sink exited with {process.returncode}"
            assert time.monotonic() < deadline, "the sink never started listening"
            time.sleep(0.02)
        yield Sink(int(port_file.read_text()), record_file)
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2])))
