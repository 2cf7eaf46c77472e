"""Cadre's events as learning records: each function reads the rows of one event, makes the plain event of
:mod:`xapi.events`, builds its statement(s) with :mod:`xapi.statements` and records them with
:func:`lti_tool.records.store.record`, in the caller's session and transaction (after its flush: the ids
exist). A rolled-back request records nothing.

Services call these where the event happens:

==============================================  ===================================================
``lti.views.launch`` (resource link)            :func:`launched`
``deliverables.work_products`` (a version)      :func:`work_product_submitted` (submitted)
``feedback.services.submit``                    :func:`assessment_submitted` (scored; a revision adds
                                                updated + voids the revision it supersedes)
``feedback.services.withdraw``                  :func:`assessment_withdrawn` (voids its scored statement)
``feedback.services.acknowledge`` (with reply)  :func:`feedback_replied` (commented)
``relationships.services.nominate``             :func:`manager_nominated`
``relationships.services.answer_nomination``    :func:`nomination_accepted` (when accepted)
``programme.events`` (survey, follow-ups)       :func:`survey_answered` (not for an anonymous survey),
                                                :func:`follow_up_scheduled`, :func:`follow_up_answered`
``programme.coaching_events`` (coaching log)    :func:`coaching_session_logged` (a change voids the
                                                previous version), :func:`coaching_session_deleted`
``programme.relationship_events`` (map shared)  :func:`relationship_map_shared` (submitted)
``tracking.refreshers.complete``                :func:`refresher_completed` (completed: a lesson)
==============================================  ===================================================

A statement that cannot be built (bad data in a row) is logged as an error and not recorded: recording must
never undo what the person did. Database errors are not caught: the transaction fails as a whole. Outside a
Flask app (a service's unit test with a bare session) there is no deployment to build for, and nothing is
recorded.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import (
    Activity,
    Assessment,
    AssessmentRevision,
    AssessmentWithdrawal,
    Context,
    Launch,
    ManagerLink,
    RubricVersionCompetency,
    User,
)
from lti_tool.records.store import InvalidStatement, record
from lti_tool.settings import Settings
from lti_tool.states import MessageType
from xapi import events as xapi_events
from xapi import statements as xapi_statements

log = logging.getLogger("cadre.records")
_DEPLOYMENT = "cadre.records.deployment"


def deployment() -> xapi_statements.Deployment:
    """The app's xAPI deployment (public URL, identity mode), made once from its settings."""
    settings: Settings = current_app.config["CADRE"]
    made = current_app.extensions.get(_DEPLOYMENT)
    if made is None or made[0] is not settings:
        made = (settings, xapi_statements.Deployment(
            public_url=settings.public_url, identity=xapi_statements.IdentityMode(settings.actor_identity)))
        current_app.extensions[_DEPLOYMENT] = made
    return made[1]


# -- Cadre's rows as xAPI's plain data -------------------------------------------------------------------


def person(user: User) -> xapi_events.Person:
    return xapi_events.Person(platform_issuer=user.platform.issuer, lti_sub=user.sub, email=user.email)


def course(context: Context) -> xapi_events.Course:
    return xapi_events.Course(iri=deployment().course_iri(context.id), title=context.display_title)


def activity(row: Activity) -> xapi_events.Activity:
    return xapi_events.Activity(iri=deployment().activity_iri(row.id), title=row.title, kind=str(row.kind))


def _context_of(session: Session, context_id: int) -> Context:
    context = session.get(Context, context_id)
    assert context is not None
    return context


def _record_all(session: Session, event_name: str, built: Iterable[tuple[object, dict[str, Any]]]) -> None:
    """Build each (event, record() arguments) and record it; a statement that cannot be built is logged."""
    for event, where in built:
        try:
            body = xapi_statements.build(deployment(), event)
            record(session, body, **where)
        except (xapi_events.InvalidEvent, InvalidStatement) as error:
            log.error("a learning record could not be made", extra={"fields": {
                "event": event_name, "statement": type(event).__name__, "reason": str(error)[:500]}})


