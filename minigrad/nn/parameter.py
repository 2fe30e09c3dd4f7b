"""Parameters: the tensors a Module learns."""

from __future__ import annotations

from typing import Any

from minigrad.autograd.graph import init_fields
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
        init_fields(self, data.data if isinstance(data, Tensor) else Tensor(data).data)
        if isinstance(data, Tensor):
            self._version = data._version  # shares memory with data, so shares its counter
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
