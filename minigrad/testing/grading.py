"""A small autograder: graded tests with points, partial credit, and a JSON score report.

An assignment's grader is a :class:`Grader` whose tests are plain functions::

    GRADER = Grader("GRU assignment")

    @GRADER.test("gru_cell: output", points=3)
    def gru_output(sub):                       # sub: the student's module
        check_against_reference(sub.gru_cell, REF / "gru_cell.npz", device=device())

    @GRADER.test("gru_cell: gradients", points=4)
    def gru_grads(sub):
        report = check_against_reference(sub.gru_cell, REF / "gru_cell.npz",
                                         device=device(), raise_exception=False)
        return Partial(report.fraction("gradient"), report.summary("gradient"))

A test takes exactly one argument, the student's module (checked when it is registered, so a
wrong signature is the instructor's error, found before any student is graded); the device to
grade on is :func:`device`. ``python -m minigrad.testing.grade`` runs the tests of a
``checks.py`` on a submission, each in its own process (:mod:`minigrad.testing.sandbox`), and
writes the report; :meth:`Grader.run` runs them in this process (quick, but a submission that
exits or loops takes the caller with it: use it for your own experiments only).

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
import inspect
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
from typing import Any, Callable, Iterator

import numpy as np

from minigrad.creation import tensor as make_tensor
from minigrad.testing.compare import assert_close
from minigrad.testing.reference import ReferenceFileError, check_against_reference
from minigrad.utils.files import atomic_write

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
    problems: list[str] = field(default_factory=list)  # the grader's own errors

    @property
    def ok(self) -> bool:
        """False when the grader itself failed (the scores then say nothing)."""
        return not self.problems

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def as_dict(self) -> dict[str, Any]:
        """Gradescope's ``results.json`` layout (``score`` is the total)."""
        output = f"{self.title}: {self.score:g} / {self.max_score:g} points"
        extra = dict(self.extra)
        if self.problems:
            output = ("The autograder could not grade this submission: it is misconfigured "
                      "(your instructor's mistake, not yours; they have been told). " + output)
            extra["grader_problems"] = list(self.problems)
        return {"score": self.score, "max_score": self.max_score,
                "execution_time": round(self.execution_time, 3), "output": output,
                "tests": [t.as_dict() for t in self.tests], "extra_data": extra}

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`as_dict` to ``path`` atomically (a reader never sees half a file)."""
        text = json.dumps(self.as_dict(), indent=2) + "\n"
        atomic_write(path, text.encode("utf-8"), who="write_json")

    def text(self) -> str:
        """A human-readable report, one block per test."""
        lines = []
        for t in self.tests:
            mark = "PASS" if t.passed else ("PART" if t.score > 0 else "FAIL")
            lines.append(f"[{mark}] {t.name}: {t.score:g} / {t.max_score:g}")
            if t.message and not t.passed:
                lines += ["    " + line for line in t.message.splitlines()]
        lines.append(f"Total: {self.score:g} / {self.max_score:g}")
        if self.problems:
            lines.append("THE GRADER IS BROKEN (not the student's fault):")
            lines += ["  " + p for p in self.problems]
        return "\n".join(lines)


@dataclass
class _Test:
    name: str
    points: float
    fn: Callable[[ModuleType], Any]


_device = "cpu"


def device() -> str:
    """The device a graded test should run the submission on ("cpu" unless the grader was
    started with ``--device cuda``)."""
    return _device


@contextlib.contextmanager
def grading_device(name: str) -> Iterator[None]:
    """Make :func:`device` return ``name`` while the block runs."""
    global _device
    saved, _device = _device, str(name)
    try:
        yield
    finally:
        _device = saved


def signature_problem(fn: Callable[..., Any]) -> str | None:
    """Why ``fn`` cannot be a graded test (it must take exactly one argument), or None."""
    if not callable(fn):
        return f"{fn!r} is not a function"
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None  # a builtin or C callable: nothing to check
    try:
        sig.bind(None)
    except TypeError:
        params = ", ".join(str(p) for p in sig.parameters.values())
        return (f"a graded test takes exactly one argument, the student's module, but "
                f"{getattr(fn, '__qualname__', fn)}({params}) cannot be called with one "
                "(get the device from minigrad.testing.grading.device())")
    return None


def _defined_at(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    return f" ({code.co_filename}, line {code.co_firstlineno})" if code else ""


class Grader:
    """A list of graded tests, run against a submission module."""

    def __init__(self, title: str, timeout: float = 60.0) -> None:
        if not isinstance(title, str) or not title:
            raise TypeError(f"Grader(title) needs a non-empty string, got {title!r}")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"Grader(timeout) must be a positive number of seconds, got "
                             f"{timeout!r}")
        self.title = title
        self.timeout = float(timeout)
        self._tests: list[_Test] = []

    def test(self, name: str, points: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``fn(submission)`` as a test worth ``points``.

        Raises TypeError or ValueError at once (when ``checks.py`` is imported) for a test
        that does not take exactly one argument, a duplicate name, or points that are not a
        positive number: these are the instructor's mistakes, never the student's.
        """
        if not isinstance(name, str) or not name:
            raise TypeError(f"a graded test needs a non-empty string name, got {name!r}")
        if (not isinstance(points, (int, float)) or isinstance(points, bool)
                or not points > 0 or points != points or points == float("inf")):
            raise ValueError(f"graded test {name!r}: points must be a positive number, got "
                             f"{points!r}")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            problem = signature_problem(fn)
            if problem:
                raise TypeError(f"graded test {name!r}{_defined_at(fn)}: {problem}")
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

    def problems(self) -> list[str]:
        """What is wrong with the tests themselves (empty when they can be run)."""
        if not self._tests:
            return [f"grader {self.title!r} has no tests: register some with @GRADER.test"]
        return [f"graded test {t.name!r}{_defined_at(t.fn)}: {p}" for t in self._tests
                if (p := signature_problem(t.fn))]

    def selected(self, only: str | None = None) -> list[tuple[int, str, float]]:
        """(index, name, points) of the tests whose name contains ``only`` (all if None)."""
        return [(i, t.name, t.points) for i, t in enumerate(self._tests)
                if not only or only in t.name]

    def run(self, submission: ModuleType | BaseException, *, only: str | None = None,
            timeout: float | None = None, extra: dict[str, Any] | None = None,
            device: str = "cpu") -> GradeReport:
        """Run every test (or those whose name contains ``only``) on ``submission``, here.

        ``submission`` may be the exception that loading it raised: every test then scores 0
        with that message. ``timeout`` overrides the grader's seconds per test (a SIGALRM:
        only in the main thread, and catchable by the code under test; the command line's
        per-process limit is not); ``extra`` is stored in the report's ``extra_data``.
        """
        limit = self.timeout if timeout is None else timeout
        report = GradeReport(self.title, extra=dict(extra or {}))
        start = time.perf_counter()
        for index, name, points in self.selected(only):
            if isinstance(submission, BaseException):
                fraction, message = 0.0, _load_message(submission)
            else:
                with grading_device(device):
                    fraction, message = self.run_test(index, submission, limit)
            report.tests.append(TestResult(name, fraction * points, points, message))
        report.execution_time = time.perf_counter() - start
        return report

    def run_test(self, index: int, submission: ModuleType, limit: float | None = None,
                 capture: bool = True) -> tuple[float, str]:
        """Run test number ``index`` on ``submission``: (fraction of its points, message).

        What the test prints is added to the message (``capture=False``: left on the real
        standard output, where the sandbox reads it); every exception (and ``SystemExit``)
        becomes a message for the student, except :class:`InstructorError` (a broken
        reference file, ...), which propagates.
        """
        t = self._tests[index]
        out = io.StringIO()
        try:
            with (contextlib.redirect_stdout(out) if capture else contextlib.nullcontext()), \
                    _time_limit(limit or 0):
                result = t.fn(submission)
            fraction, message = _credit(result)
        except InstructorError:
            raise
        except ReferenceFileError as e:  # a reference file the instructor did not ship
            raise InstructorError(str(e)) from e
        except NotImplementedError as e:
            fraction, message = 0.0, _not_implemented(e, submission)
        except AssertionError as e:
            fraction, message = 0.0, str(e) or "assertion failed"
        except _Timeout:
            fraction, message = 0.0, timeout_message(limit or 0)
        except MemoryError as e:
            fraction, message = 0.0, ("ran out of memory" + _where(e, submission) + ": is an "
                                      "array much larger than it should be?")
        except SystemExit as e:
            fraction, message = 0.0, exit_message(e.code, _where(e, submission))
        except Exception as e:
            fraction, message = 0.0, _error_message(e, submission)
        printed = out.getvalue().strip()
        if printed:
            message = (message + "\n" if message else "") + "your code printed:\n" + printed
        return fraction, _truncate(message)


