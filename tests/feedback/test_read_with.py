"""What the feedback pages read along with another row, to spare a query: a learner with their managers
(``permissions.person_with_managers``), an activity with its rubric's content hash."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool import permissions
from lti_tool.db import read_memo
from lti_tool.models import Activity, ManagerLink, RubricVersion
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import ManagerLinkStatus
from tests.feedback.conftest import Course


def test_a_person_comes_with_their_managers_in_line_order(course: Course) -> None:
    course.link_chloe_to_a_mentor_then_a_line_manager()  # the line manager linked after the mentor
    read_memo(course.db).clear()
    chloe = permissions.person_with_managers(course.db, course.context.id, course.chloe.id)
    assert chloe is course.chloe
    line_order = list(course.db.scalars(permissions._managers_in_line_order(course.context.id, chloe.id)))
    assert line_order == [course.omar.user_id, course.rita.user_id]
    assert read_memo(course.db)[("active_managers", course.context.id, chloe.id)] == tuple(line_order)
    assert permissions.line_manager_id(course.db, course.context.id, chloe.id) == course.omar.user_id


def test_a_person_without_managers_or_unknown(course: Course) -> None:
    course.db.execute(ManagerLink.__table__.update().values(status=ManagerLinkStatus.ENDED))
    ana = permissions.person_with_managers(course.db, course.context.id, course.ana.id)
    assert ana is course.ana  # ended links: nobody manages her now
    assert read_memo(course.db)[("active_managers", course.context.id, ana.id)] == ()
    assert permissions.person_with_managers(course.db, course.context.id, 10**9) is None
    # Another course's links do not count here (Sam manages Ana in the other course only).
    ben = permissions.person_with_managers(course.db, course.other_context.id, course.ben.id)
    assert ben is course.ben and read_memo(course.db)[("active_managers", course.other_context.id,
                                                       course.ben.id)] == ()


def test_an_activity_reads_its_rubric_hash_and_forgets_it_when_the_version_changes(course: Course) -> None:
    activity = course.activity()
    course.db.expire(activity)
    version = course.db.get_one(RubricVersion, course.rubric_version_id)
    loaded = course.db.scalars(select(Activity).where(Activity.id == activity.id)).one()
    assert loaded.loaded_rubric_content_hash() == version.content_hash
    other = rubric_library.create_from_template(course.db, course.designer, "communication")
    loaded.rubric_version_id = other.current_version_id
    assert loaded.loaded_rubric_content_hash() is None  # changed in memory: the old hash is not used
    course.db.flush()
    assert loaded.loaded_rubric_content_hash() is None  # expired by the flush, not stale
    new_version = course.db.get_one(RubricVersion, other.current_version_id)
    assert loaded.rubric_content_hash == new_version.content_hash != version.content_hash
    assert loaded.loaded_rubric_content_hash() == loaded.rubric_content_hash
