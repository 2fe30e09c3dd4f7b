"""mg.testing: assert_close, reference files, check_gradients, the grader and the pytest plugin."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function, GradcheckError
from minigrad.testing import (
    Grader,
    Partial,
    ReferenceMismatch,
    assert_close,
    check_against_reference,
    check_gradients,
    default_tolerances,
    load_reference,
    load_references,
    load_submission,
    pytest_plugin,
    record_reference,
    save_references,
    write_reference,
)
from minigrad.testing.reference import ReferenceFileError

pytest_plugins = ["pytester"]


def failure(actual: object, expected: object, **kwargs: object) -> str:
    with pytest.raises(AssertionError) as info:
        assert_close(actual, expected, **kwargs)
    return str(info.value)


# ----------------------------------------------------------------------------- assert_close


def test_default_tolerances_follow_torch_testing() -> None:
    assert default_tolerances(np.float32) == (1.3e-6, 1e-5)
    assert default_tolerances(np.float64) == (1e-7, 1e-7)
    assert default_tolerances(np.int64) == (0.0, 0.0)
    assert default_tolerances(np.float32, np.float64) == (1.3e-6, 1e-5)


def test_close_values_pass(device: str) -> None:
    x = mg.tensor([1.0, 2.0, 3.0], device=device)
    assert_close(x, x + 5e-6)  # float32: atol 1e-5
    assert_close(x, np.array([1.0, 2.0, 3.0], dtype=np.float32))  # NumPy: values, any device
    assert_close(x, [1.0, 2.0, 3.0])  # a list takes the tensor's dtype
    assert_close(x.sum(), 6.0)
    assert_close(mg.tensor([1, 2]), np.array([1, 2]))
    assert_close((x, {"a": x}), (x, {"a": x}))


def test_float64_tolerance_is_tighter() -> None:
    x = mg.tensor([1.0], dtype=mg.float64)
    msg = failure(x, x + 5e-6)
    assert "rtol=1e-07, atol=1e-07" in msg
    assert_close(x, x + 5e-6, atol=1e-5)


def test_value_message_has_counts_worst_element_and_errors() -> None:
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    actual = expected.copy()
    actual[2, 1] += 0.5
    actual[0, 3] += 0.01
    msg = failure(mg.tensor(actual), expected, name="output 'h'")
    assert msg.startswith("output 'h': values are not close (float32")
    assert "mismatched elements: 2 / 12 (16.7%)" in msg
    assert "worst element at index (2, 1): actual 9.5, expected 9" in msg
    assert "greatest absolute difference: 0.5 at index (2, 1)" in msg
    assert "greatest relative difference: 0.0556 at index (2, 1)" in msg


def test_shape_is_reported_before_values() -> None:
    x = mg.zeros(2, 3)
    msg = failure(x, np.zeros((3, 2)))
    assert "shape mismatch: actual has shape (2, 3), expected (3, 2)" in msg
    assert "transpose" in failure(x, np.zeros((3, 2)))
    assert "size 1" in failure(x, np.zeros((2, 1, 3)))
    assert "reshape" in failure(x, np.zeros((6,)))
    assert "broadcast" in failure(x, np.zeros((3,)))


def test_dtype_and_device_mismatches(device: str) -> None:
    msg = failure(mg.zeros(2), mg.zeros(2, dtype=mg.float64))
    assert "dtype mismatch: actual is float32, expected float64" in msg
    assert_close(mg.zeros(2), mg.zeros(2, dtype=mg.float64), check_dtype=False)
    if device != "cpu":
        msg = failure(mg.zeros(2, device=device), mg.zeros(2))
        assert f"device mismatch: actual is on {mg.device(device)}, expected on cpu" in msg
        assert_close(mg.zeros(2, device=device), mg.zeros(2), check_device=False)


def test_nan_and_inf() -> None:
    a = mg.tensor([1.0, float("nan"), float("inf")])
    msg = failure(a, [1.0, 2.0, float("inf")])
    assert "actual has 1 NaN value(s), the first at index (1,)" in msg
    assert "worst element at index (1,): actual nan, expected 2" in msg
    assert_close(a, [1.0, float("nan"), float("inf")], equal_nan=True)
    assert "mismatched elements: 1 / 3" in failure(a, [1.0, float("nan"), float("inf")])


def test_integers_compare_exactly_and_containers_name_the_item() -> None:
    assert "exact match" in failure(mg.tensor([1, 2]), np.array([1, 3]))
    msg = failure({"h": mg.zeros(2), "c": mg.ones(2)}, {"h": mg.zeros(2), "c": mg.zeros(2)})
    assert msg.startswith("['c']: values are not close")
    assert "expected 2 items, got 1" in failure([mg.zeros(1)], [mg.zeros(1), mg.zeros(1)])
    assert "missing ['b']" in failure({"a": 1.0}, {"a": 1.0, "b": 2.0})
    with pytest.raises(TypeError, match="assert_close compares"):
        assert_close(object(), 1.0)


# ----------------------------------------------------------------------------- references


def _model(x: mg.Tensor, w: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
    y = (x @ w).tanh()
    return y, (y * y).sum(-1)


def _inputs(keyword: bool = True) -> dict[str, mg.Tensor] | list[mg.Tensor]:
    x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
    w = mg.randn(4, 2, dtype=mg.float64, requires_grad=True)
    return {"x": x, "w": w} if keyword else [x, w]


def test_record_then_check_on_each_device(tmp_path: Path, device: str) -> None:
    path = tmp_path / "ref.npz"
    ref = record_reference(_model, _inputs(), path)
    assert set(ref.grads) == {"x", "w"} and ref.keyword and ref.output_kind == "sequence"
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert {"input/x", "output/0", "grad_output/1", "grad/w", "__meta__"} <= set(data.files)
    assert path.stat().st_size < 5000
    report = check_against_reference(_model, path, device=device)
    assert report.passed and len(report.checks) == 4
    assert report.fraction("gradient") == 1.0


def test_reference_gradients_match_autograd(tmp_path: Path) -> None:
    inputs = _inputs()
    ref = record_reference(_model, inputs, tmp_path / "ref.npz")
    y, s = _model(**inputs)
    g0, g1 = (mg.tensor(ref.grad_outputs[k]) for k in ("0", "1"))
    ((y * g0).sum() + (s * g1).sum()).backward()
    assert_close(ref.grads["x"], inputs["x"].grad.numpy())
    assert_close(ref.grads["w"], inputs["w"].grad.numpy())
    assert inputs["x"].grad is not None  # our backward, not record_reference's


def test_outputs_that_share_nodes(tmp_path: Path) -> None:
    """A sequence and its last state (also one of its steps): both gradients must arrive."""
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)

    def steps(x: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
        h1 = x * 2
        h2 = h1 * 3
        return mg.stack([h1, h2]), h2

    ones = (np.ones((2, 2)), np.ones(2))
    ref = record_reference(steps, [x], tmp_path / "ref.npz", grad_outputs=ones)
    assert_close(ref.grads["0"], [2.0 + 6.0 + 6.0] * 2)


def test_mismatches_name_the_output_and_the_gradient(tmp_path: Path) -> None:
    path = tmp_path / "ref.npz"
    record_reference(_model, _inputs(), path)

    def wrong_grad(x: mg.Tensor, w: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
        y = (x @ w.detach()).tanh()  # forward right, w gets no gradient
        return y, (y * y).sum(-1)

    report = check_against_reference(wrong_grad, path, raise_exception=False)
    assert [c.passed for c in report.checks] == [True, True, True, False]
    assert report.checks[3].name == "gradient of input 'w'"
    assert "got no gradient (None)" in report.checks[3].message
    assert report.fraction("output") == 1.0 and report.fraction("gradient") == 0.5

    def wrong_value(x: mg.Tensor, w: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
        y, s = _model(x, w)
        return y, s * 1.01

    with pytest.raises(ReferenceMismatch, match="output 1: values are not close") as info:
        check_against_reference(wrong_value, path)
    assert "gradient of input 'x'" in str(info.value)


def test_structural_problems_fail_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "ref.npz"
    record_reference(_model, _inputs(), path)
    report = check_against_reference(lambda x, w: (x @ w).tanh(), path, raise_exception=False)
    assert not report.passed
    assert "expected a tuple (2 output(s)), got one tensor" in report.summary()

    def detached(x: mg.Tensor, w: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
        y, s = _model(x.detach(), w.detach())
        return y, s

    msg = check_against_reference(detached, path, raise_exception=False).summary()
    assert "does not require grad" in msg

    class Broken(Function):
        @staticmethod
        def forward(ctx: Function, x: mg.Tensor) -> mg.Tensor:
            return x * 1

        @staticmethod
        def backward(ctx: Function, g: mg.Tensor) -> mg.Tensor:
            raise ValueError("oops")

    def broken(x: mg.Tensor, w: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor]:
        return _model(Broken.apply(x), w)

    report = check_against_reference(broken, path, raise_exception=False)
    assert report.fraction("output") == 1.0
    assert "backward raised ValueError: oops" in report.summary()


def test_positional_inputs_dtype_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ref.npz"
    x = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    record_reference(lambda x, k, idx: x[idx] * k, [x, 2.5, np.array([1, 0, 1])], path)
    ref = load_reference(path)
    assert ref.input_kinds == {"0": "tensor", "1": "number", "2": "array"}
    check_against_reference(lambda x, k, idx: x[idx] * k, path)
    check_against_reference(lambda x, k, idx: x[idx] * k, path, dtype=mg.float32)
    report = check_against_reference(lambda x, k, idx: (x[idx] * k).double(), path,
                                     dtype=mg.float32, raise_exception=False)
    assert "dtype mismatch: actual is float64, expected float32" in report.summary()


def test_write_reference_from_plain_arrays(tmp_path: Path) -> None:
    """As a PyTorch generator would: values computed elsewhere, here by NumPy."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3))
    g = rng.standard_normal((2, 3))
    y = np.sin(x)
    path = tmp_path / "sin.npz"
    write_reference(path, {"x": x}, y, grads={"x": g * np.cos(x)}, grad_outputs=g,
                    meta={"producer": "numpy"})
    ref = load_reference(path)
    assert ref.meta["producer"] == "numpy" and ref.requires_grad == {"x": True}

    class Sin(Function):
        @staticmethod
        def forward(ctx: Function, x: mg.Tensor) -> mg.Tensor:
            ctx.save_for_backward(x)
            return mg.tensor(np.sin(x.numpy()), dtype=x.dtype)

        @staticmethod
        def backward(ctx: Function, grad: mg.Tensor) -> mg.Tensor:
            (x,) = ctx.saved_tensors
            return grad * mg.tensor(np.cos(x.numpy()), dtype=x.dtype)

    check_against_reference(lambda x: Sin.apply(x), path)
    with pytest.raises(ValueError, match="grad_outputs"):
        write_reference(path, {"x": x}, y, grads={"x": g})


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(ValueError, match="not a minigrad reference"):
        load_reference(path)


