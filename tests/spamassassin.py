"""Debian's SpamAssassin scoring a message offline; which of its rules read headers or MIME."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from email import policy
from email.parser import HeaderParser
from functools import cache
from pathlib import Path

# The package's own rules, not sa-update's, so a rules update never changes a test result.
RULES = Path("/usr/share/spamassassin")
# Only the *.pre files (they load the plugins); the site's local.cf stays out.
SITE = Path("/etc/spamassassin")
MIME_PLUGIN = Path("/usr/share/perl5/Mail/SpamAssassin/Plugin/MIMEEval.pm")
# BodyEval's comparison of the two multipart/alternative parts is about MIME structure too.
MIME_BODY_EVALS = {"multipart_alternative_difference", "multipart_alternative_difference_count"}
SETTINGS = ["use_bayes 0", "bayes_auto_learn 0", "add_header all Hits _TESTSSCORES(,)_"]
DEFINITION = re.compile(r"^\s*(header|mimeheader|body|rawbody|full|uri|meta)\s+(\w+)\s+(.*)$", re.M)
_NAME = re.compile(r"\b[A-Za-z_]\w*")


@dataclass(frozen=True)
class Verdict:
    score: float
    hits: dict[str, float]  # rule name -> points
    report: str = field(repr=False)  # SpamAssassin's table: rules, points, descriptions


def score_message(message: bytes) -> Verdict:
    """Score `message` with local rules only: no DNS, no Bayes, no site or user preferences."""
    with tempfile.TemporaryDirectory(prefix="spamassassin-") as scratch:
        site, prefs = Path(scratch, "site"), Path(scratch, "user_prefs")
        site.mkdir()
        for pre in SITE.glob("*.pre"):
            shutil.copy(pre, site)
        prefs.touch()
        command = ["spamassassin", "--local", "--test-mode", f"--configpath={RULES}"]
        command += [f"--siteconfigpath={site}", f"--prefspath={prefs}"]
        command += [f"--cf={line}" for line in SETTINGS]
        # A scratch HOME: SpamAssassin creates ~/.spamassassin even when it stores nothing.
        environ = {"PATH": os.environ["PATH"], "HOME": scratch, "LC_ALL": "C"}
        done = subprocess.run(command, input=message, capture_output=True, env=environ)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    output = done.stdout.decode("utf-8", "replace")
    headers = HeaderParser(policy=policy.default).parsestr(output)
    score = re.search(r"score=(-?[\d.]+)", str(headers["X-Spam-Status"]))
    assert score, output
    hits = re.findall(r"(\w+)=(-?[\d.]+)", str(headers["X-Spam-Hits"]))
    report = output[output.rindex("Content analysis details:") :].rstrip()
    return Verdict(float(score[1]), {name: float(points) for name, points in hits}, report)


@cache
def _definitions() -> dict[str, tuple[str, str]]:
    """Rule name -> (type, definition), the last read winning as in SpamAssassin.

    A `meta X 0`, the fallback in an `if version` or `if plugin` block, only switches X off."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(RULES.glob("*.cf")):
        for kind, name, definition in DEFINITION.findall(path.read_text("latin-1")):
            definition = re.sub(r"(?<!\\)#.*", "", definition).strip()
            if definition.strip("()") != "0":
                found[name] = (kind, definition)
    return found


@cache
def _mime_evals() -> frozenset[str]:
    registered = re.findall(r'register_eval_rule\("(\w+)"', MIME_PLUGIN.read_text())
    return frozenset(registered) | MIME_BODY_EVALS


@cache
def reads_headers_or_mime(rule: str) -> bool:
    """A header or mimeheader rule, an eval of MIME structure, or a meta requiring only those."""
    kind, definition = _definitions().get(rule, ("", ""))
    if kind in ("header", "mimeheader"):
        return True
    if kind == "meta":  # judged by the rules it requires, not by the exceptions it negates
        required = _NAME.findall(re.sub(r"!\s*\w+", "", definition)) or _NAME.findall(definition)
        return bool(required) and all(reads_headers_or_mime(part) for part in required)
    evaluated = re.match(r"eval:(\w+)", definition)
    return evaluated is not None and evaluated[1] in _mime_evals()
