"""Interleaved rounds: order rotation, and which rounds were clean."""

from .common import EXTRA_ROUNDS, NOISY


def rotate(items, r):
    r %= len(items)
    return items[r:] + items[:r]


def count_clean(groups):
    n = min(len(g) for g in groups)
    return sum(1 for i in range(n)
               if all(g[i]["foreign"] <= NOISY for g in groups))


def more_rounds(r, minimum, groups, target):
    """Run the minimum, then more (at most EXTRA_ROUNDS) while fewer than
    target rounds were clean."""
    return r < minimum or (count_clean(groups) < target
                           and r < minimum + EXTRA_ROUNDS)


def clean_rounds(groups):
    """Indexes of the rounds whose runs all saw little other load, or of
    every round when fewer than 3 are clean.  groups: lists of runs, one
    list per variant, aligned by round."""
    n = min(len(g) for g in groups)
    clean = [i for i in range(n)
             if all(g[i]["foreign"] <= NOISY for g in groups)]
    return clean if len(clean) >= 3 else list(range(n))