# -- events ----------------------------------------------------------------------------------------------


def launched(session: Session, launch: Launch, activity_id: int | None) -> None:
    """Someone opened an activity from their platform: ``activity_id``, the one its resource link is bound
    to, as provisioning found it (a placement with no activity yet, and deep linking, are no learning)."""
    if not has_app_context() or activity_id is None:
        return
    if launch.message_type != MessageType.RESOURCE_LINK or launch.resource_link_id is None:
        return
    row = session.get(Activity, activity_id)
    if row is None:
        return
    user = session.get(User, launch.user_id)
    assert user is not None
    # The launch row's id is the launch token: only a digest of it names the event.
    launch_key = hashlib.sha256(launch.id.encode()).hexdigest()[:32]
    event = xapi_events.Launched(actor=person(user), course=course(_context_of(session, row.context_id)),
                                 activity=activity(row), launch_id=launch_key, at=launch.created_at)
    _record_all(session, "launched", [(event, _where(row, user.id))])


def work_product_submitted(session: Session, work_product: Any, version: Any) -> None:
    """A learner handed in (a new version of) their work product: each version is a submission."""
    if not has_app_context():
        return
    row = session.get(Activity, work_product.activity_id)
    learner = session.get(User, work_product.learner_id)
    assert row is not None and learner is not None
    event = xapi_events.Submitted(learner=person(learner),
                                  course=course(_context_of(session, row.context_id)), activity=activity(row),
                                  submission_id=version.id, at=version.submitted_at)
    _record_all(session, "work product submitted", [(event, _where(row, learner.id))])


def assessment_submitted(session: Session, assessment: Assessment, revision: AssessmentRevision) -> None:
    """A submitted revision: its scored statement in the learner's record; from the second on, the
    assessor's ``updated`` and the voiding of the revision it supersedes."""
    if not has_app_context():
        return
    row, learner, assessor = assessment.activity, assessment.learner, assessment.assessor
    the_course, the_activity = course(_context_of(session, row.context_id)), activity(row)
    at = revision.submitted_at
    version = revision.rubric_version
    competencies = _competencies(session, revision)
    criteria = tuple(
        xapi_events.CriterionResult.from_breakdown(line, competencies.get(line["criterion"], ()))
        for line in revision.criteria
    )
    score = None
    if revision.total is not None and revision.max_possible:
        score = xapi_events.Score(raw=revision.total, maximum=revision.max_possible)
    evaluated = xapi_events.Evaluated(
        learner=person(learner), assessor=person(assessor),
        assessor_role=xapi_events.AssessorRole(assessment.assessor_role.value),
        course=the_course, activity=the_activity, assessment_id=assessment.id, revision=revision.number,
        at=at, criteria=criteria, score=score,
        rubric=(xapi_events.Rubric(identifier=version.rubric.case_identifier or f"rubric-{version.rubric_id}",
                                   version=version.number) if version is not None else None),
    )
    where = _where(row, learner.id)
    built: list[tuple[object, dict[str, Any]]] = [(evaluated, where)]
    if revision.number > 1:
        revised = xapi_events.Revised(assessor=person(assessor), learner=person(learner), course=the_course,
                                      activity=the_activity, assessment_id=assessment.id,
                                      revision=revision.number, at=at)
        superseded = xapi_statements.superseded_id(deployment(), revised)
        built += [(revised, where), (xapi_events.Voided(actor=None, statement_id=superseded, at=at), where)]
    _record_all(session, "assessment submitted", built)


