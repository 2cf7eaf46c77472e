"""Manager insight survey benchmark: ranking a survey of 5,000 answers into gaps, against a raw SQL
group-by of the same rows in the same run.

The survey is built in a fresh database (SQLite file, and PostgreSQL when 127.0.0.1:5432 answers): 1,000
managers' responses of five mistakes each, 300 distinct answer texts of which 60 are merged into 12
named gaps, two of them linked to competencies, cost estimates in two currencies.

* **ranked gaps**: :func:`lti_tool.programme.survey.ranked_gaps` (the settings, the aggregate with its
  left join to the gaps' keys, the gaps with their keys and links), ranked by frequency × impact;
* **raw group-by**: the same ranking as one hand-written SQL ``SELECT … LEFT JOIN survey_gap_keys …
  GROUP BY gap, key ORDER BY …`` over the same current answers, through the same connection, no ORM
  and no Python after the rows (the target's baseline); and, for scale, the barest per-key group-by.

Interleaved, medians. Target: ranked gaps at most 1.5 × the raw group-by. Prints figures; never asserts
on time. ``python -m tests.bench.bench_survey --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.migrate import upgrade
from lti_tool.models import Activity, Context, Platform, User
from lti_tool.programme import survey
from lti_tool.programme.models import SurveyAnswer, SurveyGap, SurveyGapKey, SurveyGapLink, SurveyResponse
from lti_tool.settings import Settings
from lti_tool.states import ActivityKind, MistakeFrequency, SurveyResponseStatus
from tests.bench.bench_launch import postgres_database

ANSWERS = 5_000
PER_RESPONSE = 5
DISTINCT_TEXTS = 300
GAPS = 12
KEYS_PER_GAP = 5
ROUNDS = 30
TARGET_RATIO = 1.5
CURRENCY = "EUR"
SECRET_KEY = "bench-survey-secret-key-not-for-production-use-0123456789"

RAW_GROUP_BY = text("""
    SELECT k.gap_id, CASE WHEN k.gap_id IS NULL THEN a.answer_key END AS key, min(a.text) AS text,
           count(*) AS answers, count(DISTINCT a.response_id) AS managers, avg(a.per_week) AS per_week,
           avg(a.impact) AS impact, sum(a.per_week * a.impact) AS score,
           sum(CASE WHEN a.currency = :currency THEN a.per_week * a.cost END) AS cost
    FROM survey_answers a
    LEFT JOIN survey_gap_keys k ON k.activity_id = :activity_id AND k.answer_key = a.answer_key
    WHERE a.activity_id = :activity_id AND a.current
    GROUP BY k.gap_id, CASE WHEN k.gap_id IS NULL THEN a.answer_key END
    ORDER BY score DESC, answers DESC, text
""")
"""The same ranking written by hand: the baseline the target is measured against."""
PER_KEY_GROUP_BY = text("""
    SELECT answer_key, count(*) AS answers, sum(per_week * impact) AS score
    FROM survey_answers WHERE activity_id = :activity_id AND current
    GROUP BY answer_key ORDER BY score DESC
