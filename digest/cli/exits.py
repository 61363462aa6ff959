"""Exit codes shared by every command."""

EXIT_OK = 0  # everything worked
EXIT_PARTIAL = 1  # something failed (a source, a send) and the rest went on
EXIT_USAGE = 2  # bad arguments or configuration: nothing was done
