"""A small autograder: graded tests with points, partial credit, and a JSON score report.

An assignment's grader is a :class:`Grader` whose tests are plain functions::

    grader = Grader("GRU assignment")

    @grader.test("gru_cell: output", points=3)
    def gru_output(sub):                       # sub: the student's module
        check_against_reference(sub.gru_cell, REF / "gru_cell.npz")

    @grader.test("gru_cell: gradients", points=4)
    def gru_grads(sub):
        report = check_against_reference(sub.gru_cell, REF / "gru_cell.npz",
                                         raise_exception=False)
        return Partial(report.fraction("gradient"), report.summary("gradient"))

    results = grader.run(load_submission("gru.py"))
    results.write_json("results.json")

A test passes (full points) when it returns None, fails (0 points) when it raises, and gets a
share of its points when it returns a :class:`Partial` (or a number in [0, 1]). Every
exception is caught and turned into a message a student can act on (an ``AssertionError``'s
text as is; ``NotImplementedError`` as "not implemented yet"; anything else with its type and
the line of the submission that raised it), so one broken function never stops the others
from being graded. What a test prints is captured and added to its message.

The JSON report follows Gradescope's ``results.json``: ``score`` (the total), ``max_score``,
``execution_time``, ``output`` and ``tests``, a list of ``{name, score, max_score, status,
output}`` where ``output`` is the message (also given as ``message``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

MAX_MESSAGE = 4000  # characters kept of one test's message (autograders truncate anyway)


@dataclass
class Partial:
    """What a test returns for partial credit: the share of its points earned, and why."""

    fraction: float
    message: str = ""


@dataclass
class TestResult:
    """The outcome of one graded test: points earned out of ``max_score``, and why."""

    __test__ = False  # not a pytest test class, despite its name

    name: str
    score: float
    max_score: float
    message: str

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "score": round(self.score, 4), "max_score": self.max_score,
                "status": "passed" if self.passed else "failed", "message": self.message,
                "output": self.message}


@dataclass
class GradeReport:
    """The results of one grading run."""

    title: str
    tests: list[TestResult] = field(default_factory=list)
    execution_time: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def as_dict(self) -> dict[str, Any]:
        """Gradescope's ``results.json`` layout (``score`` is the total)."""
        return {"score": self.score, "max_score": self.max_score,
                "execution_time": round(self.execution_time, 3),
                "output": f"{self.title}: {self.score:g} / {self.max_score:g} points",
                "tests": [t.as_dict() for t in self.tests], "extra_data": self.extra}

    def write_json(self, path: str | os.PathLike[str]) -> None:
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            json.dump(self.as_dict(), f, indent=2)
            f.write("\n")

    def text(self) -> str:
        """A human-readable report, one block per test."""
        lines = []
        for t in self.tests:
            mark = "PASS" if t.passed else ("PART" if t.score > 0 else "FAIL")
            lines.append(f"[{mark}] {t.name}: {t.score:g} / {t.max_score:g}")
            if t.message and not t.passed:
                lines += ["    " + line for line in t.message.splitlines()]
        lines.append(f"Total: {self.score:g} / {self.max_score:g}")
        return "\n".join(lines)


@dataclass
class _Test:
    name: str
    points: float
    fn: Callable[..., Any]


