"""Reference outputs: record what a function computes (and its gradients), check others against it.

A *reference file* is a small ``.npz`` archive (plain arrays, no pickle) holding the inputs of
one call ``fn(*inputs)`` (or ``fn(**inputs)``), its outputs, the upstream gradients used for
backward, and the resulting gradient of every input that requires grad (a *bundle*, written by
:func:`save_references`, holds several named references, each key preceded by
``<name>/``)::

    input/<name>        each input (Tensors and arrays; numbers as 0-d arrays)
    output/<name>       each output
    grad_output/<name>  the upstream gradient given for each floating output
    grad/<name>         d(sum_k sum(output_k * grad_output_k)) / d(input)
    __meta__            JSON (as uint8): names, order, kinds, how fn is called, versions

Inputs given as a dict are passed by keyword and named by their keys; a list or tuple is
passed positionally and named ``0``, ``1``, ... Outputs are named ``output`` (one tensor),
``0``, ``1``, ... (a tuple or list) or by key (a dict).

:func:`record_reference` writes one from a minigrad function (e.g. an instructor's solution);
:func:`write_reference` from plain arrays (e.g. computed by PyTorch: the generator needs only
NumPy and this module); :func:`check_against_reference` replays the inputs through another
implementation, on any device, and compares outputs and gradients with :func:`assert_close`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from minigrad import backend
from minigrad.autograd.engine import grad as autograd_grad
from minigrad.creation import tensor as make_tensor
from minigrad.tensor import Tensor
from minigrad.testing.compare import assert_close
from minigrad.utils.files import (
    FileFormatError,
    array_record,
    atomic_write,
    check_array,
    naming_damage,
    open_npz,
)

FORMAT = "minigrad-reference"
VERSION = 1
META_KEY = "__meta__"
SINGLE = "output"  # the name of a function's only output


class ReferenceMismatch(AssertionError):
    """An implementation disagrees with a reference file; the message lists every difference."""


class ReferenceFileError(FileFormatError):
    """A reference file is missing, unreadable, damaged, or not a minigrad reference file."""


class MissingReferenceFile(ReferenceFileError, FileNotFoundError):
    """No file at the reference's path: a ``FileNotFoundError`` that graders report as the
    instructor's mistake, like any other :class:`ReferenceFileError`."""


@dataclass
class Reference:
    """The contents of a reference file (all arrays on the host)."""

    inputs: dict[str, np.ndarray]
    input_kinds: dict[str, str]  # "tensor", "array" or "number"
    requires_grad: dict[str, bool]
    outputs: dict[str, np.ndarray]
    grad_outputs: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    keyword: bool  # fn is called as fn(**inputs), else fn(*inputs)
    output_kind: str  # "single", "sequence" or "mapping"
    meta: dict[str, Any] = field(default_factory=dict)
    output_names: list[str] = field(default_factory=list)  # in order, even when not loaded

    def __post_init__(self) -> None:
        if not self.output_names:
            self.output_names = list(self.outputs)


@dataclass
class Check:
    """The result of comparing one output or one gradient."""

    name: str  # e.g. "output 'h'" or "gradient of input 'weight_ih'"
    kind: str  # "output" or "gradient"
    passed: bool
    message: str = ""


@dataclass
class ReferenceReport:
    """Every comparison :func:`check_against_reference` made, passed or not."""

    path: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def fraction(self, kind: str | None = None) -> float:
        """The share of checks (of ``kind``: "output" or "gradient", or all) that passed."""
        checks = [c for c in self.checks if kind is None or c.kind == kind]
        return sum(c.passed for c in checks) / len(checks) if checks else 1.0

    def summary(self, kind: str | None = None) -> str:
        """One line per failed check (of ``kind``), or a line saying all passed."""
        failed = [c for c in self.failures if kind is None or c.kind == kind]
        checks = [c for c in self.checks if kind is None or c.kind == kind]
        if not failed:
            return f"all {len(checks)} checks passed against {os.path.basename(self.path)}"
        head = (f"{len(failed)} of {len(checks)} checks failed against "
                f"{os.path.basename(self.path)}:")
        return "\n".join([head] + [f"- {c.name}: {c.message}" for c in failed])

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise ReferenceMismatch(self.summary())

    def __repr__(self) -> str:
        return f"ReferenceReport({self.summary()!r})"


