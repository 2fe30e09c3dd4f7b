"""Imported once by the grader's fork server (:mod:`minigrad.testing.sandbox`), so that each
test's process starts with NumPy and minigrad already loaded.

One BLAS thread: forking a process whose BLAS thread pool is running can deadlock, and one
thread per graded test keeps the timing fair when several submissions are graded at once.
"""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import minigrad  # noqa: E402, F401
import minigrad.testing  # noqa: E402, F401
import minigrad.testing.grade  # noqa: E402, F401