# ----------------------------------------------------------------------------- bundles


def _bundle(path: Path) -> dict[str, object]:
    """Two references in one file: a recorded minigrad function and plain arrays."""
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    refs = {"model": record_reference(_model, _inputs(), None),
            "sin": write_reference(None, {"x": x}, np.sin(x), grads={"x": np.cos(x)},
                                   grad_outputs=np.ones_like(x), meta={"week": 3})}
    save_references(refs, path, meta={"producer": "numpy"})
    return refs


def test_bundle_round_trip_and_checks(tmp_path: Path, device: str) -> None:
    path = tmp_path / "week3.npz"
    written = _bundle(path)
    refs = load_references(path)
    assert list(refs) == ["model", "sin"]  # the order written
    for name, ref in refs.items():
        want = written[name]
        for group in ("inputs", "outputs", "grad_outputs", "grads"):
            got, exp = getattr(ref, group), getattr(want, group)
            assert list(got) == list(exp), (name, group)
            for k in got:
                assert_close(got[k], exp[k], rtol=0, atol=0)
    assert refs["sin"].meta["week"] == 3 and refs["sin"].meta["bundle"] == {"producer": "numpy"}
    given = load_references(path, expected=False, names=["sin"])
    assert list(given) == ["sin"] and given["sin"].outputs == {} and given["sin"].grads == {}
    assert "x" in given["sin"].inputs and "output" in given["sin"].grad_outputs

    def sin(x: mg.Tensor) -> mg.Tensor:
        return x.exp().log().tanh() * 0 + mg.tensor(np.sin(x.detach().cpu().numpy()),
                                                    device=x.device)  # no gradient of sin

    assert check_against_reference(_model, path, name="model", device=device).passed
    assert check_against_reference(_model, refs["model"], device=device).passed
    report = check_against_reference(sin, path, name="sin", device=device,
                                     raise_exception=False)
    assert report.fraction("output") == 1.0 and report.fraction("gradient") == 0.0
    assert "week3.npz['sin']" in report.summary()
    with pytest.raises(ReferenceMismatch, match="gradient of input 'x'"):
        check_against_reference(sin, refs["sin"], device=device)