class InstructorError(Exception):
    """The grader itself is broken (a checks.py that does not import, a test with a wrong
    signature, a missing or corrupt reference file): the instructor's mistake, reported as
    such, never as points a student lost."""


def timeout_message(limit: float) -> str:
    """The student's message for a test stopped after ``limit`` seconds."""
    return (f"took longer than {limit:g} s and was stopped: is there an infinite loop, or a "
            "very slow step?")


def exit_message(code: Any, where: str = "") -> str:
    """The student's message for a submission that called ``exit(code)``."""
    return (f"your code ended the program (exit({'' if code is None else code!r}) or "
            f"sys.exit){where}: a graded function must return its result, not exit")


def _truncate(message: str) -> str:
    if len(message) > MAX_MESSAGE:
        return message[:MAX_MESSAGE] + "\n... (truncated)"
    return message


def _credit(result: Any) -> tuple[float, str]:
    if result is None:
        return 1.0, ""
    if isinstance(result, Partial):
        return min(max(float(result.fraction), 0.0), 1.0), result.message
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return min(max(float(result), 0.0), 1.0), ""
    raise InstructorError(f"a graded test must return None, a Partial or a number, got "
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
                    name: str = "submission", capture: bool = True) -> ModuleType | Exception:
    """Import a student's file (``path``, or ``path/module`` when ``path`` is a folder).

    Returns the module, or the exception that importing it raised (a SyntaxError, a missing
    import, ...), so that the grader can report it instead of crashing. ``capture=False``
    lets what the file prints at import go to the real standard output (the sandbox caps it
    there) instead of being discarded.
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
        with contextlib.redirect_stdout(out) if capture else contextlib.nullcontext():
            spec.loader.exec_module(mod)
    except Exception as e:  # the student's file is broken: report it, grade nothing
        sys.modules.pop(unique, None)
        return e
    return mod


# ----------------------------------------------------------------- checks of NumPy submissions
# Assignments done "by hand" in NumPy (BPTT, an LSTM's backward) return plain arrays; these two
# helpers grade them against reference files and against minigrad's own autograd.


def _as_tensors(out: Any) -> Any:
    """A submission's NumPy results (an array, or a dict/tuple/list of them) as tensors."""
    if isinstance(out, dict):
        return {k: _as_tensors(v) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        return tuple(_as_tensors(v) for v in out)
    if not isinstance(out, np.ndarray):
        raise AssertionError(f"expected a NumPy array, got {type(out).__name__}")
    return make_tensor(out)


def numpy_against_reference(fn: Callable[..., Any], path: str | os.PathLike[str],
                            hint: str = "") -> Partial | None:
    """Grade a NumPy function by a reference file's values (no gradients: it has no graph).

    Returns None when every output matches, else the share that matched, with the differences
    (and ``hint``, a pointer for the student, before them).
    """
    report = check_against_reference(lambda **kw: _as_tensors(fn(**kw)), path,
                                     check_grads=False, raise_exception=False)
    if report.passed:
        return None
    return Partial(report.fraction(), f"{hint}\n{report.summary()}" if hint else report.summary())


def compare_entries(got: Any, want: dict[str, Any], what: str) -> Partial | None:
    """One share per entry of ``want`` (e.g. one per gradient): each must be in the dict ``got``
    that ``what`` returned, with the same shape and close to it."""
    if not isinstance(got, dict):
        raise AssertionError(f"{what} should return a dict, got {type(got).__name__}")
    problems = []
    for k, w in want.items():
        try:
            assert k in got, f"no {k!r} in what {what} returned (its keys: {sorted(got)})"
            assert_close(np.asarray(got[k]), w, name=k)
        except AssertionError as e:
            problems.append(str(e))
    if problems:
        return Partial(1 - len(problems) / len(want), "\n".join(problems))
    return None


__all__ = ["GradeReport", "Grader", "InstructorError", "Partial", "TestResult",
           "compare_entries", "device", "grading_device", "load_submission",
           "numpy_against_reference", "signature_problem"]
