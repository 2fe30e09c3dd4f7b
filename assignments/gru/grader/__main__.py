"""``python -m assignments.gru.grader --submission PATH [--json OUT]``: the generic grader
(``python -m minigrad.testing.grade``) with this assignment's checks; any of its options work."""

from __future__ import annotations

import sys
from pathlib import Path

from minigrad.testing.grade import main

if __name__ == "__main__":
    sys.exit(main(["--checks", str(Path(__file__).resolve().parent / "checks.py"),
                   *sys.argv[1:]]))
