"""xAPI vocabulary, statement builders and validation (pure: no Flask, no SQLAlchemy, no lti_tool).

Usage (``lti_tool/records`` is the one place that stores what these build)::

    from xapi import Deployment, build, validate
    from xapi.events import Person, Course, Activity, Evaluated, AssessorRole, Rubric, Score, CriterionResult

    deployment = Deployment(settings.public_url, identity=settings.actor_identity)  # once per app
    learner = Person(platform.issuer, user.sub, email=user.email)  # copy rows into dataclasses
    course = Course(deployment.course_iri(context.id), context.title)
    activity = Activity(deployment.activity_iri(activity_row.id), activity_row.title, activity_row.kind)
    statement = validate(build(deployment, Evaluated(learner, manager, AssessorRole.MANAGER, course,
                                                     activity, assessment.id, revision.number, at=now, ...)))
    # statement["id"] is uuid5 of the event's identity: building the same event again gives the same id.

Withdrawn or superseded: ``build(deployment, Voided(actor_or_None, evaluated_id(deployment, issuer,
assessment_id, revision), at))``. Events and their fields: ``xapi.events``; IRIs: ``xapi.vocabulary``;
the profile: ``docs/xapi-profile.md`` and ``xapi/profile.jsonld`` (served at ``/xapi/profile``).
"""

from xapi.events import InvalidEvent
from xapi.statements import (
    Deployment,
    IdentityMode,
    build,
    evaluated_id,
    statement_id,
    superseded_id,
    voided_id,
)
from xapi.validation import InvalidStatement, validate

__all__ = [
    "Deployment",
    "IdentityMode",
    "InvalidEvent",
    "InvalidStatement",
    "build",
    "evaluated_id",
    "statement_id",
    "superseded_id",
    "validate",
    "voided_id",
]
