"""The GRU assignment's autograder: ``python -m assignments.gru.grader --submission PATH``."""

from assignments.gru.grader.checks import GRADER, grade

__all__ = ["GRADER", "grade"]
