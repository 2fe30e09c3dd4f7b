"""The optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

Subclasses only say how one parameter is updated (``_update``) and what state it starts
with (``_init_state``); walking the groups, skipping parameters without a gradient, bumping
version counters and (de)serialising the state live here, once.

Updates work on the backend arrays (``p.data``, ``p.grad.data``) in place, so a step never
builds a graph and keeps each parameter's dtype. Hyperparameters are read as Python floats:
NumPy 2 treats those as "weak" and computes in the array's dtype, where a NumPy float64
scalar would promote a float32 update to float64.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from typing import Any, Callable, Iterable

from minigrad import backend
from minigrad.autograd import enable_grad
from minigrad.tensor import Tensor, _make, bump_version

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]

# group keys that are not hyperparameters of the optimizer but may legitimately appear
_EXTRA_GROUP_KEYS = ("params", "initial_lr")
_SET_ERROR = ("optimizer parameters need to be organized in ordered collections, but the "
              "ordering of tensors in sets changes between runs; use a list")


class Optimizer:
    """Base class of all optimizers, with PyTorch's interface.

    Args:
        params: an iterable of Tensors (usually ``model.parameters()``), or of dicts that
            each hold ``"params"`` plus per-group options overriding ``defaults``, e.g.
            ``[{"params": body.parameters()}, {"params": head.parameters(), "lr": 1e-2}]``.
        defaults: the default value of every option this optimizer understands.

    Attributes:
        param_groups: list of dicts, one per group: ``"params"`` (a list of Tensors) and the
            group's options.
        state: per-parameter dict of the optimizer's buffers (backend arrays on the
            parameter's device) and its ``"step"`` count.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._step_count = 0  # how many times step() ran; read by the lr schedulers
        self._scratch: dict[tuple, Any] = {}  # reusable temporaries, see _buffer()

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor; wrap it in a list: [param]")
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones take the defaults).

        Useful to start training a frozen part of a model later on.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        g_idx = len(self.param_groups)
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"parameter group {g_idx} has no 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_ERROR)
        params = list(params)

        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            where = f"parameter {i} of group {g_idx}"
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but {where} is a "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor ({where} was computed by "
                                 f"an operation); optimize the leaf it came from instead")
            if not p.requires_grad:
                raise ValueError(f"{where} does not require grad, so it would never be "
                                 f"updated; call p.requires_grad_() or leave it out")
            if id(p) in seen:
                raise ValueError(f"group {g_idx} lists the same parameter twice (positions "
                                 f"{seen[id(p)]} and {i})")
            seen[id(p)] = i

        unknown = sorted(k for k in param_group if k not in self.defaults
                         and k not in _EXTRA_GROUP_KEYS)
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} in parameter group {g_idx} of "
                             f"{type(self).__name__}; valid options: {sorted(self.defaults)}")

        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")

        group = dict(self.defaults)
        group.update((k, v) for k, v in param_group.items() if k != "params")
        self._validate(group, g_idx)
        group["params"] = params
        self.param_groups.append(group)
        self._init_group(group)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        """Check a group's options; subclasses extend this with their own ranges."""
        lr = group.get("lr")
        if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
            raise TypeError(f"learning rate of group {index} must be a number, got {lr!r}")
        if not 0 <= lr < math.inf:  # written so that NaN fails too (NaN < 0 is False)
            raise ValueError(f"Invalid learning rate: {lr} (lr of group {index}); it must be a "
                             f"finite number >= 0")

    @staticmethod
    def _check_range(name: str, value: Any, high: float = math.inf) -> None:
        """Options like eps and weight_decay must be finite and >= 0 (as PyTorch checks, and
        NaN and infinity refused too); those that are fractions, like momentum, also <= 1."""
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= value <= high or value == math.inf:
            expected = ">= 0 and finite" if high == math.inf else f"0 <= {name} <= {high:g}"
            raise ValueError(f"Invalid {name} value: {value} (expected {expected})")

    def _init_group(self, group: dict[str, Any]) -> None:
        """Hook for optimizers whose state starts eagerly (Adagrad); default: lazily."""

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters.

        ``set_to_none=True`` (the default, as in PyTorch) drops the gradient tensors, which
        saves memory and lets ``step()`` skip parameters that got no gradient; ``False`` fills
        the existing gradient arrays with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g._node is not None:
                        g.detach_()
                    g.requires_grad = False
                    g.data[...] = 0
                    bump_version(g)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with
        gradients enabled before the update.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                param, grad = p.data, p.grad.data
                if grad.shape != param.shape:
                    raise RuntimeError(f"gradient of shape {grad.shape} does not match its "
                                       f"parameter of shape {param.shape}")
                state = self.state[p]
                if not state:
                    self._init_state(param, state, group)
                self._update(param, grad, state, group)
                bump_version(p)  # so backward detects a value saved before this update
        self._step_count += 1
        return loss

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Fill ``state`` for ``param`` before its first update (default: nothing)."""

    def _update(self, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update the backend array ``param`` in place from ``grad``; implemented by subclasses."""
        raise NotImplementedError

    def _buffer(self, like: Any, slot: int = 0) -> Any:
        """A scratch array shaped like ``like``, reused across steps and parameters.

        Updates need a temporary or two; allocating fresh ones every step costs page faults
        on large arrays (see benchmarks/README.md), so one buffer per (shape, dtype, device,
        slot) is kept. Its contents are garbage on entry.
        """
        key = (like.shape, like.dtype, type(like), backend.device_of(like).index, slot)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = backend.get_array_module(like).empty_like(like)
        return buf

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, in PyTorch's layout.

        ``{"state": {index: {"step": int, name: Tensor, ...}}, "param_groups": [{options...,
        "params": [index, ...]}]}``, where parameters are numbered in group order. Tensors
        share memory with the live state (as in PyTorch): save them (``mg.save``) or copy them
        to keep a snapshot while training goes on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if s and id(p) in index:
                state[index[id(p)]] = {k: _make(v) if backend.is_array(v) else v
                                       for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (or ``mg.load`` of a saved one).

        The groups' options (``lr``...) are taken from ``state_dict``; its state arrays are
        copied onto each parameter's device, in the parameter's dtype.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("expected a dict with 'state' and 'param_groups', as returned by "
                             "Optimizer.state_dict()")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        mine = set(self.defaults)
        for i, saved in enumerate(saved_groups):
            theirs = {k for k in saved if k not in _EXTRA_GROUP_KEYS}
            if theirs != mine:
                # e.g. an SGD state loaded into Adam: refuse now, not with a KeyError at step()
                raise ValueError(
                    f"loaded state dict's group {i} has the options {sorted(theirs)}, but "
                    f"{type(self).__name__} has {sorted(mine)}: it was saved from another "
                    f"kind of optimizer; load it into the same class it came from")
        id_map: dict[Any, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's group {i} has {len(saved['params'])} "
                                 f"parameters, this optimizer's has {len(group['params'])}")
            id_map.update(zip(saved["params"], group["params"]))

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which "
                                 f"no group lists")
            p = id_map[key]
            state[p] = {name: _load_value(p, name, v, key) for name, v in values.items()}

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new = {k: (tuple(v) if isinstance(v, list) and isinstance(group.get(k), tuple)
                       else v) for k, v in saved.items() if k != "params"}
            self._validate(new, len(new_groups))  # a saved lr of NaN is no better than a typed one
            new["params"] = group["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _load_value(p: Tensor, name: str, value: Any, key: Any) -> Any:
    """One saved state entry for parameter ``p``: arrays copied to p's device and dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if not backend.is_array(value):
        return value
    if name == "step":  # a count; PyTorch stores it as a 0-d tensor
        return int(backend.to_host(value).reshape(()).item())
    if value.shape != p.shape:
        raise ValueError(f"state {name!r} of parameter {key!r} has shape {value.shape}, "
                         f"the parameter has shape {p.shape}")
    dtype = p.dtype if value.dtype.kind == "f" and p.dtype.kind == "f" else value.dtype
    arr = backend.to_device(value, p.device, dtype)
    return arr.copy() if arr is value else arr


def lerp_(start: Any, end: Any, weight: float, tmp: Any) -> None:
    """``start += weight * (end - start)`` in place, rounded the way PyTorch's ``lerp_`` is.

    PyTorch evaluates ``end - (end - start) * (1 - weight)`` when ``|weight| >= 0.5``, which
    is more accurate there; ``tmp`` is a scratch array shaped like ``start``.
    """
    xp = backend.get_array_module(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        xp.subtract(end, tmp, out=start)
