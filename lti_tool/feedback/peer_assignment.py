"""Who reviews whom in a peer assessment: pure functions of people's ids, a number and a seed.

* :func:`assign` draws a whole group at once: the members in a seeded random order, each reviewing the
  ``k`` who follow them round the circle. Everyone gives ``k`` reviews and receives ``k`` (``n - 1`` when
  the group has ``k`` members or fewer), never of themself, never twice the same pair.
* :func:`place_newcomer` adds one person to a group already drawn without touching a review that was
  started: ``k`` reviews ``a → b`` not started yet, with ``k`` different reviewers and ``k`` different
  reviewees, become ``a → newcomer`` and ``newcomer → b``. Every ``a`` still gives ``k``, every ``b`` still
  receives ``k``, and the newcomer gives ``k`` and receives ``k``. In a group still smaller than ``k + 1``
  the newcomer and everyone review each other instead. When started reviews leave too few to move, the
  newcomer's missing reviews are added on top (the only case where someone gives or receives more than
  ``k``), and :attr:`Placement.short` says how many.

The same people, ``k`` and seed give the same pairs, so a run can be tested and repeated.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

Pair = tuple[int, int]
"""``(reviewer, reviewee)``."""

MAX_SEARCH_STEPS = 20_000
"""How many partial choices :func:`place_newcomer` tries before it settles for fewer moved reviews."""


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(part) for part in (seed, *parts)))


def assign(groups: Mapping[str, Sequence[int]], k: int, seed: int) -> set[Pair]:
    """Every group drawn on its own; ``k`` reviews given and received per person (fewer in a small
    group)."""
    if k < 1:
        raise ValueError(f"each person gives at least one review, not {k}")
    pairs: set[Pair] = set()
    for name in sorted(groups):
        members = sorted(set(groups[name]))
        _rng(seed, "group", name).shuffle(members)
        size = len(members)
        for offset in range(1, min(k, size - 1) + 1):
            pairs.update((members[i], members[(i + offset) % size]) for i in range(size))
    return pairs


@dataclass(frozen=True)
class Placement:
    added: set[Pair] = field(default_factory=set)
    removed: set[Pair] = field(default_factory=set)
    short: int = 0
    """Reviews the newcomer gives (and receives) on top of the balance, because too many were started."""


def _distinct_choice(candidates: Sequence[Pair], wanted: int) -> list[Pair]:
    """Up to ``wanted`` pairs with no reviewer twice and no reviewee twice: a depth-first search, so that
    a choice exists is found, not only one a greedy pass happens to reach."""
    best: list[Pair] = []
    steps = 0

    def search(start: int, chosen: list[Pair], reviewers: set[int], reviewees: set[int]) -> bool:
        nonlocal best, steps
        if len(chosen) > len(best):
            best = list(chosen)
        if len(chosen) == wanted:
            return True
        for index in range(start, len(candidates)):
            steps += 1
            if steps > MAX_SEARCH_STEPS:
                return True
            reviewer, reviewee = candidates[index]
            if reviewer in reviewers or reviewee in reviewees:
                continue
            chosen.append((reviewer, reviewee))
            reviewers.add(reviewer)
            reviewees.add(reviewee)
            if search(index + 1, chosen, reviewers, reviewees):
                return True
            chosen.pop()
            reviewers.discard(reviewer)
            reviewees.discard(reviewee)
        return False

    search(0, [], set(), set())
    return best


def place_newcomer(
    pairs: Collection[Pair],
    members: Iterable[int],
    newcomer: int,
    k: int,
    seed: int,
    *,
    started: Collection[Pair] = (),
) -> Placement:
    """How to give ``newcomer`` its reviews in the group of ``members`` (already drawn: ``pairs``, of which
    ``started`` may not move)."""
    if k < 1:
        raise ValueError(f"each person gives at least one review, not {k}")
    others = sorted(set(members) - {newcomer})
    if not others:
        return Placement()
    inside = set(others)
    group_pairs = {pair for pair in pairs if pair[0] in inside and pair[1] in inside}
    if len(others) <= k:  # still a small group: everyone reviews everyone
        return Placement(
            added={(other, newcomer) for other in others} | {(newcomer, other) for other in others}
        )
    locked = set(started)
    candidates = sorted(pair for pair in group_pairs if pair not in locked)
    _rng(seed, "newcomer", newcomer).shuffle(candidates)
    moved = _distinct_choice(candidates, k)
    added = {(reviewer, newcomer) for reviewer, _ in moved} | {(newcomer, reviewee) for _, reviewee in moved}
    short = k - len(moved)
    if short:
        spare = _rng(seed, "extra", newcomer)
        givers = [other for other in others if (other, newcomer) not in added]
        takers = [other for other in others if (newcomer, other) not in added]
        added |= {(giver, newcomer) for giver in spare.sample(givers, min(short, len(givers)))}
        added |= {(newcomer, taker) for taker in spare.sample(takers, min(short, len(takers)))}
    return Placement(added=added, removed=set(moved), short=short)


def given_and_received(pairs: Iterable[Pair]) -> tuple[dict[int, int], dict[int, int]]:
    """How many reviews each person gives, and receives."""
    given: dict[int, int] = {}
    received: dict[int, int] = {}
    for reviewer, reviewee in pairs:
        given[reviewer] = given.get(reviewer, 0) + 1
        received[reviewee] = received.get(reviewee, 0) + 1
    return given, received
