"""Modules: containers of parameters, buffers and sub-modules, with PyTorch's API.

Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it, in
insertion order, so ``parameters()`` and ``state_dict()`` always list things in the order the
model was built (never in hash order), and a checkpoint's keys are the attribute paths::

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)   # registered as "fc1": keys fc1.weight, fc1.bias
            self.fc2 = nn.Linear(8, 2)

        def forward(self, x):
            return self.fc2(self.fc1(x).tanh())
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, Mapping, NamedTuple

from minigrad import backend, dtypes
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor, bump_version


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` returns."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model: subclass it, set attributes, write ``forward``."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ expects these dicts to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses define it, and ``module(x)`` calls it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define "
                                  "forward(self, ...) in the subclass")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(f"cannot assign {type(value).__name__} '{name}' before "
                                 "Module.__init__() was called: call super().__init__() first")
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(mg.nn.Parameter or None expected); wrap it, e.g. "
                                f"self.{name} = nn.Parameter(t), or change the parameter in "
                                f"place under mg.no_grad()")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            d["_modules"][name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                f"'{name}' (mg.nn.Module or None expected)")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                "(Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: registered things live in the three dicts
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            group = d.get(key)
            if group is not None and name in group:
                return group[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            group = self.__dict__.get(key)
            if group is not None and name in group:
                del group[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        """Drop ``name`` wherever it is, so that re-assigning it under another kind is clean."""
        self.__dict__.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            self.__dict__[key].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (None reserves the name, e.g. an absent bias)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot register a parameter before Module.__init__() call")
        _check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register {type(param).__name__} as parameter '{name}' "
                            "(mg.nn.Parameter or None expected)")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not learned (running statistics, masks): it moves with
        ``to()`` and, if ``persistent``, is saved in ``state_dict()``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot register a buffer before Module.__init__() call")
        _check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot register {type(tensor).__name__} as buffer '{name}' "
                            "(Tensor or None expected)")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (as ``setattr(self, name, module)`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ("") and every sub-module, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Iterate over this module and every module below it, each once, in registration order."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Iterate over ``(name, child)`` for the direct children, each once."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """Iterate over the direct children, each once."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, key: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        seen = set()
        for mod_prefix, m in mods:
            for name, v in m.__dict__[key].items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), in registration order; a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters (and sub-modules' unless ``recurse=False``), each once, in order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` pairs: non-parameter state, e.g. running statistics."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Iterate over the buffers (of sub-modules too unless ``recurse=False``)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path ``target`` (``"encoder.rnn"``; ``""``: the module)."""
        m: Module = self
        for part in target.split(".") if target else []:
            child = m._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(m).__name__} has no submodule '{part}' "
                                     f"(looking up '{target}')")
            m = child
        return m

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of learnable scalars (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------------ state
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer under its dotted name, as PyTorch orders them:
        a module's parameters, then its buffers, then each child's entries.

        Values are detached tensors sharing memory with the model (``keep_vars=True`` gives the
        parameters themselves); copy them (``mg.save`` does) to keep a snapshot.
        """
        out: OrderedDict[str, Tensor] = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy ``state_dict``'s values into this module's parameters and buffers, in place.

        Values may be Tensors or NumPy arrays (e.g. ``{k: v.numpy() for k, v in
        torch_model.state_dict().items()}``); each is converted to its parameter's dtype and
        device, and parameters keep their identity (an optimizer holding them still works).
        Every problem is reported at once: missing keys and unexpected keys (only when
        ``strict``) and shape mismatches (always). With ``strict=False`` returns
        ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a dict-like state_dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            shape = tuple(getattr(value, "shape", ()))
            if not hasattr(value, "shape"):
                try:
                    value = Tensor(value)
                    shape = value.shape
                except (TypeError, ValueError):
                    errors.append(f"value for {key} is a {type(value).__name__}, expected a "
                                  "Tensor or an array")
                    continue
            if shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {shape} "
                              f"from checkpoint, the shape in current model is {target.shape}.")
                continue
            values[key] = value
        if strict:
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                errors.insert(1 if missing else 0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        with no_grad():
            for key, value in values.items():
                target = own[key]
                src = value.data if isinstance(value, Tensor) else value
                # one explicit conversion to the parameter's device and dtype (NumPy arrays,
                # lists or a CPU torch tensor via __array__), then a copy
                arr = backend.to_device(src, target.device, target.dtype)
                target.data[...] = arr
                bump_version(target)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) or, with ``mode=False``, evaluation mode."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (``train(False)``: dropout off); returns the module."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (False freezes them); returns the module."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients (set them to None, or to zeros in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move parameters, their gradients and buffers to a device and/or floating dtype,
        in place: each parameter stays the same object (optimizers keep working)."""
        device, dtype = _parse_to(args, kwargs)
        for t in list(self.parameters()) + list(self.buffers()):
            t.data = _convert(t.data, device, dtype)
            if t.grad is not None:
                t.grad.data = _convert(t.grad.data, device, dtype)
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to the CPU (in place); returns the module."""
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Module:
        """Move parameters and buffers to a CUDA device (default ``"cuda"``); returns the module."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32; returns the module."""
        return self.to(dtypes.float32)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64; returns the module."""
        return self.to(dtypes.float64)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The text inside this module's parentheses; override to show its settings."""
        return ""

    def _repr_body(self) -> str:
        lines = [line for line in self.extra_repr().split("\n") if line]
        for name, m in self._modules.items():
            child = "None" if m is None else m._repr_body()
            lines.append(f"({name}): " + child.replace("\n", "\n  "))
        main = type(self).__name__ + "("
        if len(lines) == 1 and not self._modules:
            return main + lines[0] + ")"
        if lines:
            main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __repr__(self) -> str:
        body = self._repr_body()
        total = self.num_parameters()
        if not total:
            return body
        trainable = self.num_parameters(trainable_only=True)
        count = f"# {total:,} parameters"
        if trainable != total:
            count += f" ({trainable:,} trainable)"
        return f"{body}\n{count}"

    def __dir__(self) -> list[str]:
        keys = set(super().__dir__())
        for key in ("_parameters", "_buffers", "_modules"):
            keys.update(self.__dict__.get(key, {}))
        return sorted(keys)


def _check_name(name: str, kind: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{kind} name can't be empty or contain '.', got {name!r}")


def _parse_to(args: tuple, kwargs: dict) -> tuple:
    dev, dt = dtypes.parse_to(args, kwargs)  # the same forms as Tensor.to
    if dt is not None and dt.kind != "f":
        raise TypeError(f"Module.to only accepts floating point dtypes, got {dt}")
    return dev, dt


def _convert(arr: Any, device: Any, dtype: Any) -> Any:
    if device is not None and backend.device_of(arr) != device:
        arr = backend.to_device(arr, device)
    if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)  # only floating tensors change dtype, as in PyTorch
    return arr