def test_bundle_errors_name_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "week3.npz"
    _bundle(path)
    with pytest.raises(ReferenceFileError, match="bundle of 2 references.*load_references"):
        load_reference(path)
    with pytest.raises(KeyError, match="no reference named \\['cos'\\].*model, sin"):
        load_references(path, names=["cos"])
    with pytest.raises(KeyError, match="cos"):
        check_against_reference(_model, path, name="cos")
    single = tmp_path / "one.npz"
    record_reference(_model, _inputs(), single)
    with pytest.raises(ReferenceFileError, match="one reference.*load_reference"):
        load_references(single)
    ref = load_reference(single)
    with pytest.raises(ValueError, match="without '/'"):
        save_references({"a/b": ref}, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="dict of name -> Reference"):
        save_references(ref, tmp_path / "bad.npz")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a Reference"):
        save_references({"a": np.zeros(2)}, tmp_path / "bad.npz")  # type: ignore[dict-item]
    assert not (tmp_path / "bad.npz").exists()


def test_bundle_integrity_is_checked(tmp_path: Path) -> None:
    """An array swapped for another of the same shape and dtype is caught by its CRC-32."""
    path = tmp_path / "week3.npz"
    _bundle(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["sin/output/output"] = arrays["sin/grad/x"]
    edited = tmp_path / "edited.npz"
    np.savez(edited, **arrays)
    with pytest.raises(ReferenceFileError, match="sin/output/output.*checksum"):
        load_references(edited)
    assert load_references(edited, expected=False)["sin"].inputs  # only expected values differ
    with pytest.raises(ReferenceFileError, match="sin/output/output.*checksum"):
        check_against_reference(lambda x: x * 1, edited, name="sin")


# ----------------------------------------------------------------------------- check_gradients


class HalfSquare(Function):
    """x^2 with a backward that forgets the factor 2."""

    @staticmethod
    def forward(ctx: Function, x: mg.Tensor) -> mg.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Function, grad: mg.Tensor) -> mg.Tensor:
        (x,) = ctx.saved_tensors
        return grad * x


