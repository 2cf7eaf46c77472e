"""The activity's gradebook column follows its settings: a change of points (or title) is sent to the
platform's line item through AGS, after the commit, through the outbox.

The message is keyed by the activity and its settings version, so each saved change is sent once; the
handler reads the line item first and sends it back whole with the new maximum and label, so what the
platform keeps of its own (resource link, tag, dates) stays.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from lti_tool.db import session_scope
from lti_tool.lti.registration import CadreRegistration
from lti_tool.lti.services import CadreServiceConnector, PlatformServiceError, outcome_of_service_error
from lti_tool.models import Activity, Platform
from lti_tool.outbox import Dead, OutboxItem, Outcome, RetryPolicy, enqueue, handler
from rubrics.exact_numbers import json_number

TOPIC = "ags.line_item"
SCOPE_LINE_ITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINE_ITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"


def enqueue_line_item_update(session: Session, activity: Activity) -> bool:
    """Send the activity's points and title to its gradebook column, if it has one and sends grades."""
    if not (activity.line_item_url and activity.grades_to_lms and activity.points_possible is not None):
        return False
    return enqueue(session, TOPIC, f"{activity.id}:{activity.lock_version}", {"activity_id": activity.id})


@handler(TOPIC, retry=RetryPolicy(max_attempts=10))
def update_line_item(item: OutboxItem) -> Outcome | None:
    with session_scope(current_app._get_current_object()) as session:  # type: ignore[attr-defined]
        activity = session.get(Activity, item.payload.get("activity_id"))
        if activity is None or not activity.line_item_url or activity.points_possible is None:
            return Dead("the activity no longer has a gradebook line item")
        platform = session.get(Platform, activity.platform_id)
        if platform is None:
            return Dead("the activity's platform is no longer registered")
        url, title, points = activity.line_item_url, activity.title, activity.points_possible
        registration = CadreRegistration(platform, session)
        registration.get_tool_private_key()  # loaded now, while the session is open
        connector = CadreServiceConnector(registration)
    try:
        answer = connector.make_service_request([SCOPE_LINE_ITEM], url, accept=LINE_ITEM_MEDIA_TYPE)
        current: Any = answer["body"]
        line_item = dict(current) if isinstance(current, dict) else {}
        line_item.update({"scoreMaximum": json_number(points), "label": title})
        connector.send_json([SCOPE_LINE_ITEM], "PUT", url, line_item, content_type=LINE_ITEM_MEDIA_TYPE,
                            accept=LINE_ITEM_MEDIA_TYPE)
    except PlatformServiceError as error:
        return outcome_of_service_error(error)
    return None
