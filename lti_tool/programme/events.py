"""The moments of the survey and the follow-ups that learning records are made of, one function each.

The services call these in the transaction of the change, after it is flushed (ids exist). Each records
its statement through ``lti_tool.records.events``. They never decide anything: a failure to record must not
change what the person did.

* :func:`survey_answered`: a manager submitted (a revision of) their survey answer. An anonymous survey
  records no statement (one would name the manager), nor do its follow-ups.
* :func:`follow_up_scheduled`: a follow-up was made for a submitted answer, due at ``follow_up.due_at``.
* :func:`follow_up_answered`: the manager answered the follow-up (survey again or rubric, and what
  changed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lti_tool.records import events as learning_records

if TYPE_CHECKING:
    from lti_tool.programme.models import FollowUp, SurveyResponse


def survey_answered(session: Session, response: SurveyResponse) -> None:
    """A survey answer was submitted: ``response.revision_count`` is its revision."""
    from sqlalchemy import select

    from lti_tool.programme.models import FollowUp
    from lti_tool.programme.survey import settings_of

    # A follow-up asks the survey again in its own activity: the survey's promise of anonymity still holds.
    asked_again = session.scalar(select(FollowUp).where(
        FollowUp.activity_id == response.activity_id, FollowUp.manager_id == response.respondent_id,
        FollowUp.source_response_id.is_not(None)).limit(1))
    survey_activity = asked_again.source_activity if asked_again is not None else response.activity
    learning_records.survey_answered(session, response,
                                     anonymous=settings_of(session, survey_activity).anonymous)


def follow_up_scheduled(session: Session, follow_up: FollowUp) -> None:
    """A follow-up now waits for its manager, due at ``follow_up.due_at``."""
    anonymous = _of_anonymous_survey(session, follow_up)
    learning_records.follow_up_scheduled(session, follow_up, anonymous=anonymous)


def follow_up_answered(session: Session, follow_up: FollowUp) -> None:
    """The manager answered the follow-up (``follow_up.answered_at``)."""
    anonymous = _of_anonymous_survey(session, follow_up)
    learning_records.follow_up_answered(session, follow_up, anonymous=anonymous)


def _of_anonymous_survey(session: Session, follow_up: FollowUp) -> bool:
    """A follow-up of an anonymous survey answer names its manager as much as the answer would."""
    from lti_tool.programme.survey import settings_of

    if follow_up.source_response_id is None:
        return False
    return settings_of(session, follow_up.source_activity).anonymous