def assessment_withdrawn(session: Session, assessment: Assessment, withdrawal: AssessmentWithdrawal) -> None:
    """The assessor took back their submission: its scored statement is voided (history is not edited)."""
    if not has_app_context():
        return
    learner = assessment.learner
    target = xapi_statements.evaluated_id(deployment(), learner.platform.issuer, assessment.id,
                                          withdrawal.revision_number)
    event = xapi_events.Voided(actor=person(assessment.assessor), statement_id=target,
                               at=withdrawal.withdrawn_at)
    _record_all(session, "assessment withdrawn", [(event, _where(assessment.activity, learner.id))])


def feedback_replied(session: Session, assessment: Assessment) -> None:
    """The learner acknowledged the newest revision with a reply: a comment on its scored statement. Each
    different reply is a comment of its own; the same one again is not recorded twice."""
    if not has_app_context():
        return
    if not assessment.learner_reply or not assessment.acknowledged_revision:
        return
    learner, row = assessment.learner, assessment.activity
    digest = hashlib.sha256(assessment.learner_reply.encode()).hexdigest()[:16]
    event = xapi_events.Commented(
        author=person(learner), course=course(_context_of(session, row.context_id)), activity=activity(row),
        comment_id=f"{assessment.id}:{assessment.acknowledged_revision}:{digest}",
        text=assessment.learner_reply,
        assessment_id=assessment.id, revision=assessment.acknowledged_revision,
        at=assessment.learner_reply_at or assessment.acknowledged_at,
    )
    _record_all(session, "feedback replied", [(event, _where(row, learner.id))])


def manager_nominated(session: Session, link: ManagerLink) -> None:
    """A learner nominated a manager in a course (the link waits for the manager's answer)."""
    if not has_app_context():
        return
    learner, manager = session.get(User, link.learner_id), session.get(User, link.manager_id)
    assert learner is not None and manager is not None
    context = _context_of(session, link.context_id)
    event = xapi_events.ManagerNominated(
        learner=person(learner), nominee=person(manager), course=course(context),
        nomination=xapi_events.Nomination(iri=deployment().nomination_iri(link.id), nomination_id=link.id),
        at=link.created_at,
    )
    _record_all(session, "manager nominated", [(event, _course_where(context, learner.id))])


def nomination_accepted(session: Session, link: ManagerLink) -> None:
    """The nominated manager accepted: the link is in force."""
    if not has_app_context():
        return
    learner, manager = session.get(User, link.learner_id), session.get(User, link.manager_id)
    assert learner is not None and manager is not None
    context = _context_of(session, link.context_id)
    event = xapi_events.NominationAccepted(
        manager=person(manager), learner=person(learner), course=course(context),
        nomination=xapi_events.Nomination(iri=deployment().nomination_iri(link.id), nomination_id=link.id),
        at=link.created_at,
    )
    _record_all(session, "nomination accepted", [(event, _course_where(context, learner.id))])


def survey_answered(session: Session, response: Any, *, anonymous: bool) -> None:
    """A manager submitted their survey answer (its first submission: later revisions are the same
    statement). An anonymous survey records nothing: a statement names its actor, and the promise was that
    nobody learns who answered."""
    if not has_app_context() or anonymous:
        return
    row, manager = response.activity, response.respondent
    event = xapi_events.SurveyAnswered(
        respondent=person(manager), course=course(_context_of(session, row.context_id)),
        activity=activity(row), response_id=response.id,
        at=response.first_submitted_at or response.submitted_at or response.updated_at,
    )
    _record_all(session, "survey answered", [(event, _where(row, manager.id))])


def _follow_up(follow_up: Any) -> xapi_events.FollowUp:
    return xapi_events.FollowUp(iri=deployment().follow_up_iri(follow_up.id), follow_up_id=follow_up.id,
                                title=follow_up.activity.title)


