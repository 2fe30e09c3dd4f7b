"""The GRU assignment's autograder: ``checks.py`` for ``python -m minigrad.testing.grade``."""