# --------------------------------------------------------------------------- naming


def _input_names(inputs: Sequence[Any] | Mapping[str, Any]) -> tuple[list[str], bool]:
    if isinstance(inputs, Mapping):
        names = [str(k) for k in inputs]
        for k in inputs:
            if not isinstance(k, str) or not k.isidentifier():
                raise ValueError(f"input names must be Python identifiers (they are passed as "
                                 f"keyword arguments), got {k!r}")
        return names, True
    if isinstance(inputs, (Tensor, np.ndarray)):
        raise TypeError("inputs must be a list/tuple (passed positionally) or a dict (passed "
                        "by keyword) of inputs, e.g. [x] rather than x")
    return [str(i) for i in range(len(inputs))], False


def _flatten_outputs(out: Any) -> tuple[dict[str, Any], str]:
    if isinstance(out, Mapping):
        return {str(k): v for k, v in out.items()}, "mapping"
    if isinstance(out, (list, tuple)):
        return {str(i): v for i, v in enumerate(out)}, "sequence"
    return {SINGLE: out}, "single"


def _describe_input(name: str, keyword: bool) -> str:
    return f"input {name!r}" if keyword else f"input {name}"


def _describe_output(name: str, kind: str) -> str:
    if kind == "single":
        return "the output"
    return f"output {name!r}" if kind == "mapping" else f"output {name}"


def _host(x: Any) -> np.ndarray:
    if isinstance(x, Tensor):
        return backend.to_host(x.data)
    if backend.is_array(x):
        return backend.to_host(x)
    return np.asarray(x)


def _kind(x: Any) -> str:
    if isinstance(x, Tensor):
        return "tensor"
    if backend.is_array(x):
        return "array"
    if isinstance(x, (bool, int, float, np.generic)):
        return "number"
    raise TypeError(f"a reference input must be a Tensor, an array or a number, got "
                    f"{type(x).__name__}")


def vjp(outputs: list[Tensor], upstream: list[Tensor], inputs: list[Tensor]) -> tuple:
    """The gradients of ``sum_k sum(outputs[k] * upstream[k])`` w.r.t. ``inputs`` (None where
    unused), without touching any ``.grad``.

    Several outputs are first summed into one scalar, so that backward starts from a single
    root whatever the outputs share (e.g. a sequence's outputs and its last state, which is
    also one of them).
    """
    if len(outputs) == 1:
        return autograd_grad(outputs[0], inputs, upstream[0], allow_unused=True)
    total = None
    for o, u in zip(outputs, upstream):
        term = (o * u).sum()
        total = term if total is None else total + term
    return autograd_grad(total, inputs, allow_unused=True)


# --------------------------------------------------------------------------- writing


