"""The systemd unit and the Dockerfile run the real service with the files they name."""

from __future__ import annotations

import re
import shlex

from digest.cli.main import build_parser

from .conftest import REPO

CONTRIB = REPO / "contrib"


def test_the_systemd_unit_runs_the_scheduler_and_stops_it_gently() -> None:
    unit = (CONTRIB / "digest.service").read_text(encoding="utf-8")
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    command = shlex.split(settings["ExecStart"])

    assert command[1].endswith("run_digest.py")
    args = build_parser().parse_args(command[2:])
    assert (args.command, args.log_json) == ("schedule", True)
    assert settings["KillSignal"] == "SIGTERM" and int(settings["TimeoutStopSec"]) >= 10
    assert settings["ExecReload"] == "/bin/kill -HUP $MAINPID"


def test_the_dockerfile_copies_what_exists_and_keeps_state_on_a_volume() -> None:
    dockerfile = (CONTRIB / "Dockerfile").read_text(encoding="utf-8")
    copied = [p for line in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M) for p in line.split()]
    command = re.search(r"^CMD \[(.+)\]$", dockerfile, re.M)

    assert copied and all((REPO / path).exists() for path in copied)
    assert 'VOLUME ["/data"]' in dockerfile and "DIGEST_DATABASE=/data/digest.db" in dockerfile
    assert command is not None
    args = [part.strip(' "') for part in command[1].split(",")]
    assert args[:2] == ["python", "run_digest.py"]
    assert build_parser().parse_args(args[2:]).command == "schedule"