def follow_up_scheduled(session: Session, follow_up: Any, *, anonymous: bool) -> None:
    """Cadre scheduled a follow-up for a manager, due at ``follow_up.due_at`` (none for a follow-up of an
    anonymous survey's answer)."""
    if not has_app_context() or anonymous:
        return
    row, manager = follow_up.activity, follow_up.manager
    event = xapi_events.FollowUpScheduled(
        respondent=person(manager), course=course(_context_of(session, row.context_id)),
        activity=activity(row), follow_up=_follow_up(follow_up), due_at=follow_up.due_at,
        at=follow_up.created_at,
    )
    _record_all(session, "follow-up scheduled", [(event, _where(row, manager.id))])


def follow_up_answered(session: Session, follow_up: Any, *, anonymous: bool) -> None:
    """The manager answered a follow-up; what they said changed is the answer (none for a follow-up of an
    anonymous survey's answer)."""
    if not has_app_context() or anonymous:
        return
    row, manager = follow_up.activity, follow_up.manager
    changed = (follow_up.what_changed or "").strip()
    event = xapi_events.FollowUpAnswered(
        respondent=person(manager), course=course(_context_of(session, row.context_id)),
        activity=activity(row), follow_up=_follow_up(follow_up), at=follow_up.answered_at or utcnow(),
        answers={"what_changed": changed} if changed else {},
    )
    _record_all(session, "follow-up answered", [(event, _where(row, manager.id))])


def relationship_map_shared(session: Session, relationship_map: Any, snapshot: Any) -> None:
    """A learner shared their relationship map for review: a submission (each share is its own), named
    apart from work-product versions so that the two never share a statement id."""
    if not has_app_context():
        return
    row = session.get(Activity, relationship_map.activity_id)
    learner = session.get(User, relationship_map.owner_id)
    assert row is not None and learner is not None
    event = xapi_events.Submitted(
        learner=person(learner), course=course(_context_of(session, row.context_id)), activity=activity(row),
        submission_id=f"relationship-map-share-{snapshot.id}", at=snapshot.shared_at)
    _record_all(session, "relationship map shared", [(event, _where(row, learner.id))])


# -- internals -------------------------------------------------------------------------------------------


def career_conversation_held(session: Session, conversation: Any) -> None:
    """A learner and their manager held a career conversation (its first agreement recorded): who, with whom
    and when, never what was said."""
    manager = session.get(User, conversation.manager_id) if conversation.manager_id else None
    if not has_app_context() or manager is None or manager.id == conversation.learner_id:
        return
    row, learner = conversation.activity, conversation.learner
    at = conversation.updated_at or utcnow()
    event = xapi_events.CareerConversationHeld(
        learner=person(learner), manager=person(manager), course=course(_context_of(session, row.context_id)),
        activity=activity(row), conversation_id=conversation.id, at=at,
    )
    _record_all(session, "career conversation held", [(event, _where(row, learner.id))])

def peer_coaching_session_logged(session: Session, coaching_session: Any, members: Iterable[int]) -> None:
    """A peer-coaching group held a session: one statement per member (attended, the others as the team),
    never what was said."""
    if not has_app_context():
        return
    people = {user.id: user for user in session.scalars(select(User).where(User.id.in_(list(members))))}
    if not people:
        return
    group, row = coaching_session.group, coaching_session.group.activity
    the_course, the_activity = course(_context_of(session, row.context_id)), activity(row)
    group_iri = deployment().peer_group_iri(group.id)
    session_iri = deployment().peer_coaching_session_iri(coaching_session.id)
    built = []
    for member_id in sorted(people):
        event = xapi_events.PeerCoachingSessionHeld(
            learner=person(people[member_id]),
            others=tuple(person(people[other]) for other in sorted(people) if other != member_id),
            course=the_course, activity=the_activity, group_iri=group_iri,
            group_title=f"Group {group.number}",
            session_iri=session_iri, session_id=coaching_session.id, held_on=coaching_session.held_on,
        )
        built.append((event, _where(row, member_id)))
    _record_all(session, "peer-coaching session held", built)