def write_reference(path: str | os.PathLike[str] | None, inputs: Sequence[Any] | Mapping[str, Any],
                    outputs: Any, grads: Mapping[Any, Any] | Sequence[Any] | None = None,
                    grad_outputs: Any = None, *, input_kinds: Mapping[str, str] | None = None,
                    meta: Mapping[str, Any] | None = None) -> Reference:
    """Write a reference file from plain values, e.g. what PyTorch computed.

    Args:
        inputs: a list (passed positionally) or dict (passed by keyword) of arrays or
            numbers (anything NumPy can convert: ``t.detach().numpy()`` for torch).
        outputs: one array, or a list/tuple or dict of arrays.
        grads: the gradient of each input that requires grad: a dict keyed by input name
            (or position), or a list aligned with ``inputs`` with None where there is none.
            The inputs named here are the ones replayed with ``requires_grad=True``.
        grad_outputs: the upstream gradients used to compute ``grads``, structured as
            ``outputs`` (None where an output got none). Required when ``grads`` is given.
        input_kinds: how to pass each input to the checked function: ``"tensor"`` (the
            default for arrays), ``"array"`` (a NumPy array) or ``"number"`` (the default for
            Python numbers).
        meta: extra JSON-able information to store (e.g. ``{"producer": "torch 2.13.0"}``).

    Returns the :class:`Reference` written. With ``path=None`` nothing is written: the
    Reference is only built, e.g. to gather many into one file with :func:`save_references`.
    """
    names, keyword = _input_names(inputs)
    values = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    kinds = {n: ("number" if isinstance(v, (bool, int, float)) else "tensor")
             for n, v in zip(names, values)}
    kinds.update(input_kinds or {})
    arrays = {n: np.asarray(_host(v)) for n, v in zip(names, values)}
    out_values, out_kind = _flatten_outputs(outputs)
    outs = {n: np.asarray(_host(v)) for n, v in out_values.items()}
    grad_map: dict[str, np.ndarray] = {}
    if grads is not None:
        items = (grads.items() if isinstance(grads, Mapping)
                 else [(i, g) for i, g in enumerate(grads)])
        for k, g in items:
            if g is None:
                continue
            key = names[k] if isinstance(k, int) and keyword else str(k)
            if key not in arrays:
                raise KeyError(f"grads has an entry {k!r} for no input (inputs: {names})")
            grad_map[key] = np.asarray(_host(g))
    gout_map: dict[str, np.ndarray] = {}
    if grad_map:
        if grad_outputs is None:
            raise ValueError("grads were given without the grad_outputs that produced them")
        g_values, _ = _flatten_outputs(grad_outputs)
        gout_map = {n: np.asarray(_host(g)) for n, g in g_values.items() if g is not None}
        unknown = set(gout_map) - set(outs)
        if unknown:
            raise KeyError(f"grad_outputs for outputs that do not exist: {sorted(unknown)}")
    ref = Reference(inputs=arrays, input_kinds=kinds,
                    requires_grad={n: n in grad_map for n in names}, outputs=outs,
                    grad_outputs=gout_map, grads=grad_map, keyword=keyword,
                    output_kind=out_kind, meta=dict(meta or {}))
    if path is not None:
        save_reference(ref, path)
    return ref


def _header(ref: Reference) -> dict[str, Any]:
    """What a file's header says about one reference (its arrays are recorded separately)."""
    return {
        "keyword": ref.keyword,
        "inputs": [{"name": n, "kind": ref.input_kinds[n],
                    "requires_grad": bool(ref.requires_grad[n])} for n in ref.inputs],
        "outputs": {"kind": ref.output_kind, "names": list(ref.outputs)},
        "meta": ref.meta,
    }


def _arrays(ref: Reference, prefix: str = "") -> dict[str, np.ndarray]:
    """A reference's arrays under their archive keys (``input/<name>``, ...), each key
    preceded by ``prefix`` (a bundle's ``<reference name>/``)."""
    arrays: dict[str, np.ndarray] = {}
    for group, values in (("input", ref.inputs), ("output", ref.outputs),
                          ("grad_output", ref.grad_outputs), ("grad", ref.grads)):
        for name, arr in values.items():
            if arr.dtype.hasobject:
                raise TypeError(f"{group} {name!r} has dtype object, which needs pickle")
            arrays[f"{prefix}{group}/{name}"] = arr
    return arrays


def _write(path: str | os.PathLike[str], header: dict[str, Any],
           arrays: dict[str, np.ndarray], who: str) -> None:
    from minigrad import __version__

    header = {"format": FORMAT, "version": VERSION, **header,
              "minigrad_version": __version__, "numpy_version": np.__version__,
              "arrays": {k: array_record(a) for k, a in arrays.items()}}
    arrays = {**arrays,
              META_KEY: np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)}
    # atomic: a kill or a full disk mid-write leaves the previous reference readable
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays), who=who)


