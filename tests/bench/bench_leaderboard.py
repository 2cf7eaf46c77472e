"""The course leaderboard at scale: ``cadre tracking seed``'s course (10,000 learners x 20 activities x 10
criteria), half the learners and every manager chosen to appear, each metric x subject built against the
raw SQL of the same aggregates, in the same run.

* **board**: :func:`lti_tool.tracking.leaderboards.build` as the course's designer (every statement, the
  teams, the ranks and the labels), for each of the nine metric x subject settings.
* **raw SQL**: the aggregate statements that figure needs (the learners' completion and their scores per
  activity from the per-assessment sums, or the managers' participation), compiled once and sent bare on
  a DBAPI connection, rows fetched and dropped.
* **scan**: for scale, the learners' scores per activity grouped straight from the ``criterion_scores``
  rows instead of the per-assessment sums (what the board cost before them); the run checks that both
  give the same figures.

Interleaved, medians; PostgreSQL on 127.0.0.1:5432 (a database of its own, dropped after), and SQLite
when asked. Prints figures; never asserts on time. ``python -m tests.bench.bench_leaderboard --help``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from lti_tool.db import session_scope, utcnow
from lti_tool.models import Activity, Context
from lti_tool.permissions import Actor
from lti_tool.states import Assessors, CadreRole, LeaderboardDisplay, LeaderboardMetric, LeaderboardSubject
from lti_tool.tracking import dashboard, leaderboards, seed
from lti_tool.tracking.leaderboard_models import LeaderboardPresence, LeaderboardSettings
from lti_tool.tracking.models import AssessmentScore, CriterionScore
from tests.bench.bench_dashboard import (
    assessors_of,
    bare_runner,
    bench_app,
    median_ms,
    on_each_backend,
    scale_arguments,
)

DEFAULT_REQUESTS = 5


def chosen_statement(context_id: int) -> Any:
    """The course's learners who chose to appear, as the board asks for them."""
    return select(LeaderboardPresence.user_id).where(
        LeaderboardPresence.context_id == context_id,
        LeaderboardPresence.opted_in.is_(True),
        LeaderboardPresence.user_id.in_(dashboard.expected_learners(context_id, None)),
    )


def aggregates(
    context_id: int, assessors: dict[int, Assessors], metric: LeaderboardMetric, subject: LeaderboardSubject
) -> list[Any]:
    """The aggregate statements the board sends for ``metric`` and ``subject`` (``assessors``: who assesses
    in each activity, by id)."""
    chosen = chosen_statement(context_id)
    activity_ids = sorted(assessors)
    if subject is LeaderboardSubject.MANAGER and metric is LeaderboardMetric.COMPLETION:
        return [dashboard.participation_statement(context_id, assessors, dashboard.Filters(), utcnow())]
    if metric is LeaderboardMetric.COMPLETION:
        return [leaderboards.completion_statement(chosen, activity_ids)]
    per_activity = metric is LeaderboardMetric.IMPROVEMENT
    return [leaderboards.scores_statement(chosen, activity_ids, per_activity=per_activity)]


def scan_statement(context_id: int, activity_ids: list[int]) -> Any:
    """The learners' scores per activity grouped from every criterion_scores row (no per-assessment sums)."""
    score = CriterionScore
    return (
        select(
            score.learner_id,
            score.activity_id,
            func.min(score.submitted_at),
            func.coalesce(func.sum(func.round(score.percent * 100)), 0),
            func.count(score.percent),
        )
        .join(Activity, Activity.id == score.activity_id)
        .where(
            score.activity_id.in_(activity_ids),
            leaderboards._role_completes(Activity.assessors, score.assessor_role),
            score.learner_id.in_(chosen_statement(context_id)),
        )
        .group_by(score.learner_id, score.activity_id)
    )


def figures_of(rows: list[Any]) -> list[tuple[int, int, str, int, int]]:
    """Rows of learner, activity, first submission, hundredths, scored as plain comparable values."""
    return sorted((int(row[0]), int(row[1]), str(row[2])[:19], int(row[3]), int(row[4])) for row in rows)