class Grader:
    """A list of graded tests, run against a submission module."""

    def __init__(self, title: str, timeout: float = 60.0) -> None:
        self.title = title
        self.timeout = timeout
        self._tests: list[_Test] = []

    def test(self, name: str, points: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``fn(submission, **context)`` as a test worth ``points``."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            if any(t.name == name for t in self._tests):
                raise ValueError(f"two graded tests are named {name!r}")
            self._tests.append(_Test(name, float(points), fn))
            return fn

        return register

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self._tests)

    @property
    def names(self) -> list[str]:
        """The names of the tests, in the order they run."""
        return [t.name for t in self._tests]

    def run(self, submission: ModuleType | BaseException, *, only: str | None = None,
            timeout: float | None = None, extra: dict[str, Any] | None = None,
            **context: Any) -> GradeReport:
        """Run every test (or those whose name contains ``only``) on ``submission``.

        ``submission`` may be the exception that loading it raised: every test then scores 0
        with that message. ``timeout`` overrides the grader's seconds per test; ``extra`` is
        stored in the report's ``extra_data``; ``context`` is passed to each test as keyword
        arguments.
        """
        limit = self.timeout if timeout is None else timeout
        report = GradeReport(self.title, extra=dict(extra or {}))
        start = time.perf_counter()
        for t in self._tests:
            if only and only not in t.name:
                continue
            if isinstance(submission, BaseException):
                report.tests.append(TestResult(t.name, 0.0, t.points,
                                               _load_message(submission)))
                continue
            report.tests.append(self._run_one(t, submission, context, limit))
        report.execution_time = time.perf_counter() - start
        return report

    def _run_one(self, t: _Test, submission: ModuleType, context: dict[str, Any],
                 limit: float) -> TestResult:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), _time_limit(limit):
                result = t.fn(submission, **context)
            fraction, message = _credit(result)
        except NotImplementedError as e:
            fraction, message = 0.0, _not_implemented(e, submission)
        except AssertionError as e:
            fraction, message = 0.0, str(e) or "assertion failed"
        except _Timeout:
            fraction, message = 0.0, (f"took longer than {limit:g} s: is there an "
                                      "infinite loop, or a very slow step?")
        except Exception as e:
            fraction, message = 0.0, _error_message(e, submission)
        printed = out.getvalue().strip()
        if printed:
            message = (message + "\n" if message else "") + "your code printed:\n" + printed
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "\n... (truncated)"
        return TestResult(t.name, fraction * t.points, t.points, message)


def _credit(result: Any) -> tuple[float, str]:
    if result is None:
        return 1.0, ""
    if isinstance(result, Partial):
        return min(max(float(result.fraction), 0.0), 1.0), result.message
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return min(max(float(result), 0.0), 1.0), ""
    raise TypeError(f"a graded test must return None, a Partial or a number, got "
                    f"{type(result).__name__}")


def _where(e: BaseException, submission: ModuleType | None) -> str:
    """' (gru.py, line 42: `h = ...`)' for the deepest frame in the submission, if any."""
    path = getattr(submission, "__file__", None)
    frames = traceback.extract_tb(e.__traceback__)
    mine = [f for f in frames if path and os.path.abspath(f.filename) == os.path.abspath(path)]
    if not mine:
        return ""
    f = mine[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    return f" ({os.path.basename(f.filename)}, line {f.lineno}:{code})"


def _not_implemented(e: NotImplementedError, submission: ModuleType) -> str:
    return f"not implemented yet{_where(e, submission)}" + (f": {e}" if str(e) else "")


def _error_message(e: BaseException, submission: ModuleType | None) -> str:
    return f"{type(e).__name__}: {e}{_where(e, submission)}"


def _load_message(e: BaseException) -> str:
    if isinstance(e, SyntaxError):
        where = f" ({os.path.basename(e.filename or '?')}, line {e.lineno})"
        code = f"\n    {e.text.strip()}" if e.text else ""
        return f"could not import the submission: SyntaxError: {e.msg}{where}{code}"
    frames = traceback.extract_tb(e.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}, line {frames[-1].lineno})" if (
        frames) else ""
    return f"could not import the submission: {type(e).__name__}: {e}{where}"


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Any:
    """Interrupt a test after ``seconds`` (POSIX main thread only; elsewhere no limit)."""
    usable = (seconds and seconds > 0 and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_submission(path: str | os.PathLike[str], module: str = "gru.py",
                    name: str = "submission") -> ModuleType | Exception:
    """Import a student's file (``path``, or ``path/module`` when ``path`` is a folder).

    Returns the module, or the exception that importing it raised (a SyntaxError, a missing
    import, ...), so that the grader can report it instead of crashing.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, module)
    if not os.path.isfile(path):
        return FileNotFoundError(f"no submission file at {path!r} (expected {module})")
    unique = f"_minigrad_{name}_{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        return ImportError(f"cannot import {path!r}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[unique] = mod
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            spec.loader.exec_module(mod)
    except Exception as e:  # the student's file is broken: report it, grade nothing
        sys.modules.pop(unique, None)
        return e
    return mod


__all__ = ["GradeReport", "Grader", "Partial", "TestResult", "load_submission"]