def save_reference(ref: Reference, path: str | os.PathLike[str]) -> None:
    """Write a :class:`Reference` to ``path`` (an ``.npz`` archive; no pickle)."""
    _write(path, _header(ref), _arrays(ref), who="save_reference")


def save_references(refs: Mapping[str, Reference], path: str | os.PathLike[str], *,
                    meta: Mapping[str, Any] | None = None) -> None:
    """Write several named :class:`Reference` objects to one ``.npz`` file (a *bundle*).

    A bundle is a reference file whose arrays sit under ``<name>/input/<input>``,
    ``<name>/output/<output>``, ... and whose header lists each reference by name (in the
    given order) with the same per-array dtype, shape and CRC-32 records: one file for all
    the cases of an assignment, or for hundreds of operator cases. Names may contain any
    character but ``/``. ``meta`` is JSON-able information about the whole bundle (e.g. the
    producing library's version). Read it back with :func:`load_references`.

    Example::

        refs = {"tanh": write_reference(None, [x], x_tanh, ...), ...}
        save_references(refs, "week3.npz", meta={"producer": "torch 2.13.0"})
    """
    if isinstance(refs, Reference) or not isinstance(refs, Mapping):
        raise TypeError(f"save_references takes a dict of name -> Reference, got "
                        f"{type(refs).__name__} (save one Reference with save_reference)")
    arrays: dict[str, np.ndarray] = {}
    headers: dict[str, Any] = {}
    for name, ref in refs.items():
        if not isinstance(name, str) or not name or "/" in name or name == META_KEY:
            raise ValueError(f"reference names must be non-empty strings without '/' (other "
                             f"than {META_KEY!r}), got {name!r}")
        if not isinstance(ref, Reference):
            raise TypeError(f"refs[{name!r}] is a {type(ref).__name__}, expected a Reference")
        headers[name] = _header(ref)
        arrays.update(_arrays(ref, prefix=f"{name}/"))
    _write(path, {"bundle": headers, "meta": dict(meta or {})}, arrays, who="save_references")


def record_reference(fn: Callable[..., Any], inputs: Sequence[Any] | Mapping[str, Any],
                     path: str | os.PathLike[str] | None, grad_outputs: Any = None, *,
                     seed: int = 0, meta: Mapping[str, Any] | None = None) -> Reference:
    """Run ``fn`` on ``inputs``, backpropagate, and save everything to ``path``.

    Args:
        fn: a function of minigrad Tensors returning a Tensor, or a tuple/list/dict of them.
        inputs: a list (``fn(*inputs)``) or dict (``fn(**inputs)``) of Tensors, NumPy
            arrays or numbers. The gradient of every Tensor with ``requires_grad=True`` is
            recorded (this does not touch their ``.grad``).
        grad_outputs: the upstream gradient of each floating output that requires grad,
            structured like the outputs; by default random normal values drawn from
            ``seed`` (random rather than ones, so that a transposed or permuted gradient
            cannot pass by symmetry).
        meta: extra JSON-able information to store.

    Returns the :class:`Reference`; with ``path=None`` it is not written (gather several
    into one file with :func:`save_references`).

    Example::

        x = mg.randn(3, 4, dtype=mg.float64, requires_grad=True)
        record_reference(lambda x: (x.tanh() * 2).sum(-1), [x], "tanh_sum.npz")
    """
    names, keyword = _input_names(inputs)
    values = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    out = fn(**dict(zip(names, values))) if keyword else fn(*values)
    out_values, _ = _flatten_outputs(out)
    for n, o in out_values.items():
        if not isinstance(o, Tensor):
            raise TypeError(f"fn must return Tensors, got {type(o).__name__} for output {n}")
    diff = [(n, v) for n, v in zip(names, values) if isinstance(v, Tensor) and v.requires_grad]
    graded = {n: o for n, o in out_values.items() if o.requires_grad}
    gouts: dict[str, Any] = {}
    if grad_outputs is not None:
        given, _ = _flatten_outputs(grad_outputs)
        gouts = {n: _host(g) for n, g in given.items() if g is not None and n in graded}
    else:
        rng = np.random.default_rng(seed)
        gouts = {n: rng.standard_normal(o.shape).astype(o.dtype) for n, o in graded.items()}
    grads: dict[str, Any] = {}
    if diff and gouts:
        order = list(gouts)
        result = vjp([graded[n] for n in order],
                     [make_tensor(gouts[n], device=graded[n].device) for n in order],
                     [v for _, v in diff])
        for (n, v), g in zip(diff, result):
            grads[n] = np.zeros(v.shape, v.dtype) if g is None else _host(g)
    kinds = {n: _kind(v) for n, v in zip(names, values)}
    return write_reference(path, dict(zip(names, values)) if keyword else values, out,
                           grads=grads, grad_outputs=_restructure(gouts, out),
                           input_kinds=kinds, meta=meta)


