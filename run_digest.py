"""Command-line entry point: see `python run_digest.py --help`."""

from digest.cli import main

raise SystemExit(main())
