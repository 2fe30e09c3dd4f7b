"""Parameters: the tensors a Module learns."""

from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that a Module registers as learnable (``requires_grad=True`` by default).

    ``Parameter(mg.zeros(3))`` shares the tensor's memory; assigning it to a Module attribute
    registers it, so it appears in ``parameters()`` and ``state_dict()``.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor([])
        src = data.data if isinstance(data, Tensor) else Tensor(data).data
        self.data = src
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._idx = 0
        self._version = data._version if isinstance(data, Tensor) else [0]
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