def _restructure(flat: dict[str, Any], like: Any) -> Any:
    if isinstance(like, Mapping):
        return {k: flat.get(str(k)) for k in like}
    if isinstance(like, (list, tuple)):
        return [flat.get(str(i)) for i in range(len(like))]
    return flat.get(SINGLE)


# --------------------------------------------------------------------------- reading


def load_reference(path: str | os.PathLike[str], expected: bool = True) -> Reference:
    """Read a reference file written by :func:`record_reference` or :func:`write_reference`.

    ``expected=False`` reads only what the code under test is given (inputs and the upstream
    gradients): its ``outputs`` and ``grads`` are left empty, so the expected values are not
    in memory while that code runs. :func:`check_against_reference` reads them only after the
    function and its backward have returned.

    Raises:
        MissingReferenceFile: (a ``FileNotFoundError`` and a :class:`ReferenceFileError`)
            ``path`` does not exist.
        ReferenceFileError: (a :class:`FileFormatError`) the file is not a reference file (the
            message says what it is instead, e.g. a bundle to read with
            :func:`load_references`), or is damaged, or its arrays do not match its header.
    """
    def read(data: Any, header: dict[str, Any], path: str) -> Reference:
        if "bundle" in header:
            raise ReferenceFileError(
                f"{path!r} is a bundle of {len(header['bundle'])} references, not one: read "
                "it with load_references (or check one of them with check_against_reference"
                "(fn, path, name=...))")
        return _read_one(data, header, "", path, expected)

    return _open(path, read)


def load_references(path: str | os.PathLike[str], expected: bool = True,
                    names: Sequence[str] | None = None) -> dict[str, Reference]:
    """Read a bundle written by :func:`save_references`: ``{name: Reference}`` in the order
    written. The bundle's own ``meta`` is in each Reference's ``meta["bundle"]``.

    Args:
        expected: as in :func:`load_reference` (False: inputs and upstream gradients only).
        names: read only these references (default: all); an unknown name raises KeyError
            listing the names the bundle has.

    Raises the errors of :func:`load_reference`; a single-reference file is refused with a
    message pointing to :func:`load_reference`.
    """
    def read(data: Any, header: dict[str, Any], path: str) -> dict[str, Reference] | KeyError:
        bundle = header.get("bundle")
        if bundle is None:
            raise ReferenceFileError(f"{path!r} holds one reference, not a bundle: read it "
                                     "with load_reference")
        wanted = list(bundle) if names is None else list(names)
        unknown = [n for n in wanted if n not in bundle]
        if unknown:  # raised below, outside the reader that turns KeyErrors into damage
            return KeyError(f"{path!r} has no reference named {unknown} (it has "
                            f"{len(bundle)}: {', '.join(list(bundle)[:20])}"
                            f"{', ...' if len(bundle) > 20 else ''})")
        bundle_meta = header.get("meta", {})
        refs = {}
        for n in wanted:
            h = dict(bundle[n], minigrad_version=header.get("minigrad_version"))
            ref = _read_one(data, h, f"{n}/", path, expected, arrays=header.get("arrays"))
            ref.meta["bundle"] = bundle_meta
            refs[n] = ref
        return refs

    result = _open(path, read)
    if isinstance(result, KeyError):
        raise result
    return result


