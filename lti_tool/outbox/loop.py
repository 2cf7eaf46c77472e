"""The loop of Cadre's two delivery workers (the outbox's, :class:`lti_tool.outbox.worker.Worker`, and the
learning records', :class:`lti_tool.records.delivery.StatementDeliverer`): pass after pass while work is
due, then a wait that a commit in this process ends (it enqueued something) or ``idle_seconds`` do (another
process's commit, a retry's time); :meth:`DeliveryLoop.stop` is heard between items and while waiting."""

from __future__ import annotations

import logging
import threading
from typing import ClassVar, Generic, Protocol, Self, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from lti_tool.outbox.messages import listen_for_commits, stop_listening

log = logging.getLogger(__name__)


class Report(Protocol):
    claimed: int

    def add(self, other: Self) -> None: ...


ReportT = TypeVar("ReportT", bound=Report)


class DeliveryLoop(Generic[ReportT]):
    """What a worker adds: :meth:`run_once` (one pass; its report says how many items it claimed),
    :meth:`new_report` (an empty one), and :meth:`prepare` (before passes begin) if it needs one."""

    loop_name: ClassVar[str]
    """How the log names the worker (``the outbox worker``)."""

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._woken = threading.Event()

    def run_once(self) -> ReportT:
        raise NotImplementedError

    def new_report(self) -> ReportT:
        raise NotImplementedError

    def prepare(self) -> None:
        """Before the first pass of :meth:`drain` or :meth:`run`; nothing unless the worker says."""

    def drain(self) -> ReportT:
        """Passes until nothing is due, or the worker is asked to stop (``cadre worker --once``, tests)."""
        self.prepare()
        total = self.new_report()
        while not self._stopping.is_set():
            report = self.run_once()
            total.add(report)
            if report.claimed == 0:
                break
        return total

    def run(self, idle_seconds: float = 5.0) -> ReportT:
        """Deliver until :meth:`stop`. A database that cannot be reached (at start too) is logged and tried
        again after ``idle_seconds``; nothing claimed is lost meanwhile (its lease runs out, it is claimed
        again)."""
        total = self.new_report()
        prepared = False
        listen_for_commits(self)
        try:
            while not self._stopping.is_set():
                self._woken.clear()
                try:
                    if not prepared:  # a worker started before its database is up waits for it
                        self.prepare()
                        prepared = True
                    report = self.run_once()
                except SQLAlchemyError:
                    log.exception("%s cannot reach the database; trying again shortly", self.loop_name)
                    report = self.new_report()
                total.add(report)
                if report.claimed == 0:
                    self._woken.wait(idle_seconds)
        finally:
            stop_listening(self)
        return total

    def wake(self) -> None:
        self._woken.set()

    def stop(self) -> None:
        """Finish the item in hand, hand the rest of the pass back, and leave the loop."""
        self._stopping.set()
        self._woken.set()