def timed(measure: Callable[[], Any], samples: list[float]) -> Any:
    begun = time.perf_counter()
    answer = measure()
    samples.append(time.perf_counter() - begun)
    return answer


def run_backend(backend: str, url: str, args: argparse.Namespace) -> None:
    app, engine = bench_app(url)
    started = time.perf_counter()
    plan = seed.generate(learners=args.learners, activities=args.activities, criteria=args.criteria)
    with session_scope(app) as session:
        seeded = seed.write(session, plan)
        chosen = seeded.learner_ids[::2] + seeded.manager_ids
        session.add_all(
            LeaderboardPresence(context_id=seeded.context_id, user_id=user_id, opted_in=True, number=number)
            for number, user_id in enumerate(chosen, start=1)
        )
    seeding = time.perf_counter() - started
    with session_scope(app) as session:
        scores = session.scalar(select(func.count()).select_from(CriterionScore)) or 0
        sums = session.scalar(select(func.count()).select_from(AssessmentScore)) or 0
    print(
        f"cadre-{backend} seeded {args.learners} learners x {args.activities} activities x {args.criteria} "
        f"criteria: {len(plan.assessments)} assessments, {scores} criterion scores, {sums} assessment sums, "
        f"{len(chosen)} people on the board, in {seeding:.1f} s",
        flush=True,
    )
    actor = Actor(seeded.designer_id, "Designer", seeded.platform_id, seeded.context_id, CadreRole.DESIGNER)
    for subject in LeaderboardSubject:
        for metric in LeaderboardMetric:
            board_settings = LeaderboardSettings(
                context_id=seeded.context_id,
                enabled=True,
                metric=metric,
                subject=subject,
                display=LeaderboardDisplay.PSEUDONYMS,
                show_values=True,
            )
            raw = bare_runner(engine, aggregates(seeded.context_id, assessors_of(engine, seeded.activity_ids),
                                                 metric, subject))
            board_times: list[float] = []
            raw_times: list[float] = []
            ranked = 0
            with session_scope(app) as session:
                context = session.get(Context, seeded.context_id)
                assert context is not None
                for number in range(args.warmup + args.requests):
                    begun = time.perf_counter()
                    ranked = leaderboards.build(session, actor, context, board_settings).ranked
                    middle = time.perf_counter()
                    raw()
                    if number >= args.warmup:
                        board_times.append(middle - begun)
                        raw_times.append(time.perf_counter() - middle)
            board_ms, raw_ms = median_ms(board_times), median_ms(raw_times)
            ratio = board_ms / raw_ms if raw_ms else float("inf")
            print(
                f"cadre-{backend} leaderboard {metric.value:>13} x {subject.value:<8}: {ratio:5.2f}x  "
                f"board {board_ms:8.2f} ms ({ranked} ranked), raw SQL {raw_ms:8.2f} ms",
                flush=True,
            )
    scan_times: list[float] = []
    sum_times: list[float] = []
    with engine.connect() as connection:
        for _ in range(max(1, args.requests)):
            scanned = timed(
                lambda: connection.execute(scan_statement(seeded.context_id, seeded.activity_ids)).all(),
                scan_times,
            )
            summed = timed(
                lambda: connection.execute(
                    leaderboards.scores_statement(chosen_statement(seeded.context_id), seeded.activity_ids)
                ).all(),
                sum_times,
            )
    same = figures_of(scanned) == figures_of(summed)
    scan_ms, sum_ms = median_ms(scan_times), median_ms(sum_times)
    print(
        f"cadre-{backend} learners' scores per activity from the {scores} criterion scores: "
        f"{scan_ms:8.2f} ms, "
        f"from the {sums} assessment sums: {sum_ms:8.2f} ms ({scan_ms / sum_ms if sum_ms else 0:5.2f}x "
        f"faster); same figures: {'yes' if same else 'NO'}",
        flush=True,
    )
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    on_each_backend(scale_arguments(__doc__, DEFAULT_REQUESTS, 1).parse_args(argv), run_backend)


if __name__ == "__main__":
    main(sys.argv[1:])