def _open(path: str | os.PathLike[str], read: Callable[[Any, dict[str, Any], str], Any]) -> Any:
    """Open a reference file, check its header, and hand the archive to ``read``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingReferenceFile(f"no reference file at {path!r} (the file does not exist)")
    what = "a minigrad reference file"
    try:
        with open_npz(path, what) as data, naming_damage(path, what):
            return read(data, _read_header(data, path), path)
    except ReferenceFileError:
        raise
    except FileFormatError as e:
        raise ReferenceFileError(str(e)) from e


def _read_header(data: Any, path: str) -> dict[str, Any]:
    if META_KEY not in data.files:
        hint = (": it is a checkpoint written by mg.save, read it with mg.load"
                if "__minigrad__" in data.files else "")
        raise ReferenceFileError(f"{path!r} is not a minigrad reference file (no {META_KEY!r})"
                                 + hint)
    header = json.loads(data[META_KEY].tobytes().decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ReferenceFileError(f"{path!r} is not a minigrad reference file")
    if header.get("version", 0) > VERSION:
        raise ReferenceFileError(f"{path!r} was written by a newer minigrad (reference format "
                                 f"version {header['version']}; this one reads up to {VERSION})")
    return header


_MISSING = object()


def _read_one(data: Any, header: dict[str, Any], prefix: str, path: str, expected: bool,
              arrays: Any = _MISSING) -> Reference:
    """One reference from an open archive: its header, its arrays under ``prefix``."""
    specs = header["inputs"]
    out_names = header["outputs"]["names"]
    files = set(data.files)
    # dtype, shape, CRC-32 of each array (not in old files)
    recorded = header.get("arrays") if arrays is _MISSING else arrays

    def read(key: str) -> np.ndarray:
        if recorded is None:
            return data[key]
        if key not in recorded:
            raise ReferenceFileError(f"{path!r}: array {key!r} is not in the header's list "
                                     "(the file was edited); record it again")
        return check_array(data[key], recorded[key], path, key)

    def group(kind: str, names: list[str]) -> dict[str, np.ndarray]:
        return {n: read(f"{prefix}{kind}/{n}") for n in names
                if f"{prefix}{kind}/{n}" in files}

    in_names = [s["name"] for s in specs]
    return Reference(
        inputs=group("input", in_names), input_kinds={s["name"]: s["kind"] for s in specs},
        requires_grad={s["name"]: bool(s["requires_grad"]) for s in specs},
        outputs=group("output", out_names) if expected else {},
        grad_outputs=group("grad_output", out_names),
        grads=group("grad", in_names) if expected else {}, keyword=bool(header["keyword"]),
        output_kind=header["outputs"]["kind"],
        meta=dict(header.get("meta", {}), minigrad_version=header.get("minigrad_version")),
        output_names=list(out_names))


def make_inputs(ref: Reference, device: Any = None, dtype: Any = None) -> dict[str, Any]:
    """The reference's inputs as fresh values: Tensors (on ``device``, requiring grad as
    recorded), NumPy arrays or numbers. ``dtype`` converts floating tensors (e.g. to replay a
    float64 reference in float32)."""
    out: dict[str, Any] = {}
    for name, arr in ref.inputs.items():
        kind = ref.input_kinds.get(name, "tensor")
        if kind == "number":
            out[name] = arr.item()
        elif kind == "array":
            out[name] = arr.copy()
        else:
            dt = dtype if dtype is not None and arr.dtype.kind == "f" else None
            out[name] = make_tensor(arr, dtype=dt, device=device,
                                    requires_grad=ref.requires_grad.get(name, False))
    return out


def check_against_reference(fn: Callable[..., Any],
                            path: str | os.PathLike[str] | Reference, *,
                            name: str | None = None, device: Any = None, dtype: Any = None,
                            rtol: float | None = None, atol: float | None = None,
                            check_grads: bool = True, equal_nan: bool = False,
                            raise_exception: bool = True) -> ReferenceReport:
    """Replay a reference file through ``fn`` and compare its outputs and gradients.

    The inputs are rebuilt on ``device`` (default: the default device), ``fn`` is called,
    every output is compared with :func:`assert_close` (and must be on ``device``), then the
    recorded upstream gradients are backpropagated and the gradient of every input that
    required grad is compared too.

    Args:
        path: a reference file; or a bundle (:func:`save_references`) with ``name``, the
            reference in it to replay; or a :class:`Reference` already loaded (e.g. one of
            :func:`load_references`' results, to read a large bundle once for many checks:
            its expected values are then in memory while ``fn`` runs).
        name: which reference of a bundle to replay (a bundle needs one); with a
            :class:`Reference`, only the label that messages give it.
        dtype: convert floating inputs and expected values (e.g. ``mg.float32`` to check a
            float64 reference in float32, with tolerances to match).
        rtol, atol: tolerances; by default those of :func:`assert_close` for the dtype.
        check_grads: also compare gradients (default True).
        equal_nan: a NaN matches a NaN at the same place (for references whose expected values
            have NaN by definition, e.g. a loss over nothing); by default NaN matches nothing.
        raise_exception: raise :class:`ReferenceMismatch` listing every failed check (the
            default), or just return the report.

    An exception raised by ``fn`` itself propagates (there is nothing to compare); one raised
    during backward fails the gradient checks, with its message, so outputs still count.

    Returns a :class:`ReferenceReport` with one :class:`Check` per output and per gradient.

    The expected outputs and gradients are read from the file only after ``fn`` and the
    backward pass have returned: the code under test never has them in memory.
    """
    if isinstance(path, Reference):
        given = path
        report = ReferenceReport(path=name or "the reference")
    elif name is not None:
        given = load_references(path, expected=False, names=[name])[name]
        report = ReferenceReport(path=f"{os.fspath(path)}[{name!r}]")
    else:
        given = load_reference(path, expected=False)
        report = ReferenceReport(path=os.fspath(path))
    want_device = backend.device(device)
    inputs = make_inputs(given, device=want_device, dtype=dtype)
    out = fn(**inputs) if given.keyword else fn(*inputs.values())
    outs, kind = _flatten_outputs(out)
    cast = np.dtype(dtype) if dtype is not None else None

    def expected(arr: np.ndarray) -> np.ndarray:
        return arr.astype(cast) if cast is not None and arr.dtype.kind == "f" else arr

    n_out = len(given.output_names)
    if kind != given.output_kind and not (len(outs) == n_out == 1):
        pass  # reported below, with the outputs
    elif len(outs) == n_out == 1:
        outs = {given.output_names[0]: next(iter(outs.values()))}

    # ---- the backward pass (the code under test's last chance to run)
    diff = [n for n in given.inputs if given.requires_grad.get(n)]
    grads: tuple[Any, ...] = ()
    problem: str | None = None
    if check_grads and diff:
        problem = _backward_problem(outs, given)
        if problem is None and given.grad_outputs:  # a forward-only reference has none
            order = [n for n in given.grad_outputs if n in outs]
            try:
                grads = vjp([outs[n] for n in order],
                            [make_tensor(expected(given.grad_outputs[n]), device=want_device)
                             for n in order], [inputs[n] for n in diff])
            except Exception as e:  # the implementation's backward failed: report, don't crash
                problem = f"backward raised {type(e).__name__}: {e}"
    got_grads = dict(zip(diff, grads))
    # now, and only now, the expected values
    if isinstance(path, Reference):
        ref = path
    elif name is not None:
        ref = load_references(path, names=[name])[name]
    else:
        ref = load_reference(path)
    diff = [n for n in diff if n in ref.grads]

    # ---- outputs
    if kind != ref.output_kind and not (len(outs) == len(ref.outputs) == 1):
        shape = {"single": "one tensor", "sequence": "a tuple", "mapping": "a dict"}
        msg = (f"expected {shape[ref.output_kind]} ({len(ref.outputs)} output(s)), got "
               f"{shape[kind]} ({len(outs)} output(s))")
        report.checks.append(Check("the outputs", "output", False, msg))
        outs = {}  # nothing to compare one by one
    elif not outs:
        report.checks.append(Check("the outputs", "output", False, "nothing was returned"))
    for name, want in ref.outputs.items() if outs else ():
        label = _describe_output(name, ref.output_kind)
        if name not in outs:
            report.checks.append(Check(label, "output", False, f"missing: {label} was not "
                                       f"returned (got {', '.join(sorted(outs))})"))
            continue
        got = outs[name]
        if not isinstance(got, Tensor):
            report.checks.append(Check(label, "output", False, f"expected a Tensor, got "
                                       f"{type(got).__name__}"))
            continue
        report.checks.append(_check(label, "output", got, expected(want), rtol, atol,
                                    want_device, equal_nan))

    # ---- gradients
    if not (check_grads and diff):
        _finish(report, raise_exception)
        return report
    labels = {n: f"gradient of {_describe_input(n, ref.keyword)}" for n in diff}
    for n in diff:
        if problem is not None:
            report.checks.append(Check(labels[n], "gradient", False, problem))
            continue
        g = got_grads.get(n)
        want = expected(ref.grads[n])
        if g is None:
            if np.any(want != 0):
                report.checks.append(Check(labels[n], "gradient", False, (
                    f"got no gradient (None): the outputs do not depend on "
                    f"{_describe_input(n, ref.keyword)} in the graph. Is it used? Was it "
                    "detached, or used through .data, .numpy() or NumPy functions?")))
            else:
                report.checks.append(Check(labels[n], "gradient", True))
            continue
        report.checks.append(_check(labels[n], "gradient", g, want, rtol, atol, want_device,
                                    equal_nan))
    _finish(report, raise_exception)
    return report


def _backward_problem(outs: dict[str, Any], ref: Reference) -> str | None:
    for name in ref.grad_outputs:
        o = outs.get(name)
        label = _describe_output(name, ref.output_kind)
        if not isinstance(o, Tensor):
            return f"no gradient can flow: {label} is missing or not a Tensor"
        want = ref.grad_outputs[name].shape
        if tuple(o.shape) != want:
            return (f"cannot backpropagate the recorded gradient: {label} has shape "
                    f"{tuple(o.shape)}, expected {want}")
        if not o.requires_grad:
            return (f"{label} does not require grad, so no gradient can flow back to the "
                    "inputs: it was computed outside the graph (detach(), .data, .numpy(), "
                    "NumPy functions, or under mg.no_grad())")
    return None


def _check(label: str, kind: str, got: Tensor, want: np.ndarray, rtol: float | None,
           atol: float | None, device: backend.Device, equal_nan: bool = False) -> Check:
    if got.device != device:
        return Check(label, kind, False, f"on device {got.device}, expected {device}: create "
                     "new tensors on the inputs' device (device=x.device)")
    try:
        assert_close(got, want, rtol, atol, equal_nan=equal_nan)
    except AssertionError as e:
        return Check(label, kind, False, str(e))
    return Check(label, kind, True)


def _finish(report: ReferenceReport, raise_exception: bool) -> None:
    if raise_exception:
        report.raise_if_failed()


__all__ = ["Check", "Reference", "ReferenceFileError", "ReferenceMismatch", "ReferenceReport",
           "check_against_reference", "load_reference", "load_references", "make_inputs",
           "record_reference", "save_reference", "save_references", "vjp", "write_reference"]
