"""Batching for slovnet: sorted items in batches bounded by count and padded size."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")


def budget_batches(items: Iterable[T], size: Callable[[T], int], max_items: int = 64,
                   max_total: int = 6000) -> Iterator[list[T]]:
    """Split ``items`` (sorted by size) into batches of at most ``max_items`` and ``max_total`` size.

    slovnet pads every item of a batch to the longest one; a count-only batch of long texts
    allocates hundreds of MB. A budget keeps the padded batch small whatever the input.
    """
    batch, longest = [], 0
    for item in items:
        n = size(item)
        if batch and (len(batch) >= max_items or max(longest, n) * (len(batch) + 1) > max_total):
            yield batch
            batch, longest = [], 0
        batch.append(item)
        longest = max(longest, n)
    if batch:
        yield batch
