"""The recurrence compiler: derive a fast sequence op from a cell written with ordinary ops.

:func:`scan` traces one step of a cell (:mod:`minigrad.jit.trace`) and runs the whole sequence
as one autograd node that replays the recorded ops' own forward and backward rules
(:mod:`minigrad.jit.scan`), through one generated Python function per step forward and one
backward (:mod:`minigrad.jit.codegen`; :func:`show` prints them). The layers of
:mod:`minigrad.nn.rnn` use it for ``fused=True``; the cells never import it.
docs/concepts/compiled-recurrence.md walks through it.
"""

from minigrad.jit.codegen import show
from minigrad.jit.scan import Scan, TraceCache, save, scan
from minigrad.jit.trace import Node, Program, TraceError, trace

__all__ = ["Node", "Program", "Scan", "TraceCache", "TraceError", "save", "scan", "show", "trace"]
