"""The moments of a strategic-relationships map that learning records are made of, one function each.

* :func:`relationship_map_shared`: the learner shared their map for review; each share is a submission
  (``submitted``) in their record, with the activity, never a relationship's name or purpose.
* :func:`relationship_goal_set`: the learner set a goal. No statement (the profile has no verb for a goal
  yet); the hook is where one will be made.

The manager's review is an assessment: ``feedback.services`` records it (``scored``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from lti_tool.records import events as learning_records

if TYPE_CHECKING:
    from lti_tool.programme.relationship_models import RelationshipGoal, RelationshipMap, RelationshipMapShare


def relationship_map_shared(session: Session, relationship_map: RelationshipMap,
                            snapshot: RelationshipMapShare) -> None:
    learning_records.relationship_map_shared(session, relationship_map, snapshot)


def relationship_goal_set(session: Session, relationship_map: RelationshipMap,
                          goal: RelationshipGoal) -> None:
    del session, relationship_map, goal  # no statement yet: see the module's docstring
