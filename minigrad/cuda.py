"""``mg.cuda``: is a GPU usable, how many, and waiting for one to finish."""

from minigrad.backend import cuda_device_count as device_count
from minigrad.backend import cuda_is_available as is_available
from minigrad.backend import cuda_synchronize as synchronize

__all__ = ["device_count", "is_available", "synchronize"]
