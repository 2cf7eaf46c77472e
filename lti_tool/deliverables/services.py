"""Activities: created by deep linking, bound to their resource link at the first launch, configured by
the course's designers.

Every function takes the request's session and never commits (the unit of work does). Who may do what is
:mod:`lti_tool.permissions`' (``may_configure_activities``, ``can_view_activity``,
``can_configure_activity``); each write adds an audit entry.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

import rubrics
from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.deliverables.line_items import enqueue_line_item_update
from lti_tool.lti.activity_kinds import ACTIVITY_PARAMETER, CUSTOM_PARAMETER, activity_kind, kind_info
from lti_tool.lti.launch import CLAIM_CUSTOM
from lti_tool.models import Activity, Launch, Rubric, RubricVersion, audit
from lti_tool.permissions import Actor
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import ActivityKind, Assessors, FeedbackRelease

CLAIM_AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
PUBLIC_ID_PATTERN = re.compile(r"[0-9a-f]{32}")
LINE_ITEM_URL_MAX = 1000


class ActivityError(Exception):
    message = "Cadre cannot do that with this activity."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class ActivityNotFound(ActivityError):
    message = permissions.ACTIVITY_NOT_FOUND


class SettingsConflict(ActivityError):
    """Someone saved the settings after the form was opened; nothing was saved."""

    def __init__(self, activity: Activity) -> None:
        who = activity.updated_by.display_name if activity.updated_by else "someone else"
        super().__init__(
            f"{who} changed these settings at {activity.updated_at:%Y-%m-%d %H:%M} UTC, after you opened "
            "them. Nothing was saved: your changes are still in the form. Check them and save again."
        )


# -- creating and finding ----------------------------------------------------------------------------------


def create_activity(session: Session, actor: Actor, kind: ActivityKind, title: str, *,
                    points_possible: Decimal | None = None) -> Activity:
    """A new activity of the actor's course, before the platform has placed it (deep linking)."""
    permissions.ensure(permissions.may_configure_activities(actor))
    info = kind_info(kind)
    now = utcnow()
    activity = Activity(
        public_id=secrets.token_hex(16),
        platform_id=actor.platform_id,
        context_id=actor.course_id,
        kind=kind,
        title=title,
        assessors=info.default_assessors,
        work_product_required=info.work_product_required,
        points_possible=points_possible,
        grades_to_lms=points_possible is not None,
        created_by_user_id=actor.user_id,
        updated_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(activity)
    session.flush()
    audit(session, actor, "activity.create", activity_id=activity.id, kind=kind.value,
          context_id=activity.context_id)
    return activity


def get_activity(session: Session, actor: Actor, activity_id: int, *,
                 rule: permissions.ObjectRule[Activity] = permissions.can_view_activity) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ActivityNotFound()
    permissions.ensure(rule(actor, activity))
    return activity


def activity_of_launch(session: Session, launch: Launch) -> Activity | None:
    """The activity a resource-link launch opened, bound to its resource link on the first launch.

    Found by resource link; else by the ``cadre_activity`` custom parameter: the activity deep linking made
    in this course is bound, and one of another course (the LMS copied the course, or the placement) is
    copied for this course. A placement made without deep linking (only ``cadre_kind``) gets a new,
    unconfigured activity. None when the launch is no resource-link launch in a course.
    """
    if launch.resource_link_id is None or launch.context_id is None:
        return None
    link = sa_inspect(launch).dict.get("resource_link")
    if link is not None and "activity" in sa_inspect(link).dict:  # read with the launch (lti.session)
        activity = link.activity
    else:
        activity = session.scalars(
            select(Activity).where(Activity.resource_link_id == launch.resource_link_id)
        ).first()
    if activity is None:
        activity = _bind_new_placement(session, launch)
        if activity is not None and link is not None:
            set_committed_value(link, "activity", activity)  # asked again in this request: the same answer
    if activity is not None:
        _remember_line_item(activity, launch)
    return activity


def _custom(launch: Launch) -> dict[str, Any]:
    custom = launch.claims.get(CLAIM_CUSTOM)
    return custom if isinstance(custom, dict) else {}


def _bind_new_placement(session: Session, launch: Launch) -> Activity | None:
    custom = _custom(launch)
    public_id = custom.get(ACTIVITY_PARAMETER)
    source = None
    if isinstance(public_id, str) and PUBLIC_ID_PATTERN.fullmatch(public_id):
        source = session.scalars(select(Activity).where(Activity.public_id == public_id)).first()
    if source is not None and source.resource_link_id is None and source.context_id == launch.context_id \
            and source.platform_id == launch.platform_id:
        source.resource_link_id = launch.resource_link_id
        session.flush()
        return source
    if source is not None and source.platform_id == launch.platform_id:
        return _copy_for(session, source, launch)
    info = activity_kind(custom.get(CUSTOM_PARAMETER))
    if info is None:
        return None
    title = (launch.resource_link.title if launch.resource_link else None) or info.label
    now = utcnow()
    activity = Activity(
        public_id=secrets.token_hex(16), platform_id=launch.platform_id, context_id=launch.context_id,
        resource_link_id=launch.resource_link_id, kind=info.kind, title=title[:255],
        assessors=info.default_assessors, work_product_required=info.work_product_required,
        created_at=now, updated_at=now,
    )
    session.add(activity)
    session.flush()
    return activity


SETTINGS_COPIED = ("kind", "title", "instructions", "manager_briefing", "rubric_version_id", "due_at",
                   "due_timezone", "points_possible", "grades_to_lms", "assessors", "work_product_required",
                   "feedback_release", "configured_at")


def _copy_for(session: Session, source: Activity, launch: Launch) -> Activity:
    """The settings of ``source`` (another course's, or another placement's) for this launch's placement;
    nothing of what people did in ``source`` comes along."""
    now = utcnow()
    copy = Activity(public_id=secrets.token_hex(16), platform_id=launch.platform_id,
                    context_id=launch.context_id, resource_link_id=launch.resource_link_id,
                    copied_from_id=source.id, created_at=now, updated_at=now,
                    **{name: getattr(source, name) for name in SETTINGS_COPIED})
    session.add(copy)
    session.flush()
    return copy


def _remember_line_item(activity: Activity, launch: Launch) -> None:
    endpoint = launch.claims.get(CLAIM_AGS_ENDPOINT)
    url = endpoint.get("lineitem") if isinstance(endpoint, dict) else None
    if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= LINE_ITEM_URL_MAX \
            and url != activity.line_item_url:
        activity.line_item_url = url


# -- settings ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivitySettings:
    """What the settings form gives, validated (``lti_tool.deliverables.forms``)."""

    title: str
    instructions: str
    manager_briefing: str
    rubric_id: int | None
    due_at: datetime | None
    due_timezone: str
    points_possible: Decimal | None
    grades_to_lms: bool
    assessors: Assessors
    work_product_required: bool
    feedback_release: FeedbackRelease


@dataclass(frozen=True)
class SettingsOutcome:
    activity: Activity
    changed: list[str] = field(default_factory=list)
    """The names of the settings that changed."""

    @property
    def points_changed(self) -> bool:
        return "points_possible" in self.changed or "grades_to_lms" in self.changed


SettingsListener = Callable[[Session, Activity, Sequence[str]], None]
_settings_listeners: list[SettingsListener] = []


def when_settings_change(listener: SettingsListener) -> SettingsListener:
    """Register ``listener(session, activity, changed_names)``, called in the transaction that saved an
    activity's changed settings: features that follow an activity (its grades, say) without this module
    importing them."""
    _settings_listeners.append(listener)
    return listener


def update_settings(session: Session, actor: Actor, activity_id: int, settings: ActivitySettings, *,
                    expected_lock_version: int) -> SettingsOutcome:
    """Save the settings; a rubric chosen anew is pinned at its current version, the same rubric keeps
    the version already pinned (moving to a newer one is :func:`move_to_rubric_version`)."""
    activity = get_activity(session, actor, activity_id, rule=permissions.can_configure_activity)
    if activity.lock_version != expected_lock_version:
        raise SettingsConflict(activity)
    values: dict[str, Any] = {
        "title": settings.title, "instructions": settings.instructions,
        "manager_briefing": settings.manager_briefing, "due_at": settings.due_at,
        "due_timezone": settings.due_timezone, "points_possible": settings.points_possible,
        "grades_to_lms": settings.grades_to_lms and settings.points_possible is not None,
        "assessors": settings.assessors, "work_product_required": settings.work_product_required,
        "feedback_release": settings.feedback_release,
        "rubric_version_id": _pinned_version_id(session, actor, activity, settings.rubric_id),
    }
    changed = [name for name, value in values.items() if getattr(activity, name) != value]
    if changed or activity.configured_at is None:
        for name in changed:
            setattr(activity, name, values[name])
        now = utcnow()
        activity.configured_at = activity.configured_at or now
        activity.updated_at = now
        activity.updated_by_user_id = actor.user_id
        try:
            session.flush()
        except StaleDataError:
            raise SettingsConflict(activity) from None
        audit(session, actor, "activity.settings", activity_id=activity.id, changed=changed)
        if {"points_possible", "grades_to_lms", "title"} & set(changed):
            enqueue_line_item_update(session, activity)
        if changed:
            for listener in _settings_listeners:
                listener(session, activity, changed)
    return SettingsOutcome(activity, changed)


def _pinned_version_id(session: Session, actor: Actor, activity: Activity,
                       rubric_id: int | None) -> int | None:
    if rubric_id is None:
        return None
    pinned = activity.rubric_version
    if pinned is not None and pinned.rubric_id == rubric_id:
        return pinned.id
    rubric = rubric_library.get_rubric(session, actor, rubric_id)
    version = rubric_library.current_version(rubric)
    _freeze(session, version)
    return version.id


def _freeze(session: Session, version: RubricVersion) -> None:
    """A version an activity uses never changes: editing the rubric makes a new version instead."""
    rubric_library.mark_version_used(session, version, actor_label="activity")


def choosable_rubrics(session: Session, actor: Actor) -> list[Rubric]:
    """The rubrics the designer may pin: the course's live ones and those shared with the platform."""
    listing = rubric_library.list_library(session, actor)
    return [*listing.course_rubrics, *listing.published_rubrics]


@dataclass(frozen=True)
class RubricUpdate:
    """A newer version of the pinned rubric than the activity uses, and what changed."""

    pinned: RubricVersion
    newest: RubricVersion
    changes: rubrics.RubricDiff


def rubric_update(session: Session, activity: Activity) -> RubricUpdate | None:
    """What moving the activity to the rubric's current version would change; None when it is current."""
    pinned = activity.rubric_version
    if pinned is None:
        return None
    rubric = session.get(Rubric, pinned.rubric_id)
    newest = rubric.current_version if rubric is not None else None
    if newest is None or newest.id == pinned.id or newest.number < pinned.number:
        return None
    changes = rubrics.diff(rubric_library.version_content(pinned), rubric_library.version_content(newest))
    return RubricUpdate(pinned=pinned, newest=newest, changes=changes)


def move_to_rubric_version(session: Session, actor: Actor, activity_id: int, version_id: int) -> Activity:
    """Pin the activity to version ``version_id`` of the rubric it already uses."""
    activity = get_activity(session, actor, activity_id, rule=permissions.can_configure_activity)
    pinned = activity.rubric_version
    version = session.get(RubricVersion, version_id)
    if pinned is None or version is None or version.rubric_id != pinned.rubric_id:
        raise ActivityError("That is not a version of the rubric this activity uses.")
    if version.id != pinned.id:
        _freeze(session, version)
        activity.rubric_version_id = version.id
        activity.updated_at = utcnow()
        activity.updated_by_user_id = actor.user_id
        session.flush()
        audit(session, actor, "activity.rubric_version", activity_id=activity.id,
              from_version=pinned.number, to_version=version.number, rubric_id=version.rubric_id)
    return activity
