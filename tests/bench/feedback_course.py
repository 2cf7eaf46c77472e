"""A manager's course grown to a chosen size: learners linked to the manager, feedback activities of the
course, and assessments in a fixed mix of states, for the feedback benchmarks and the query-count test.

Rows are written directly (the benchmark needs thousands in seconds); the rubric comes from the library's
template through its service, so the pages under test read a real pinned version. Growing is idempotent:
``grow_course(..., people=200, activities=20)`` after ``people=20, activities=2`` adds only what is missing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Activity, Assessment, Context, ManagerLink, Rubric, User
from lti_tool.permissions import Actor
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import (
    ActivityKind,
    AssessmentStatus,
    AssessorRole,
    Assessors,
    CadreRole,
    FeedbackRelease,
    ManagerLinkSource,
)

TEMPLATE = "manager-feedback-on-training-transfer"
LEVELS = {"uses-the-training": "consistent", "effect-on-results": "starting", "consistency": "role-model",
          "next-step": "consistent"}
"""A complete answer of the template's rubric (``next-step`` needs its comment)."""
LEARNER_PREFIX = "bench-learner-"
ACTIVITY_PREFIX = "Bench activity "
DESIGNER_SUB = "bench-designer"
KINDS = (ActivityKind.MANAGER_FEEDBACK, ActivityKind.SKILL_ASSESSMENT, ActivityKind.WORK_PRODUCT_REVIEW)


def draft_content(next_steps: str = "", strengths: str = "Listens well.") -> dict[str, Any]:
    """What static/feedback-form.js sends as ``content``: every criterion answered."""
    criteria = {criterion: {"level": level, "points": "", "comment": ""}
                for criterion, level in LEVELS.items()}
    criteria["next-step"]["comment"] = "Plan the next call together."
    return {"criteria": criteria, "strengths": strengths, "next_steps": next_steps}


@dataclass(frozen=True)
class GrownCourse:
    activity_ids: list[int]
    learner_ids: list[int]


def _rubric_version_id(session: Session, context: Context) -> int:
    designer = session.scalar(select(User).where(User.platform_id == context.platform_id,
                                                 User.sub == DESIGNER_SUB))
    if designer is None:
        designer = User(platform_id=context.platform_id, sub=DESIGNER_SUB, name="Bench Designer")
        session.add(designer)
        session.flush()
    existing = session.scalar(select(Rubric.current_version_id).where(Rubric.context_id == context.id)
                              .order_by(Rubric.id).limit(1))
    if existing is not None:
        return existing
    actor = Actor(designer.id, designer.display_name, context.platform_id, context.id, CadreRole.DESIGNER)
    rubric = rubric_library.create_from_template(session, actor, TEMPLATE)
    assert rubric.current_version_id is not None
    return rubric.current_version_id


def grow_course(session: Session, *, context_id: int, manager_id: int, people: int,
                activities: int) -> GrownCourse:
    """At least ``people`` learners linked to the manager and ``activities`` activities in the course, every
    (activity, learner) cell in one of three states by its position: not started, draft, submitted."""
    context = session.get(Context, context_id)
    assert context is not None
    version_id = _rubric_version_id(session, context)
    now = utcnow()
    learners = list(session.scalars(select(User).where(User.platform_id == context.platform_id,
                                                       User.sub.startswith(LEARNER_PREFIX))
                                    .order_by(User.sub)))
    for number in range(len(learners), people):
        learner = User(platform_id=context.platform_id, sub=f"{LEARNER_PREFIX}{number:04d}",
                       name=f"Learner {number:04d}", given_name="Learner", family_name=f"{number:04d}")
        session.add(learner)
        learners.append(learner)
    session.flush()
    linked = set(session.scalars(select(ManagerLink.learner_id).where(ManagerLink.context_id == context_id,
                                                                      ManagerLink.manager_id == manager_id)))
    session.add_all([ManagerLink(context_id=context_id, manager_id=manager_id, learner_id=learner.id,
                                 source=ManagerLinkSource.ROSTER, created_at=now)
                     for learner in learners if learner.id not in linked])
    placed = list(session.scalars(select(Activity).where(Activity.context_id == context_id,
                                                         Activity.title.startswith(ACTIVITY_PREFIX))
                                  .order_by(Activity.id)))
    for number in range(len(placed), activities):
        activity = Activity(
            public_id=secrets.token_hex(16), platform_id=context.platform_id, context_id=context_id,
            kind=KINDS[number % len(KINDS)], title=f"{ACTIVITY_PREFIX}{number + 1:02d}",
            manager_briefing="Look for **empathy** and for the training's *three questions*.",
            instructions="Record a customer call.", rubric_version_id=version_id,
            points_possible=Decimal(10), grades_to_lms=False, assessors=Assessors.ANY_MANAGER,
            feedback_release=FeedbackRelease.ON_SUBMISSION, due_at=now - timedelta(days=number % 4),
            configured_at=now, created_at=now, updated_at=now,
        )
        session.add(activity)
        placed.append(activity)
    session.flush()
    present = {(a, learner) for a, learner in session.execute(
        select(Assessment.activity_id, Assessment.learner_id)
        .where(Assessment.activity_id.in_([activity.id for activity in placed]),
               Assessment.assessor_id == manager_id))}
    content = draft_content("Half written")
    for column, activity in enumerate(placed):
        for row, learner in enumerate(learners):
            state = (row + column) % 3
            if state == 0 or (activity.id, learner.id) in present:
                continue
            submitted = state == 2
            session.add(Assessment(
                activity_id=activity.id, learner_id=learner.id, assessor_id=manager_id,
                assessor_role=AssessorRole.MANAGER,
                status=AssessmentStatus.SUBMITTED if submitted else AssessmentStatus.DRAFT,
                draft_content=None if submitted else content, draft_revision=1, draft_saved_at=now,
                revision_count=1 if submitted else 0, learner_reply="", created_at=now, updated_at=now,
            ))
    session.flush()
    return GrownCourse([activity.id for activity in placed], [learner.id for learner in learners])


def count_cells(session: Session, manager_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Assessment)
                          .where(Assessment.assessor_id == manager_id)) or 0
