"""Cost of a computation: the peak tensor memory it allocates, measured without side effects on the process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["peak_memory"]


def peak_memory(fn: Callable[..., Any], *args: Any, device: torch.device | str | None = None,
                **kwargs: Any) -> tuple[Any, float]:
    """Run ``fn(*args, **kwargs)`` and return its result and the peak memory of the tensors it allocated, in MiB.

    The peak is that of the live tensor bytes allocated during the call on ``device`` (the CPU by
    default) above what was live before it: on CUDA from the caching allocator's statistics
    (``torch.cuda.max_memory_allocated``, reset for the device first); on the CPU from the allocation and
    free events of :mod:`torch.profiler` (``profile_memory=True``), summed in time order. Nothing
    process-wide is changed (no allocator trimming, no kernel interfaces), so it is safe to call
    inside a user's session; the profiler adds some time to the call, so time it separately.

    Shapes:
        -

    Example:
        >>> _, mib = peak_memory(lambda: torch.ones(1024, 1024).sum())
        >>> 3.9 < mib < 4.1
        True
    """
    dev = torch.device("cpu" if device is None else device)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        out = fn(*args, **kwargs)
        torch.cuda.synchronize(dev)
        return out, (torch.cuda.max_memory_allocated(dev) - base) / 2**20
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = fn(*args, **kwargs)
    events = [e for e in prof.profiler.kineto_results.events()
              if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU]
    events.sort(key=lambda e: e.start_ns())
    live = peak = 0
    for e in events:
        live += e.nbytes()
        peak = max(peak, live)
    return out, peak / 2**20