""")
"""The barest group-by over the same rows (no gaps, no figures beyond the score), shown for scale."""


def build_survey(session: Session, answers: int) -> int:
    """A configured survey with ``answers`` current answers; its activity id."""
    now = datetime.now(UTC)
    platform = Platform(name="Bench", issuer="https://bench.example", client_id="bench",
                        auth_login_url="https://bench.example/auth", auth_token_url="https://bench.example/t",
                        key_set_url="https://bench.example/jwks")
    session.add(platform)
    session.flush()
    context = Context(platform_id=platform.id, context_id="bench-course", title="Bench course")
    session.add(context)
    session.flush()
    activity = Activity(public_id=secrets.token_hex(16), platform_id=platform.id, context_id=context.id,
                        kind=ActivityKind.MANAGER_INSIGHT_SURVEY, title="Where it goes wrong",
                        configured_at=now, created_at=now, updated_at=now)
    session.add(activity)
    session.flush()
    session.add(survey.SurveySettings(activity_id=activity.id, anonymous=False, min_answers=5,
                                      currency="EUR"))
    responses = max(1, answers // PER_RESPONSE)
    session.execute(insert(User), [
        {"platform_id": platform.id, "sub": f"manager-{number}", "name": f"Manager {number}",
         "is_admin": False, "created_at": now, "last_seen_at": now} for number in range(responses)])
    user_ids = session.scalars(select(User.id).where(User.platform_id == platform.id).order_by(User.id)).all()
    session.execute(insert(SurveyResponse), [
        {"activity_id": activity.id, "respondent_id": user_id, "status": SurveyResponseStatus.SUBMITTED,
         "draft_revision": 1, "revision_count": 1, "submitted_at": now, "first_submitted_at": now,
         "created_at": now, "updated_at": now} for user_id in user_ids])
    response_ids = session.scalars(select(SurveyResponse.id).where(SurveyResponse.activity_id == activity.id)
                                   .order_by(SurveyResponse.id)).all()
    frequencies = list(survey.PER_WEEK)
    rows = []
    for number in range(answers):
        distinct = (number * 7919) % DISTINCT_TEXTS
        frequency = frequencies[number % len(frequencies)]
        priced = number % 3 != 0
        rows.append({
            "activity_id": activity.id,
            "response_id": response_ids[number // PER_RESPONSE % len(response_ids)],
            "revision": 1, "current": True, "position": number % PER_RESPONSE, "known_mistake_id": None,
            "text": f"Mistake number {distinct}", "answer_key": f"mistake number {distinct}",
            "frequency": frequency, "per_week": survey.PER_WEEK[MistakeFrequency(frequency)],
            "impact": 1 + number % 5, "cost": Decimal(10 + number % 90) if priced else None,
            "currency": ("EUR" if number % 2 else "USD") if priced else None,
        })
    session.execute(insert(SurveyAnswer), rows)
    for gap_number in range(GAPS):
        gap = SurveyGap(activity_id=activity.id, name=f"Gap {gap_number}", created_at=now)
        session.add(gap)
        session.flush()
        for key_number in range(KEYS_PER_GAP):
            key = f"mistake number {gap_number * KEYS_PER_GAP + key_number}"
            session.add(SurveyGapKey(gap_id=gap.id, activity_id=activity.id, answer_key=key))
        if gap_number < 2:
            session.add(SurveyGapLink(gap_id=gap.id, label=f"Competency {gap_number}",
                                      competency_tag=f"https://case.example/CFItems/{gap_number}"))
    session.flush()
    return activity.id


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str | None]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench-survey.db'}"
        return
    with postgres_database() as url:
        yield url


def bench_backend(backend: str, database_url: str, answers: int, rounds: int) -> float:
    settings = Settings(database_url=database_url, secret_key=SECRET_KEY, public_url="http://127.0.0.1",
                        log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    engine = get_engine(app)
    upgrade(engine)
    with session_scope(app) as session:
        activity_id = build_survey(session, answers)
    with engine.connect() as connection:  # the statistics autovacuum (or a DBA's ANALYZE) keeps on a live
        connection.execute(text("ANALYZE"))  # database; without them PostgreSQL plans for empty tables
        connection.commit()
    timings: dict[str, list[float]] = {"ranked": [], "raw": [], "per_key": []}
    with session_scope(app) as session:
        activity = session.get(Activity, activity_id)
        assert activity is not None
        counted = session.scalar(select(func.count()).select_from(SurveyAnswer)
                                 .where(SurveyAnswer.activity_id == activity_id))
        ranked_rows = raw_rows = 0
        parameters = {"activity_id": activity_id, "currency": CURRENCY}
        ranking = [(row.gap_id, row.key, row.answers, row.score)
                   for row in survey.ranked_gaps(session, activity)]
        by_hand = [(row.gap_id, row.key, row.answers, Decimal(str(row.score)).quantize(Decimal("0.01")))
                   for row in session.execute(RAW_GROUP_BY, parameters)]
        same = "yes" if ranking == by_hand else "NO"
        for _ in range(rounds):
            session.expunge_all()  # every round reads the database again, nothing cached ...
            activity = session.get(Activity, activity_id)  # ... but the activity, as a page has it
            assert activity is not None
            start = time.perf_counter()
            ranked_rows = len(survey.ranked_gaps(session, activity))
            timings["ranked"].append(time.perf_counter() - start)
            start = time.perf_counter()
            raw_rows = len(session.execute(RAW_GROUP_BY, {"activity_id": activity_id,
                                                          "currency": CURRENCY}).all())
            timings["raw"].append(time.perf_counter() - start)
            start = time.perf_counter()
            session.execute(PER_KEY_GROUP_BY, {"activity_id": activity_id}).all()
            timings["per_key"].append(time.perf_counter() - start)
    engine.dispose()
    ranked, raw, per_key = (median_ms(timings[name]) for name in ("ranked", "raw", "per_key"))
    ratio = ranked / raw if raw else float("inf")
    print(f"{backend}: {counted:,} answers, {ranked_rows} ranked lines ({GAPS} gaps), "
          f"raw SQL {raw_rows} lines, same ranking: {same}")
    print(f"{backend} ranked gaps: {ranked:8.2f} ms, raw SQL group-by of the same ranking {raw:8.2f} ms, "
          f"ratio ranked/raw: {ratio:.2f} (target <= {TARGET_RATIO}); bare per-key group-by {per_key:.2f} ms",
          flush=True)
    return ratio


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=ANSWERS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory() as directory:
        for backend in options.backends.split(","):
            with database(backend, Path(directory)) as url:
                if url is None:
                    print(f"{backend}: no server on 127.0.0.1:5432, skipped")
                    continue
                bench_backend(backend, url, options.answers, options.rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
