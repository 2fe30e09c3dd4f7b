"""Run one graded test in a child process that a submission cannot take down.

Each test of a ``checks.py`` runs in a fresh process forked from a small server (Python's
``forkserver``: started once, it has imported NumPy and minigrad but never a submission or a
reference file, so a fork costs milliseconds and inherits nothing secret). The parent process
(the grader) only waits, and it decides the outcome:

- the child sends its verdict (a fraction of the points and a message) as JSON on a pipe; the
  parent never unpickles anything a child sends;
- past the time limit the parent kills the child (SIGKILL: no ``except`` can swallow it), so an
  infinite loop, or a slow loop wrapped in ``except Exception: pass``, costs that test only;
- ``exit()``, ``sys.exit()`` and ``os._exit()`` end the child without a verdict or with a
  ``SystemExit``, which the parent reports as the test's failure;
- the child leads its own process group, killed as a whole: processes the submission starts
  die with the test;
- the child's address space is capped (``RLIMIT_AS``: what it had after the fork plus
  ``memory_mb``), so a huge allocation raises ``MemoryError`` or kills the child, not the
  machine (Linux; on other systems, and on CUDA devices, whose drivers reserve vast virtual
  address ranges, there is no cap);
- what the child prints (standard output and error, at the file-descriptor level, so
  ``os.write`` counts too) goes to a pipe the parent reads; past ``max_output`` characters the
  child is stopped.

What the child can still see is the subject of the instructor guide's "What a student can
read" section: it runs with the grader's user rights, so files the grader can read (the
reference files included) are readable by a submission that goes looking for them.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection as mpc
import os
import signal
import sys
import time
import types
from dataclasses import dataclass
from typing import Any, Iterator

from minigrad.testing.checks import load_checks
from minigrad.testing.grading import (
    InstructorError,
    _error_message,
    _load_message,
    _truncate,
    exit_message,
    grading_device,
    load_submission,
    timeout_message,
)

DEFAULT_MEMORY_MB = 2048  # address space a test may add to what the forked process has
DEFAULT_MAX_OUTPUT = 100_000  # characters a test may print before it is stopped
SHOWN_OUTPUT = 2_000  # characters of that output shown in the message
MAX_VERDICT = 1 << 20  # bytes of JSON accepted from a child


@dataclass
class Verdict:
    """The outcome of one test run in a child process."""

    fraction: float
    message: str
    instructor_error: str | None = None  # set when the grader itself is broken
    seconds: float = 0.0


_context: Any = None


def _mp_context() -> Any:
    """The process context: a fork server where the platform has one, else plain spawn."""
    global _context
    if _context is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(["minigrad.testing._preload"])
        else:  # Windows: each test starts a fresh interpreter (slower, just as safe)
            _context = multiprocessing.get_context("spawn")
    return _context


def run_in_child(checks: str, submission: str, module: str, index: int, *,
                 timeout: float, device: str = "cpu", memory_mb: float | None = DEFAULT_MEMORY_MB,
                 max_output: int = DEFAULT_MAX_OUTPUT) -> Verdict:
    """Run test number ``index`` of the ``GRADER`` in the file ``checks`` on the student's
    ``submission`` (a file, or a folder holding ``module``), in a child process."""
    ctx = _mp_context()
    result_r, result_w = ctx.Pipe(duplex=False)
    out_r, out_w = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, daemon=True,
                       args=(result_w, out_w, checks, submission, module, index, device,
                             None if device != "cpu" else memory_mb))
    start = time.monotonic()
    with _main_module_hidden():
        proc.start()
    result_w.close()  # the child holds the only write ends now: EOF when it dies
    out_w.close()
    printed = bytearray()
    verdict: dict[str, Any] | None = None
    stopped: str | None = None
    waiting = [result_r, out_r, proc.sentinel]
    deadline = start + timeout
    try:
        while verdict is None and stopped is None:
            left = deadline - time.monotonic()
            if left <= 0:
                stopped = timeout_message(timeout)
                break
            ready = mpc.wait(waiting, left)
            if out_r in ready:
                if not _read_some(out_r, printed):
                    waiting.remove(out_r)  # end of file: the child closed its output
                elif len(printed) > max_output:
                    stopped = (f"printed more than {max_output:,} characters and was stopped: "
                               "remove the print calls inside loops")
                    break
            if result_r in ready:
                verdict = _receive(result_r)  # one message at most (or garbage, or EOF)
                waiting.remove(result_r)
            if proc.sentinel in ready:  # the child is gone; a verdict it sent is in the pipe
                if verdict is None and result_r in waiting and result_r.poll(0):
                    verdict = _receive(result_r)
                break
    finally:
        _kill(proc)
        while out_r in waiting and len(printed) <= max_output and out_r.poll(0):
            if not _read_some(out_r, printed):
                break
        result_r.close()
        out_r.close()
    seconds = time.monotonic() - start
    if stopped is not None:
        fraction, message, instructor = 0.0, stopped, None
    elif verdict is not None:
        fraction, message = verdict["fraction"], verdict["message"]
        instructor = verdict.get("instructor")
    else:
        fraction, message, instructor = 0.0, _death_message(proc.exitcode, memory_mb), None
    text = printed.decode("utf-8", errors="replace").strip()
    if text:
        shown = text if len(text) <= SHOWN_OUTPUT else text[:SHOWN_OUTPUT] + "\n... (cut)"
        message = (message + "\n" if message else "") + "your code printed:\n" + shown
    return Verdict(fraction, _truncate(message), instructor, seconds)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a process without asking it to re-run the caller's ``__main__``.

    multiprocessing makes a child re-import the parent's main script (as ``__mp_main__``), so
    that functions defined there can be unpickled. The test process needs nothing from it, and
    re-running it would re-run the caller's grading script (or fail outright for ``python -``
    or ``python -c``): for the instant the process starts, ``__main__`` is a blank module.
    """
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def _kill(proc: Any) -> None:
    """Kill the test process and anything it started (its process group), and reap it."""
    if proc.is_alive():
        proc.kill()
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):  # no group left: nothing to kill
            os.killpg(proc.pid, signal.SIGKILL)
    proc.join(5)


