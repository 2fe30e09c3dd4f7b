"""Run the tutorials and store what they print and draw, for the documentation's tutorial pages.

    python docs/build_tutorial_pages.py --full              # every tutorial, full mode (slow)
    python docs/build_tutorial_pages.py --full 05 06        # only tutorials 05 and 06
    python docs/build_tutorial_pages.py --quick --dry-run   # try it in seconds, store nothing

Each tutorial runs in its own interpreter, one code cell after the other as in a notebook, with
what each cell prints captured, and the figures it saves collected. The result goes to
``docs/tutorials/runs/NN_name.json`` (each code cell's code, its printed output and its figures)
and the figures to ``docs/tutorials/figures/``. The MkDocs hook (``docs/hooks/tutorials.py``)
builds each tutorial's page from the script and shows these outputs under the cells that made
them, but only while the stored code is the script's code: ``tests/test_docs.py`` fails when a
script has changed since its last full run, and tells you to run this again.

Full runs take minutes each on a laptop (tutorials 3, 5 and 6 the longest); run them after the
tutorials change, with ``OPENBLAS_NUM_THREADS=1`` on a busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # minigrad from this checkout, installed or not
from minigrad.utils.files import atomic_write  # noqa: E402

RUNS = ROOT / "docs" / "tutorials" / "runs"
FIGURES = ROOT / "docs" / "tutorials" / "figures"
MAX_LINES = 200  # of printed output shown under one cell


def _build_module():
    spec = importlib.util.spec_from_file_location("_tutorials_build",
                                                  ROOT / "tutorials" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_cells(script: Path, out: Path, quick: bool) -> dict:
    """Run ``script``'s code cells in order in this interpreter; return the run's record.

    ``out`` is the tutorials' output folder for this run (``MINIGRAD_TUTORIALS_OUT``).
    """
    build = _build_module()
    cells = build.code_cells(script.read_text(encoding="utf-8"))
    os.environ["MINIGRAD_TUTORIALS_OUT"] = str(out)
    os.environ.pop("MINIGRAD_QUICK", None)
    sys.argv = [str(script)] + (["--quick"] if quick else [])
    sys.path.insert(0, str(ROOT))
    namespace: dict = {"__name__": "__main__"}
    record = {"script": script.relative_to(ROOT).as_posix(), "mode": "quick" if quick else "full",
              "cells": []}
    start = time.perf_counter()
    for i, code in enumerate(cells):
        before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"{script.name}, code cell {i + 1}", "exec"), namespace)
        except BaseException:
            sys.stdout.write(buffer.getvalue())
            print(f"\n{script.name}: code cell {i + 1} of {len(cells)} failed", file=sys.stderr)
            raise
        text = buffer.getvalue().replace(str(out), "tutorials/outputs")
        sys.stdout.write(text)
        figures = sorted(p.name for p in out.glob("*.png")
                         if before.get(p.name) != p.stat().st_mtime_ns)
        record["cells"].append({"code": code, "output": text, "figures": figures})
    record["seconds"] = round(time.perf_counter() - start, 1)
    record["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    import numpy as np

    record["machine"] = (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, "
                         f"Python {platform.python_version()}, NumPy {np.__version__}, "
                         f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    return record


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data, who="build_tutorial_pages")


def run_one(script: Path, quick: bool, dry_run: bool) -> float:
    """Run one tutorial in a fresh interpreter; store its record and figures unless dry_run."""
    with tempfile.TemporaryDirectory() as tmp:
        out, record_file = Path(tmp) / "outputs", Path(tmp) / "record.json"
        out.mkdir()
        env = dict(os.environ, MPLBACKEND="Agg",
                   PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        cmd = [sys.executable, __file__, "--one", str(script), "--into", str(record_file),
               "--outputs", str(out)] + (["--quick"] if quick else [])
        subprocess.run(cmd, env=env, cwd=tmp, stdin=subprocess.DEVNULL, check=True)
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if not dry_run:
            for cell in record["cells"]:
                for name in cell["figures"]:
                    _write_atomic(FIGURES / name, (out / name).read_bytes())
            _write_atomic(RUNS / f"{script.stem}.json",
                          (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode())
        return record["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="full runs (what the pages show)")
    mode.add_argument("--quick", action="store_true", help="quick mode, to try the tool")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child interpreter
    parser.add_argument("--into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--outputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help="store nothing")
    parser.add_argument("only", nargs="*", help="tutorial numbers or names (default: all)")
    args = parser.parse_args(argv)
    if args.one:  # in the child: run the cells, write the record
        record = run_cells(args.one.resolve(), args.outputs, args.quick)
        args.into.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        return 0
    if not (args.full or args.quick):
        parser.error("say --full (store full runs for the pages) or --quick --dry-run (try it)")
    if args.quick and not args.dry_run:
        parser.error("--quick runs are for trying the tool: add --dry-run (the pages show full "
                     "runs only)")
    scripts = _build_module().scripts()
    if args.only:
        chosen = [s for s in scripts if any(s.name.startswith(o) or s.stem == o for o in args.only)]
        unknown = [o for o in args.only if not any(s.name.startswith(o) for s in scripts)]
        if unknown:
            parser.error(f"no tutorial matches {', '.join(unknown)}; there are: "
                         + ", ".join(s.stem for s in scripts))
        scripts = chosen
    for script in scripts:
        print(f"=== {script.name} ({'quick' if args.quick else 'full'})", flush=True)
        seconds = run_one(script, quick=args.quick, dry_run=args.dry_run)
        print(f"=== {script.name}: {seconds:.0f} s", flush=True)
    if not args.dry_run:
        stale = sorted(p.name for p in FIGURES.glob("*.png")
                       if not any(p.name in cell["figures"]
                                  for r in RUNS.glob("*.json")
                                  for cell in json.loads(r.read_text(encoding="utf-8"))["cells"]))
        for name in stale:
            (FIGURES / name).unlink()
            print(f"removed docs/tutorials/figures/{name} (no tutorial draws it any more)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
