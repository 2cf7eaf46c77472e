"""Scores back to the LMS gradebook (LTI Assignment and Grade Services), through the outbox.

A submitted revision the learner may see (on submission, or once staff release it) is enqueued as one
``ags.score`` message, keyed by assessment and revision number: the same revision is never posted twice,
and every new revision posts again with its own, newer timestamp. The worker posts it after the commit,
through the LTI services connector (access token cached per issuer, client_id and scopes; the outbound
policy's timeouts), to the activity's line item. Only the activity's graded assessment posts: the
manager's, or the learner's own in a self-assessment activity; a self-assessment beside a manager's
feedback stays in Cadre.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from lti_tool.db import session_scope
from lti_tool.deliverables.services import when_settings_change
from lti_tool.lti.registration import CadreRegistration
from lti_tool.lti.services import CadreServiceConnector, PlatformServiceError, outcome_of_service_error
from lti_tool.models import Activity, Assessment, AssessmentRevision, Platform, User
from lti_tool.outbox import Dead, OutboxItem, Outcome, RetryPolicy, enqueue, handler
from lti_tool.permissions import feedback_is_released
from lti_tool.states import AssessmentStatus

TOPIC = "ags.score"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
HUNDREDTH = Decimal("0.01")


def is_graded(activity: Activity, assessment: Assessment) -> bool:
    """Whether this assessment's score belongs in the activity's gradebook column."""
    graded_role = activity.assessors.completing_role
    return activity.grades_to_lms and activity.points_possible is not None and \
        bool(activity.line_item_url) and assessment.assessor_role is graded_role


def enqueue_score(session: Session, assessment: Assessment, revision: AssessmentRevision) -> bool:
    """Enqueue ``revision``'s score if it goes to the LMS now; True when a message was added."""
    if not is_graded(assessment.activity, assessment) or not feedback_is_released(assessment):
        return False
    return enqueue(session, TOPIC, f"{assessment.id}:{revision.number}", {"revision_id": revision.id})


@when_settings_change
def send_scores_now_due(session: Session, activity: Activity, changed: Sequence[str]) -> int:
    """Scores the settings just made due: feedback waiting for staff that now shows on submission, or an
    activity that now sends its grades. Each submitted assessment's newest revision is enqueued once
    (one already posted is the same message, ignored); the count of messages added is returned."""
    if not {"feedback_release", "grades_to_lms"} & set(changed):
        return 0
    newest = session.execute(
        select(Assessment, AssessmentRevision)
        .join(AssessmentRevision, (AssessmentRevision.assessment_id == Assessment.id)
              & (AssessmentRevision.number == Assessment.revision_count))
        .where(Assessment.activity_id == activity.id, Assessment.status == AssessmentStatus.SUBMITTED)
        .order_by(Assessment.id)
    ).all()
    return sum(enqueue_score(session, assessment, revision) for assessment, revision in newest)


def score_given(revision: AssessmentRevision, points_possible: Decimal) -> Decimal | None:
    """The revision's share of the activity's points, to two places (None for a levels-only rubric)."""
    if revision.percentage is None:
        return None
    return (Decimal(revision.percentage) * points_possible / 100).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def score_of(revision: AssessmentRevision, activity: Activity, learner: User) -> dict[str, Any]:
    """The AGS score of a revision (AGS 2.0 §3.4): the explained total is its comment."""
    assert activity.points_possible is not None
    score: dict[str, Any] = {
        "userId": learner.sub,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": revision.submitted_at.isoformat(timespec="milliseconds"),
        "comment": "\n".join(revision.explanation),
    }
    given = score_given(revision, Decimal(activity.points_possible))
    if given is not None:
        score["scoreGiven"] = float(given)
        score["scoreMaximum"] = float(activity.points_possible)
    return score


def scores_url(line_item_url: str) -> str:
    """``<line item>/scores``, keeping the line item URL's query (Canvas and Moodle put ids there)."""
    parts = urlsplit(line_item_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


@handler(TOPIC, retry=RetryPolicy(max_attempts=10))
def post_score(item: OutboxItem) -> Outcome | None:
    """Post one revision's score. Everything is read first and the session closed: no transaction stays
    open while the platform answers."""
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        # One query for the revision, its assessment, activity and learner: a batch of scores is read
        # message by message, and four lazy loads each were most of a delivery's time in the database.
        of_assessment = joinedload(AssessmentRevision.assessment)
        revision = session.get(AssessmentRevision, item.payload.get("revision_id"), options=[
            of_assessment.joinedload(Assessment.activity), of_assessment.joinedload(Assessment.learner)])
        if revision is None:
            return Dead("the assessment revision no longer exists")
        assessment = revision.assessment
        activity = assessment.activity
        if not activity.line_item_url or activity.points_possible is None:
            return Dead("the activity no longer has a gradebook line item")
        platform = session.get(Platform, activity.platform_id)
        if platform is None:
            return Dead("the activity's platform is no longer registered")
        score = score_of(revision, activity, assessment.learner)
        url = scores_url(activity.line_item_url)
        registration = CadreRegistration(platform, session)
        registration.get_tool_private_key()  # loaded now, while the session is open
        connector = CadreServiceConnector(registration)
    try:
        connector.make_service_request([SCOPE_SCORE], url, is_post=True, data=json.dumps(score),
                                       content_type=SCORE_MEDIA_TYPE)
    except PlatformServiceError as error:
        return outcome_of_service_error(error)
    return None
