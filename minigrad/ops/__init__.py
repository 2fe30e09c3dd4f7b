"""Primitive differentiable ops: each a class with ``forward`` and ``backward`` side by side."""
