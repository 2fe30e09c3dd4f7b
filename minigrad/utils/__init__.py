"""Small utilities around the engine.

* :mod:`minigrad.utils.viz`: draw the computation graph behind a tensor as Graphviz DOT
  (``viz.to_dot``, ``viz.render``); imports nothing beyond the standard library.
"""

from minigrad.utils import viz

__all__ = ["viz"]