def _read_some(conn: Any, into: bytearray) -> bool:
    """Append what the pipe holds to ``into``; False at end of file."""
    try:
        chunk = os.read(conn.fileno(), 65536)
    except OSError:
        return False
    into += chunk
    return bool(chunk)


def _receive(conn: Any) -> dict[str, Any] | None:
    """The child's verdict, checked (JSON only: never unpickle what a submission could send)."""
    try:
        data = json.loads(conn.recv_bytes(MAX_VERDICT).decode("utf-8"))
        fraction = float(data["fraction"])
        message = str(data["message"])
        instructor = data.get("instructor")
    except (EOFError, OSError, ValueError, KeyError, TypeError):
        return None
    if not 0.0 <= fraction <= 1.0:
        return None
    return {"fraction": fraction, "message": message,
            "instructor": None if instructor is None else str(instructor)}


def _death_message(code: int | None, memory_mb: float | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            limit = f" ({memory_mb:g} MB allowed)" if memory_mb else ""
            return (f"the test process was killed ({name}), most often for using more memory "
                    f"than allowed{limit}: is an array much larger than it should be?")
        return f"the test process crashed ({name})"
    return (f"the test process ended (exit code {code}) before the test finished: did your "
            "code call os._exit() or exit()? A graded function must return its result")


# ----------------------------------------------------------------------------- the child


def _child(result: Any, output: Any, checks: str, submission: str, module: str, index: int,
           device: str, memory_mb: float | None) -> None:
    """The child process: import the checks and the submission, run one test, report."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # its own process group, so that the parent can kill what it starts
    os.dup2(output.fileno(), 1)  # prints (and os.write(1, ...)) go to the capped pipe
    os.dup2(output.fileno(), 2)
    output.close()
    _limit_memory(memory_mb)
    verdict: dict[str, Any]
    try:
        grader = load_checks(checks).grader
        sub = load_submission(submission, module=module, capture=False)
        if isinstance(sub, BaseException):
            verdict = {"fraction": 0.0, "message": _load_message(sub)}
        else:
            with grading_device(device):
                fraction, message = grader.run_test(index, sub, capture=False)
            verdict = {"fraction": fraction, "message": message}
    except InstructorError as e:
        verdict = {"fraction": 0.0, "message": "", "instructor": str(e)}
    except SystemExit as e:  # exit() while the submission was imported
        verdict = {"fraction": 0.0, "message": exit_message(e.code)}
    except BaseException as e:  # noqa: BLE001 - whatever happened is this test's result
        verdict = {"fraction": 0.0, "message": _error_message(e, None)}
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a closed or broken stream must not lose the verdict
        pass
    try:
        result.send_bytes(json.dumps(verdict).encode("utf-8"))
    finally:
        os._exit(0)  # no atexit handlers, no finalizers of the submission's objects


def _limit_memory(memory_mb: float | None) -> None:
    """Cap the address space at what this process has now plus ``memory_mb`` (Linux)."""
    if not memory_mb:
        return
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = vm + int(memory_mb * 2**20)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, StopIteration, ValueError):
        return  # no /proc or no resource module: no cap on this platform


__all__ = ["DEFAULT_MAX_OUTPUT", "DEFAULT_MEMORY_MB", "Verdict", "run_in_child"]
