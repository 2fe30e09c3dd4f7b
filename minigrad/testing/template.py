"""Write a student's template from a marked solution: ``python -m minigrad.testing.template``.

::

    python -m minigrad.testing.template solution/softplus.py template/softplus.py
    python -m minigrad.testing.template solution/softplus.py template/softplus.py --check

The solution marks what students write with nbgrader's convention, a line ``### BEGIN
SOLUTION`` and a line ``### END SOLUTION``, indented like the code between them::

    def softplus(x):
        ### BEGIN SOLUTION
        return (1 + x.exp()).log()
        ### END SOLUTION

In the template each such region, markers included, becomes two lines at the marker's
indentation, ``# YOUR CODE HERE`` and ``raise NotImplementedError()``; everything else is
copied as it is. Markers that do not pair up (an END without a BEGIN, a BEGIN inside a
region, a region never closed, an END indented differently from its BEGIN) are refused with
the file and line. ``--check`` writes nothing and exits 1 when the template on disk differs
from what the solution gives (for CI: committed templates stay current).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from minigrad.utils.files import atomic_write

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


class MarkerError(ValueError):
    """The solution's ``### BEGIN/END SOLUTION`` markers do not pair up."""


def make_template(source: str, filename: str = "<solution>", *,
                  require_regions: bool = True) -> str:
    """The template for the solution ``source`` (see the module's docstring).

    A source without any region is refused (you forgot to mark what students write), unless
    ``require_regions=False`` (a helper module handed out as it is).
    """
    out: list[str] = []
    begin: tuple[int, str] | None = None  # (line number, indentation) of the open region
    regions = 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        indent = line[:len(line) - len(line.lstrip())]
        if stripped == BEGIN:
            if begin is not None:
                raise MarkerError(f"{filename}, line {number}: {BEGIN!r} inside the region "
                                  f"opened at line {begin[0]} (regions cannot nest; close "
                                  f"it with {END!r} first)")
            begin = (number, indent)
        elif stripped == END:
            if begin is None:
                raise MarkerError(f"{filename}, line {number}: {END!r} without a {BEGIN!r} "
                                  "before it")
            if indent != begin[1]:
                raise MarkerError(f"{filename}, line {number}: {END!r} is indented "
                                  f"{len(indent)} spaces, its {BEGIN!r} (line {begin[0]}) "
                                  f"{len(begin[1])}: indent both like the code between them")
            newline = "\r\n" if line.endswith("\r\n") else "\n"
            out += [begin[1] + s + newline for s in STUB]
            begin = None
            regions += 1
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise MarkerError(f"{filename}, line {begin[0]}: {BEGIN!r} is never closed with "
                          f"{END!r}")
    if regions == 0 and require_regions:
        raise MarkerError(f"{filename}: no {BEGIN!r} / {END!r} region: mark what students "
                          "write")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (0 done, 1 stale with --check, 2 bad markers)."""
    parser = argparse.ArgumentParser(prog="python -m minigrad.testing.template",
                                     description="Write a student's template from a solution "
                                                 "marked with ### BEGIN/END SOLUTION.")
    parser.add_argument("solution", help="the marked solution (.py)")
    parser.add_argument("template", help="the template to write")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if TEMPLATE is not what SOLUTION gives")
    args = parser.parse_args(argv)
    solution = Path(args.solution)
    if not solution.is_file():
        parser.error(f"no solution file at {args.solution!r}")
    try:
        wanted = make_template(solution.read_text(encoding="utf-8"), args.solution)
    except MarkerError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    target = Path(args.template)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != wanted:
            why = "does not exist" if current is None else "is out of date"
            print(f"{args.template} {why}: run python -m minigrad.testing.template "
                  f"{args.solution} {args.template}", file=sys.stderr)
            return 1
        print(f"{args.template} is up to date")
        return 0
    if not target.parent.is_dir():
        parser.error(f"no folder {os.fspath(target.parent)!r} for the template")
    atomic_write(target, wanted.encode("utf-8"), who="template")
    print(f"wrote {args.template}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["BEGIN", "END", "MarkerError", "STUB", "main", "make_template"]
