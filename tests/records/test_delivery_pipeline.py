"""An LRS's turn is pipelined: the next batch is claimed and the last outcome recorded while a POST is in
flight. What that must not change: one POST at a time, in stored order; a batch to retry, a pause or a stop
hands the batch claimed ahead back unattempted; a database failure between claiming and recording loses
nothing (the lease runs out and the LRS keeps one of each); two deliverers never send the same statement."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from lti_tool.db import get_engine, utcnow
from lti_tool.demo.ralph import RalphLrs
from lti_tool.records.delivery import StatementDeliverer
from lti_tool.states import DeliveryStatus, LrsStatus
from tests.records.delivery_support import (
    StandInLrs,
    add_lrs,
    deliverer,
    deliveries_of,
    lrs_row,
    ralph_ids,
    record_statements,
    statement,
)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.02)


def claimed_ids(app: Flask, lrs_id: int) -> set[int]:
    return {row.id for row in deliveries_of(app, lrs_id) if row.claimed_by is not None}


def test_the_next_batch_is_claimed_and_the_last_recorded_while_a_post_is_in_flight(
        records_app: Flask, stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, batch_size=5)
    ids = record_statements(records_app, [statement(number=n) for n in range(15)])
    order = [row.id for row in deliveries_of(records_app, lrs_id)]
    batches = [set(order[start:start + 5]) for start in (0, 5, 10)]
    seen: list[tuple[set[int], set[int]]] = []

    def inspect_in_flight(_ids: list[str]) -> None:
        # Held in flight until the deliverer has claimed ahead (or there is nothing ahead to claim).
        number = len(seen)
        if number < 2:
            wait_for(lambda: batches[number + 1] <= claimed_ids(records_app, lrs_id), "the next claimed")
        if number >= 1:
            wait_for(lambda: all(row.status is DeliveryStatus.DELIVERED for row in deliveries_of(records_app)
                                 if row.id in batches[number - 1]), "the batch before recorded")
        rows = deliveries_of(records_app, lrs_id)
        seen.append(({row.id for row in rows if row.claimed_by},
                     {row.id for row in rows if row.status is DeliveryStatus.DELIVERED}))

    stand_in.on_post = inspect_in_flight
    report = deliverer(records_app).run_once()

    assert (report.claimed, report.delivered, report.posts, report.released) == (15, 15, 3, 0)
    assert [claimed for claimed, _delivered in seen] == [batches[0] | batches[1], batches[1] | batches[2],
                                                          batches[2]]
    assert [delivered for _claimed, delivered in seen] == [set(), batches[0], batches[0] | batches[1]]
    assert [one for batch in stand_in.batches for one in batch] == ids  # one at a time, in stored order
    assert all(row.attempts == 1 and row.claimed_by is None for row in deliveries_of(records_app, lrs_id))


def test_a_turn_stops_after_its_batches_and_the_next_pass_goes_on(records_app: Flask,
                                                                   stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, batch_size=4)
    record_statements(records_app, [statement(number=n) for n in range(10)])
    worker = deliverer(records_app)
    first = worker.run_once(batches_per_turn=2)
    assert (first.delivered, first.posts, first.released) == (8, 2, 0)
    assert not claimed_ids(records_app, lrs_id)  # nothing claimed past the turn
    assert worker.run_once(batches_per_turn=2).delivered == 2
    assert {row.status for row in deliveries_of(records_app, lrs_id)} == {DeliveryStatus.DELIVERED}


def test_a_batch_to_retry_ends_the_turn_and_hands_the_batch_ahead_back(records_app: Flask,
                                                                        stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, batch_size=5)
    record_statements(records_app, [statement(number=n) for n in range(12)])
    stand_in.queue.append((503, {}, "down for maintenance"))
    report = deliverer(records_app).run_once()
    assert (report.posts, report.retried, report.released, report.delivered) == (1, 5, 5, 0)
    rows = deliveries_of(records_app, lrs_id)
    assert [row.attempts for row in rows] == [1] * 5 + [0] * 7  # the batch ahead was never attempted
    assert all(row.claimed_by is None for row in rows)
    assert {row.last_error for row in rows[:5]} == {"HTTP 503: down for maintenance"}
    assert all(row.next_attempt_at <= utcnow() for row in rows[5:])  # due again at once


def test_a_pause_hands_back_the_batch_in_flight_and_the_one_ahead(records_app: Flask,
                                                                   stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, batch_size=3)
    record_statements(records_app, [statement(number=n) for n in range(9)])
    stand_in.queue.append((200, {}, "[]"))
    stand_in.queue.append((403, {}, '{"detail": "Forbidden"}'))
    report = deliverer(records_app).run_once()
    assert (report.delivered, report.released, report.posts, report.paused) == (3, 6, 2, ["ralph"])
    assert lrs_row(records_app, lrs_id).status is LrsStatus.PAUSED
    rows = deliveries_of(records_app, lrs_id)
    assert [row.status for row in rows] == [DeliveryStatus.DELIVERED] * 3 + [DeliveryStatus.PENDING] * 6
    assert [row.attempts for row in rows] == [1] * 3 + [0] * 6
    assert all(row.claimed_by is None for row in rows)


def test_stopping_mid_turn_records_the_batch_in_flight_and_hands_back_the_one_ahead(
        records_app: Flask, stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, batch_size=4)
    record_statements(records_app, [statement(number=n) for n in range(12)])
    worker = deliverer(records_app)
    ahead = {row.id for row in deliveries_of(records_app, lrs_id)[4:8]}

    def stop_while_in_flight(_ids: list[str]) -> None:
        wait_for(lambda: ahead <= claimed_ids(records_app, lrs_id), "the batch ahead claimed")
        worker.stop()

    stand_in.on_post = stop_while_in_flight
    report = worker.run_once()
    assert (report.delivered, report.released, report.posts) == (4, 4, 1)
    rows = deliveries_of(records_app, lrs_id)
    assert [row.status for row in rows] == [DeliveryStatus.DELIVERED] * 4 + [DeliveryStatus.PENDING] * 8
    assert [row.attempts for row in rows] == [1] * 4 + [0] * 8 and not claimed_ids(records_app, lrs_id)


def test_a_database_failure_between_claim_and_outcome_loses_nothing_and_duplicates_nothing(
        records_app: Flask, fresh_ralph: RalphLrs) -> None:
    lrs_id = add_lrs(records_app, fresh_ralph.endpoint, batch_size=10)
    ids = record_statements(records_app, [statement(number=n) for n in range(35)])
    engine = get_engine(records_app)
    outcomes = []

    def fail_the_second_outcome(_conn, _cursor, sql: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith("UPDATE STATEMENT_DELIVERIES SET STATUS"):
            outcomes.append(sql)
            if len(outcomes) == 2:
                raise OperationalError(sql, {}, Exception("the database went away"))

    event.listen(engine, "before_cursor_execute", fail_the_second_outcome)
    try:
        with pytest.raises(OperationalError):
            deliverer(records_app).run_once()
    finally:
        event.remove(engine, "before_cursor_execute", fail_the_second_outcome)
    rows = deliveries_of(records_app, lrs_id)
    # The first batch recorded; the second and third sent, their outcomes lost with the failure: left
    # claimed, as a worker that died leaves them; the last never claimed.
    assert [row.status is DeliveryStatus.DELIVERED for row in rows] == [True] * 10 + [False] * 25
    assert claimed_ids(records_app, lrs_id) == {row.id for row in rows[10:30]}
    assert deliverer(records_app).drain().delivered == 5  # the lease holds the claimed rows
    after_lease = deliverer(records_app, clock=lambda: utcnow() + timedelta(hours=1)).drain()
    assert (after_lease.claimed, after_lease.delivered, after_lease.dead) == (20, 20, 0)
    assert {row.status for row in deliveries_of(records_app, lrs_id)} == {DeliveryStatus.DELIVERED}
    assert Counter(ralph_ids(fresh_ralph, set(ids))) == Counter(dict.fromkeys(ids, 1))


def test_two_deliverers_at_once_never_send_the_same_statement(records_app: Flask,
                                                              stand_in: StandInLrs) -> None:
    lrs_id = add_lrs(records_app, stand_in.url, batch_size=10)
    ids = record_statements(records_app, [statement(number=n) for n in range(300)])
    workers = [deliverer(records_app, name=f"worker-{number}") for number in range(2)]
    errors: list[BaseException] = []

    def drain(worker: StatementDeliverer) -> None:
        try:
            worker.drain()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert Counter(one for batch in stand_in.batches for one in batch) == Counter(dict.fromkeys(ids, 1))
    rows = deliveries_of(records_app, lrs_id)
    assert {row.status for row in rows} == {DeliveryStatus.DELIVERED}
    assert {row.attempts for row in rows} == {1} and {row.claimed_by for row in rows} == {None}