def refresher_completed(session: Session, scheduled: Any) -> None:
    """A learner marked a refresher done: one statement per step of its schedule (the scheduled row's id
    names it), the refresher as a lesson whose parent is the activity it refreshes."""
    if not has_app_context():
        return
    refresher, learner = scheduled.refresher, scheduled.learner
    row = refresher.activity
    lesson = xapi_events.Activity(iri=deployment().refresher_iri(refresher.id), title=refresher.title,
                                  kind="refresher")
    event = xapi_events.RefresherCompleted(
        learner=person(learner), course=course(_context_of(session, row.context_id)), refresher=lesson,
        refresher_id=scheduled.id, at=scheduled.completed_at or utcnow(), activity=activity(row),
    )
    _record_all(session, "refresher completed", [(event, _where(row, learner.id))])


def _coaching_event(session: Session, coaching_session: Any) -> xapi_events.CoachingSessionLogged:
    # Only the kind, the day and the minutes: never the topic, challenge, next step or well-being check.
    row, owner = coaching_session.activity, coaching_session.owner
    return xapi_events.CoachingSessionLogged(
        owner=person(owner), course=course(_context_of(session, row.context_id)), activity=activity(row),
        session_iri=deployment().coaching_session_iri(coaching_session.id), session_id=coaching_session.id,
        session_kind=str(coaching_session.kind), held_on=coaching_session.held_on,
        minutes=coaching_session.minutes, saved_at=coaching_session.updated_at,
    )


def _coaching_voided(owner: User, coaching_session: Any, saved_at: Any, at: Any) -> xapi_events.Voided:
    target = xapi_statements.coaching_session_logged_id(deployment(), owner.platform.issuer,
                                                        coaching_session.id, saved_at)
    return xapi_events.Voided(actor=person(owner), statement_id=target, at=at)


def coaching_session_logged(session: Session, coaching_session: Any, *, replaces: Any = None) -> None:
    """Someone logged a coaching session, or changed one (``replaces``: the changed version's save time,
    whose statement is voided)."""
    if not has_app_context():
        return
    owner = coaching_session.owner
    where = _where(coaching_session.activity, owner.id)
    built: list[tuple[object, dict[str, Any]]] = [(_coaching_event(session, coaching_session), where)]
    if replaces is not None:
        voided = _coaching_voided(owner, coaching_session, replaces, coaching_session.updated_at)
        built.append((voided, where))
    _record_all(session, "coaching session logged", built)


def coaching_session_deleted(session: Session, coaching_session: Any) -> None:
    """Its owner deleted a session of their log: its statement is voided."""
    if not has_app_context():
        return
    owner = coaching_session.owner
    _record_all(session, "coaching session deleted", [
        (_coaching_voided(owner, coaching_session, coaching_session.updated_at, utcnow()),
         _where(coaching_session.activity, owner.id))])


def _where(row: Activity, person_id: int) -> dict[str, Any]:
    return {"platform_id": row.platform_id, "context_id": row.context_id, "activity_kind": str(row.kind),
            "person_id": person_id}


def _course_where(context: Context, person_id: int) -> dict[str, Any]:
    return {"platform_id": context.platform_id, "context_id": context.id, "activity_kind": None,
            "person_id": person_id}


def _competencies(session: Session, revision: AssessmentRevision) -> dict[str, tuple[str, ...]]:
    """The competency tags of each criterion of the revision's rubric version (one query)."""
    if revision.rubric_version_id is None:
        return {}
    tags: dict[str, tuple[str, ...]] = {}
    for criterion, tag in session.execute(
        select(RubricVersionCompetency.criterion_identifier, RubricVersionCompetency.competency_tag)
        .where(RubricVersionCompetency.version_id == revision.rubric_version_id)
        .order_by(RubricVersionCompetency.criterion_identifier, RubricVersionCompetency.competency_tag)
    ):
        tags[criterion] = (*tags.get(criterion, ()), tag)
    return tags
