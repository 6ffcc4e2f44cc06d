"""Loaded by every Python subprocess the tests start: installs the network guard and makes
the process exit with status 86 if anything tried to leave the machine."""

import atexit
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import guard

guard.install()


@atexit.register
def _report() -> None:
    if guard.violations:
        sys.stderr.write("NETWORK GUARD: " + "; ".join(guard.violations) + "\n")
        os._exit(86)
