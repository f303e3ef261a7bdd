"""``std::partial_sort`` and ``std::sort`` as GNU libstdc++ implements them.

MatchIt keeps a treated unit's ``k`` nearest candidate controls with C++
``std::partial_sort`` (and orders up to ``k`` candidates with ``std::sort``). Neither is
stable: among elements that compare equal, the order they come out in is fixed by the
library's algorithm. In GNU libstdc++ (the C++ library R uses on Linux),
``partial_sort`` is a heap selection (build a max-heap of the first ``k`` elements, let
each later element that is strictly smaller replace the top, then sort the heap by
popping), and ``sort`` is an introsort that ends with an insertion sort. This module
reproduces both step by step on a list of indices compared by a key, so that the
matching can pick the same one of several equally distant controls as MatchIt.

The functions follow libstdc++'s ``bits/stl_heap.h`` and ``bits/stl_algo.h`` (GCC 12);
``tests/test_matchit_cxx.py`` compiles a small C++ program with g++ and checks the
output against the real ``std::partial_sort`` and ``std::sort`` on tie-heavy input.
Another C++ library (LLVM libc++, used by R on macOS) has its own algorithms and may
order equal elements differently.

All functions work in place on ``a`` (a list of indices) between positions ``first``
and ``last``; ``a[i]`` is compared to ``a[j]`` by ``key[a[i]] < key[a[j]]``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["partial_sort", "sort"]

_S_THRESHOLD = 16  # libstdc++'s _S_threshold: insertion sort below this size


def _push_heap(a: list[int], key: Sequence[float], first: int, hole: int, top: int, value: int) -> None:
    kv = key[value]
    while hole > top:
        parent = (hole - 1) // 2
        if not key[a[first + parent]] < kv:
            break
        a[first + hole] = a[first + parent]
        hole = parent
    a[first + hole] = value


def _adjust_heap(a: list[int], key: Sequence[float], first: int, hole: int, length: int, value: int) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if key[a[first + child]] < key[a[first + child - 1]]:
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    _push_heap(a, key, first, hole, top, value)


def _pop_heap(a: list[int], key: Sequence[float], first: int, last: int, result: int) -> None:
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, key, first, 0, last - first, value)


def _make_heap(a: list[int], key: Sequence[float], first: int, last: int) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, key, first, parent, length, a[first + parent])
        if parent == 0:
            return
        parent -= 1


def _heap_select(a: list[int], key: Sequence[float], first: int, middle: int, last: int) -> None:
    _make_heap(a, key, first, middle)
    for i in range(middle, last):
        if key[a[i]] < key[a[first]]:
            _pop_heap(a, key, first, middle, i)


def _sort_heap(a: list[int], key: Sequence[float], first: int, last: int) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(a, key, first, last, last)


def partial_sort(a: list[int], key: Sequence[float], middle: int, first: int = 0, last: int | None = None) -> None:
    """``std::partial_sort(first, first + middle, last)``: the smallest ``middle`` in order."""
    if last is None:
        last = len(a)
    _heap_select(a, key, first, first + middle, last)
    _sort_heap(a, key, first, first + middle)


def _unguarded_linear_insert(a: list[int], key: Sequence[float], last: int) -> None:
    val = a[last]
    kv = key[val]
    nxt = last - 1
    while kv < key[a[nxt]]:
        a[last] = a[nxt]
        last = nxt
        nxt -= 1
    a[last] = val


def _insertion_sort(a: list[int], key: Sequence[float], first: int, last: int) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if key[a[i]] < key[a[first]]:
            val = a[i]
            a[first + 1 : i + 1] = a[first:i]
            a[first] = val
        else:
            _unguarded_linear_insert(a, key, i)


def _final_insertion_sort(a: list[int], key: Sequence[float], first: int, last: int) -> None:
    if last - first > _S_THRESHOLD:
        _insertion_sort(a, key, first, first + _S_THRESHOLD)
        for i in range(first + _S_THRESHOLD, last):
            _unguarded_linear_insert(a, key, i)
    else:
        _insertion_sort(a, key, first, last)


def _move_median_to_first(a: list[int], key: Sequence[float], result: int, x: int, y: int, z: int) -> None:
    kx, ky, kz = key[a[x]], key[a[y]], key[a[z]]
    if kx < ky:
        if ky < kz:
            m = y
        elif kx < kz:
            m = z
        else:
            m = x
    elif kx < kz:
        m = x
    elif ky < kz:
        m = z
    else:
        m = y
    a[result], a[m] = a[m], a[result]


def _unguarded_partition(a: list[int], key: Sequence[float], first: int, last: int, pivot: int) -> int:
    kp = key[a[pivot]]
    while True:
        while key[a[first]] < kp:
            first += 1
        last -= 1
        while kp < key[a[last]]:
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _introsort_loop(a: list[int], key: Sequence[float], first: int, last: int, depth: int) -> None:
    while last - first > _S_THRESHOLD:
        if depth == 0:
            _heap_select(a, key, first, last, last)
            _sort_heap(a, key, first, last)
            return
        depth -= 1
        mid = first + (last - first) // 2
        _move_median_to_first(a, key, first, first + 1, mid, last - 1)
        cut = _unguarded_partition(a, key, first + 1, last, first)
        _introsort_loop(a, key, cut, last, depth)
        last = cut


def sort(a: list[int], key: Sequence[float], first: int = 0, last: int | None = None) -> None:
    """``std::sort(first, last)`` (introsort, then a final insertion sort)."""
    if last is None:
        last = len(a)
    if first == last:
        return
    _introsort_loop(a, key, first, last, 2 * ((last - first).bit_length() - 1))
    _final_insertion_sort(a, key, first, last)
