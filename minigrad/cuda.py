"""``mg.cuda``: is a GPU usable, and how many."""

from minigrad.backend import cuda_device_count as device_count
from minigrad.backend import cuda_is_available as is_available

__all__ = ["device_count", "is_available"]