def test_check_gradients_passes_and_reports(device: str) -> None:
    x = mg.randn(3, 4, requires_grad=True, device=device)  # float32: checked as float64 copies
    w = mg.randn(4, 2, dtype=mg.float64, requires_grad=True, device=device)
    report = check_gradients(lambda x, w: (x @ w).tanh(), {"x": x, "w": w})
    assert report.passed and bool(report) and report.fraction() == 1.0
    assert [r.name for r in report.inputs] == ["input 'x'", "input 'w'"]
    assert x.dtype == np.float32 and x.grad is None  # the originals are untouched


def test_check_gradients_names_the_input_and_element() -> None:
    x = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    w = mg.randn(3, 2, dtype=mg.float64, requires_grad=True)
    report = check_gradients(lambda x, w: HalfSquare.apply(x) @ w, [x, w])
    assert not report.passed and report.fraction() == 0.5
    bad = report.failures[0]
    assert bad.name == "input 0" and bad.shape == (2, 3)
    assert bad.worst_index is not None and len(bad.worst_index) == 2
    assert bad.analytical == pytest.approx(bad.numerical / 2, rel=1e-4)
    assert "0.5 times the right gradient" in bad.message
    with pytest.raises(GradcheckError, match="input 0: 6 of 6 element"):
        report.raise_if_failed()


