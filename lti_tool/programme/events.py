"""The moments of the survey and the follow-ups that learning records are made of, one function each.

The services call these in the transaction of the change, after it is flushed (ids exist). Each is a
hook for the xAPI feature (``lti_tool.records``) to enqueue its statement from; until it is wired, they
record nothing. They never decide anything: a failure to record must not change what the person did.

* :func:`survey_answered`: a manager submitted (a revision of) their survey answer. In an anonymous survey
  the statement must not identify the manager to designers (the response carries ``respondent_id``;
  check ``lti_tool.programme.survey.settings_of(...).anonymous``).
* :func:`follow_up_scheduled`: a follow-up was made for a submitted answer, due at ``follow_up.due_at``.
* :func:`follow_up_answered`: the manager answered the follow-up (survey again or rubric, and what
  changed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from lti_tool.programme.models import FollowUp, SurveyResponse


def survey_answered(session: Session, response: SurveyResponse) -> None:
    """A survey answer was submitted: ``response.revision_count`` is its revision."""


def follow_up_scheduled(session: Session, follow_up: FollowUp) -> None:
    """A follow-up now waits for its manager, due at ``follow_up.due_at``."""


def follow_up_answered(session: Session, follow_up: FollowUp) -> None:
    """The manager answered the follow-up (``follow_up.answered_at``)."""
