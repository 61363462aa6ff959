"""The command line: argument parsing, output and exit codes. The only package that prints."""

from digest.cli.main import main

__all__ = ["main"]