def test_check_gradients_edge_cases() -> None:
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    assert "no input requires grad" in check_gradients(lambda x: x * 2, [x.detach()]).summary()
    assert "no output requires grad" in check_gradients(lambda x: x.detach() * 2,
                                                        [x]).summary()
    report = check_gradients(lambda x, y: x * 2 + y.detach(), [x, x * 1])
    assert "no gradient (None), but the output depends on it" in report.summary()
    with pytest.raises(GradcheckError):
        check_gradients(lambda x: HalfSquare.apply(x), [x], raise_exception=True)


# ----------------------------------------------------------------------------- grading


def _grader() -> Grader:
    grader = Grader("demo", timeout=1.0)

    @grader.test("passes", points=2)
    def passes(sub: object) -> None:
        assert sub.VALUE == 1  # type: ignore[attr-defined]

    @grader.test("partial", points=4)
    def partial(sub: object) -> Partial:
        print("hello from the submission")
        return Partial(0.25, "one of four")

    @grader.test("todo", points=1)
    def todo(sub: object) -> None:
        sub.todo()  # type: ignore[attr-defined]

    @grader.test("crashes", points=1)
    def crashes(sub: object) -> None:
        sub.crash()  # type: ignore[attr-defined]

    @grader.test("slow", points=1)
    def slow(sub: object) -> None:
        time.sleep(5)

    return grader


SUBMISSION = '''
VALUE = 1

def todo():
    raise NotImplementedError("TODO: todo")

def crash():
    return [1, 2][5]
'''


def test_grader_scores_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "sub.py"
    path.write_text(SUBMISSION)
    report = _grader().run(load_submission(path))
    results = {t.name: t for t in report.tests}
    assert report.score == 3.0 and report.max_score == 9.0
    assert results["passes"].score == 2 and results["partial"].score == 1.0
    assert "one of four" in results["partial"].message
    assert "your code printed:\nhello from the submission" in results["partial"].message
    assert results["todo"].message.startswith("not implemented yet (sub.py, line 5:")
    assert "IndexError: list index out of range (sub.py, line 8: `return [1, 2][5]`)" in (
        results["crashes"].message)
    assert "took longer than 1 s" in results["slow"].message
    out = tmp_path / "results.json"
    report.write_json(out)
    data = json.loads(out.read_text())
    assert data["score"] == 3.0 and data["max_score"] == 9.0
    assert {"name", "score", "max_score", "status", "message", "output"} <= set(data["tests"][0])
    assert [t["status"] for t in data["tests"]] == ["passed"] + ["failed"] * 4


def test_grader_survives_a_broken_submission(tmp_path: Path) -> None:
    path = tmp_path / "sub.py"
    path.write_text("def f(:\n")
    sub = load_submission(path)
    assert isinstance(sub, SyntaxError)
    report = _grader().run(sub, only="pass")
    assert [t.name for t in report.tests] == ["passes"] and report.score == 0
    assert report.tests[0].message.startswith("could not import the submission")
    assert isinstance(load_submission(tmp_path / "missing.py"), FileNotFoundError)


# ----------------------------------------------------------------------------- pytest plugin

PLUGIN_TEST = '''
import numpy as np
import minigrad as mg

pytest_plugins = ["minigrad.testing.pytest_plugin"]

def test_device(device):
    assert mg.zeros(2, device=device).device == mg.device(device)

def test_seeded(seed, rng):
    assert seed == 0
    assert rng.standard_normal() == np.random.default_rng(0).standard_normal()
    a = mg.randn(3).tolist()
    mg.manual_seed(0)
    assert mg.randn(3).tolist() == a
'''


def test_pytest_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plugin=PLUGIN_TEST)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    # DEVICES: what the plugin found when it was imported (it does not change afterwards)
    result.assert_outcomes(passed=len(pytest_plugin.DEVICES) + 1)


def test_conftest_fixture_overrides_the_plugin(pytester: pytest.Pytester) -> None:
    """As in this repository: tests/conftest.py defines its own ``device``, which wins even
    when the plugin is loaded for the whole run (``-p``)."""
    pytester.mkdir("tests")
    (pytester.path / "tests" / "conftest.py").write_text('''
import pytest

@pytest.fixture
def device():
    return "from-conftest"
''')
    (pytester.path / "tests" / "test_override.py").write_text('''
def test_device(device, rng):
    assert device == "from-conftest"
''')
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p",
                                "minigrad.testing.pytest_plugin", "tests")
    result.assert_outcomes(passed=1)
