"""Command line: grade one submission and write a JSON score report.

    python -m assignments.gru.grader --submission path/to/gru.py --json results.json

Prints a readable report; the JSON follows Gradescope's ``results.json`` (``score`` is the
total, ``tests`` a list of ``{name, score, max_score, status, message, output}``). Exits 0
whenever grading ran, whatever the score (a low score is a result, not an error); 2 on a
usage error.
"""

from __future__ import annotations

import argparse
import sys

import minigrad as mg
from assignments.gru.grader.checks import grade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assignments.gru.grader",
                                     description="Grade a GRU assignment submission.")
    parser.add_argument("--submission", required=True,
                        help="the student's gru.py, or a folder that contains it")
    parser.add_argument("--json", metavar="PATH", help="write the JSON score report here")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--only", metavar="TEXT", help="run only tests whose name contains TEXT")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds allowed per test (default 60)")
    parser.add_argument("--quiet", action="store_true", help="print only the total")
    args = parser.parse_args(argv)
    if args.device != "cpu" and not mg.cuda.is_available():
        parser.error(f"device {args.device!r} is not available here (no CuPy or no GPU)")
    report = grade(args.submission, device=args.device, only=args.only, timeout=args.timeout)
    if args.json:
        report.write_json(args.json)
    print(f"Total: {report.score:g} / {report.max_score:g}" if args.quiet else report.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
