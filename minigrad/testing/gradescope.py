"""Build a Gradescope autograder zip for an assignment: ``python -m minigrad.testing.gradescope``.

::

    python -m minigrad.testing.gradescope assignments/tiny --out tiny-autograder.zip

The zip holds what Gradescope runs and nothing a student should see:

- ``setup.sh``: installs minigrad from the package index (``pip install minigrad-rnn==X``,
  this version), once, when the autograder image is built;
- ``run_autograder``: grades ``/autograder/submission`` with
  ``python -m minigrad.testing.grade`` and writes ``/autograder/results/results.json``
  (``AUTOGRADER=/some/folder`` and ``PYTHON=python3.12`` let you try it elsewhere);
- ``grader/``: the assignment's ``checks.py`` and ``references/`` (not ``make_references.py``,
  and never ``solution/``: a submission runs on the same machine and could read it).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import zipfile
from pathlib import Path

import minigrad as mg
from minigrad.utils.files import atomic_write

DISTRIBUTION = "minigrad-rnn"  # the name on the package index; the import name is minigrad
LEFT_OUT = ("make_references.py", "__pycache__", ".pyc")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip > /dev/null
python3 -m pip install --quiet "{distribution}=={version}"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission (as /autograder/run_autograder).
# AUTOGRADER and PYTHON let you try it elsewhere:
#   AUTOGRADER=$PWD/try PYTHON=python bash try/source/run_autograder
set -u
AUTOGRADER="${{AUTOGRADER:-/autograder}}"
mkdir -p "$AUTOGRADER/results"
"${{PYTHON:-python3}}" -m minigrad.testing.grade \\
    --checks "$AUTOGRADER/source/grader/checks.py" \\
    --submission "$AUTOGRADER/submission" \\
    --json "$AUTOGRADER/results/results.json"{options}
"""


def build_zip(assignment: str | os.PathLike[str], out: str | os.PathLike[str], *,
              timeout: float | None = None) -> list[str]:
    """Write the autograder zip of the assignment folder ``assignment`` to ``out``; return the
    names it holds."""
    folder = Path(os.fspath(assignment))
    checks = folder / "grader" / "checks.py"
    if not checks.is_file():
        raise FileNotFoundError(f"no grader/checks.py in {os.fspath(assignment)!r}: give the "
                                "assignment's folder (the one with grader/ and solution/)")
    options = f" \\\n    --timeout {timeout:g}" if timeout else ""
    files = {"setup.sh": SETUP.format(distribution=DISTRIBUTION, version=mg.__version__),
             "run_autograder": RUN.format(options=options)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o755 << 16  # executable, as Gradescope expects
            zf.writestr(info, text)
        for path in sorted((folder / "grader").rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and not any(part in rel for part in LEFT_OUT):
                zf.write(path, rel)
        names = zf.namelist()
    atomic_write(out, buffer.getvalue(), who="gradescope")
    return names


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m minigrad.testing.gradescope",
                                     description="Build a Gradescope autograder zip.")
    parser.add_argument("assignment", help="the assignment's folder (holds grader/checks.py)")
    parser.add_argument("--out", required=True, help="the zip to write")
    parser.add_argument("--timeout", type=float, help="seconds per test (default: the grader's)")
    args = parser.parse_args(argv)
    if args.timeout is not None and not args.timeout > 0:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    try:
        names = build_zip(args.assignment, args.out, timeout=args.timeout)
    except FileNotFoundError as e:
        parser.error(str(e))
    print(f"wrote {args.out}: " + ", ".join(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DISTRIBUTION", "build_zip", "main"]
