"""The peer assignment is balanced, never self, deterministic, and takes newcomers without moving a review
that was started (hypothesis over group sizes, k, seeds and started reviews)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_tool.feedback.peer_assignment import Pair, assign, given_and_received, place_newcomer

sizes = st.integers(min_value=0, max_value=40)
ks = st.integers(min_value=1, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32)


def _balanced(pairs: set[Pair], members: list[int], k: int) -> None:
    expected = min(k, len(members) - 1) if members else 0
    given_count, received = given_and_received(pairs)
    assert all(reviewer != reviewee for reviewer, reviewee in pairs)
    for member in members:
        assert given_count.get(member, 0) == expected
        assert received.get(member, 0) == expected
    assert set(given_count) | set(received) <= set(members)


@settings(max_examples=150, deadline=None)
@given(size=sizes, k=ks, seed=seeds)
def test_each_gives_k_and_receives_k_never_themself(size: int, k: int, seed: int) -> None:
    members = list(range(100, 100 + size))
    pairs = assign({"course": members}, k, seed)
    _balanced(pairs, members, k)
    assert assign({"course": list(reversed(members))}, k, seed) == pairs  # the order given does not matter


@settings(max_examples=80, deadline=None)
@given(first=st.integers(0, 15), second=st.integers(0, 15), k=ks, seed=seeds)
def test_groups_are_drawn_apart(first: int, second: int, k: int, seed: int) -> None:
    team_a, team_b = list(range(1, first + 1)), list(range(100, 100 + second))
    pairs = assign({"a": team_a, "b": team_b}, k, seed)
    assert all((reviewer in team_a) == (reviewee in team_a) for reviewer, reviewee in pairs)
    _balanced({pair for pair in pairs if pair[0] in team_a}, team_a, k)
    _balanced({pair for pair in pairs if pair[0] in team_b}, team_b, k)


def test_the_same_seed_gives_the_same_pairs_and_another_seed_others() -> None:
    members = list(range(30))
    assert assign({"course": members}, 3, 7) == assign({"course": members}, 3, 7)
    assert assign({"course": members}, 3, 7) != assign({"course": members}, 3, 8)


@settings(max_examples=150, deadline=None)
@given(size=st.integers(0, 30), newcomers=st.integers(1, 5), k=ks, seed=seeds)
def test_newcomers_one_by_one_keep_everyone_balanced(size: int, newcomers: int, k: int, seed: int) -> None:
    members = list(range(size))
    pairs = assign({"course": members}, k, seed)
    for newcomer in range(1000, 1000 + newcomers):
        placement = place_newcomer(pairs, members, newcomer, k, seed)
        assert placement.short == 0
        assert placement.removed <= pairs
        pairs = (pairs - placement.removed) | placement.added
        members.append(newcomer)
        _balanced(pairs, members, k)


@settings(max_examples=150, deadline=None)
@given(size=st.integers(2, 30), k=ks, seed=seeds, data=st.data())
def test_started_reviews_never_move(size: int, k: int, seed: int, data: st.DataObject) -> None:
    members = list(range(size))
    pairs = assign({"course": members}, k, seed)
    started = data.draw(st.sets(st.sampled_from(sorted(pairs))) if pairs else st.just(set()))
    placement = place_newcomer(pairs, members, 999, k, seed, started=started)
    after = (pairs - placement.removed) | placement.added
    assert started <= after
    assert not placement.removed & started
    given_count, received = given_and_received(after)
    expected = min(k, size)
    assert given_count[999] == received[999] == expected  # the newcomer always gets its k
    assert all(reviewer != reviewee for reviewer, reviewee in after)
    # Only a shortfall of movable reviews puts anyone above k, and only by one.
    assert max(given_count.values()) <= expected + (1 if placement.short else 0)
    if not placement.short:
        for member in members:
            assert given_count.get(member, 0) == received.get(member, 0) == min(k, size)


def test_when_every_review_is_started_the_newcomer_is_added_on_top() -> None:
    members = list(range(6))
    pairs = assign({"course": members}, 2, 1)
    placement = place_newcomer(pairs, members, 50, 2, 1, started=pairs)
    assert placement.removed == set()
    assert placement.short == 2
    given_count, received = given_and_received(placement.added)
    assert given_count[50] == received[50] == 2


def test_a_newcomer_alone_reviews_nobody() -> None:
    assert place_newcomer(set(), [7], 7, 3, 0).added == set()


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one review"):
        assign({"course": [1, 2]}, 0, 1)
    with pytest.raises(ValueError, match="at least one review"):
        place_newcomer(set(), [1, 2], 3, 0, 1)
