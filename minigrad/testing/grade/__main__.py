"""``python -m minigrad.testing.grade``: see :mod:`minigrad.testing.grade`.

(A package's ``__main__``, so that the test processes, which multiprocessing starts with the
parent's main module in mind, do not import and run the command line again.)
"""

import sys

from minigrad.testing.grade import main

sys.exit(main())
