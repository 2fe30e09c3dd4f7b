"""Tutorial 10, exercise 1: where the baseline fails, format by format.

The baseline takes the four-digit number as the year, the other numbers as day then month,
and the most frequent training month when the month is a word. So, by format:

* day-first digits (05.03.2021): always right, the rule was written for it;
* month-first digits (03/05/2021): right only when day = month, about 1 in 30;
* year-first digits (2021/03/05): the same, month and day come swapped;
* month as a word (all the others): the day and year are right, the month is a guess that
  is right about 1 time in 12.

This script runs tutorial 10 (in the same mode as itself: quick mode takes seconds) to borrow
its formats, test days and trained model, and prints both methods' exact match per format.
"""

import contextlib
import io
import runpy
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parents[1]
import numpy as np

from minigrad.utils.tutorial import banner

banner("10 seq2seq, exercise 1: where the baseline fails")
with contextlib.redirect_stdout(io.StringIO()):  # the tutorial's own report is not needed here
    t = runpy.run_path(str(TUTORIALS / "10_seq2seq.py"))

example = t["dt"].date(2021, 3, 5)
hits = {}  # format index -> list of (baseline right, model right)
predicted = t["predicted"]
for s, p, truth in zip(t["test_src"], predicted, t["test_tgt"]):
    d = t["dt"].date.fromisoformat(truth)
    f = next(k for k, fmt in enumerate(t["FORMATS"]) if fmt(d) == s)
    hits.setdefault(f, []).append((t["baseline"](s) == truth, p == truth))
rate = {}
print(f"{'format (5 March 2021)':28} {'n':>4} {'baseline':>9} {'seq2seq':>8}")
for f in sorted(hits):
    b, m = np.mean(hits[f], axis=0)
    rate[t["FORMATS"][f](example)] = b
    print(f"{t['FORMATS'][f](example):28} {len(hits[f]):>4} {b:>9.1%} {m:>8.1%}")

assert rate["05.03.2021"] == 1.0  # day-first digits: the rule's own format
assert rate["03/05/2021"] < 0.2 and rate["2021/03/05"] < 0.2  # right only when day = month
words = [r for name, r in rate.items() if any(c.isalpha() for c in name)]
assert max(words) < 0.35  # a month guessed from twelve
