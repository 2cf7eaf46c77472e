"""Who reaches which rubric: courses and platforms never see each other's rubrics, and hostile query or
form values are refused as bad requests, never answered with a server error.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from lti_tool.models import Rubric
from lti_tool.rubric_library import services
from tests.fixtures.platform import PlatformFactory
from tests.fixtures.visitors import Visitor, create_from_template, visitor_from

TEMPLATE = "communication"



def test_another_platform_never_sees_a_rubric_even_published_from_the_same_course_id(
    designer: Visitor, admin: Visitor, make_platform: PlatformFactory, db: Session
) -> None:
    """Platform B's course has the same LTI context id as platform A's: still another course."""
    rubric_id, _ = create_from_template(designer)
    published = admin.submit(admin.get(f"/rubrics/{rubric_id}"), "publish-form")
    assert published.attributes("notice")[0]["data-notice"] == "published"

    other = make_platform("generic", slot="elsewhere")
    outsiders = [visitor_from(other.launch_as(role), role) for role in ("admin", "designer", "learner")]
    for outsider in outsiders:
        for path in (f"/rubrics/{rubric_id}", f"/rubrics/{rubric_id}/export.csv",
                     f"/rubrics/{rubric_id}/export.case.json", f"/rubrics/{rubric_id}/versions",
                     f"/rubrics/{rubric_id}/edit"):
            page = outsider.get(path)
            assert page.status in {403, 404}, (outsider.role, path, page.status)
            if outsider.role != "learner":
                assert page.status == 404 and page.texts("error-message") == [services.RubricNotFound.message]
    admin_b, designer_b, _ = outsiders
    for path in ("unpublish", "duplicate", "archive"):
        assert admin_b.post(f"/rubrics/{rubric_id}/{path}").status == 404, path
    assert not designer_b.get("/rubrics/").attributes("rubric")
    db.expire_all()
    rubric = db.get(Rubric, rubric_id)
    assert rubric is not None and rubric.published_to_platform and rubric.archived_at is None


def test_one_persons_launch_token_with_another_persons_csrf_token_is_refused(
    designer: Visitor, other_designer: Visitor, db: Session
) -> None:
    rubric_id, _ = create_from_template(designer)
    forged = other_designer.post(f"/rubrics/{rubric_id}/archive", csrf=designer.csrf_token)
    assert forged.status == 400
    db.expire_all()
    rubric = db.get(Rubric, rubric_id)
    assert rubric is not None and rubric.archived_at is None


def test_a_hostile_version_number_is_not_a_server_error(designer: Visitor) -> None:
    rubric_id, _ = create_from_template(designer)
    for value in ("²", "9" * 30):
        for path in (f"/rubrics/{rubric_id}", f"/rubrics/{rubric_id}/export.csv"):
            page = designer.get(f"{path}?{urlencode({'version': value})}")
            assert page.status == 404, (path, value, page.status)
            assert "is not a version number" in page.text
        diff = designer.get(f"/rubrics/{rubric_id}/diff?{urlencode({'from': value, 'to': '1'})}")
        assert diff.status in {200, 404}, (value, diff.status)


def test_hostile_numbers_in_the_edit_form_are_not_a_server_error(designer: Visitor) -> None:
    rubric_id, edit_page = create_from_template(designer)
    fields = {key: value for key, value in edit_page.form("rubric-form").fields.items()
              if key not in {"lt", "csrf_token"}}
    for changes in ({"lock_version": "²"}, {"criteria-0-position": "²"}):
        page = designer.post(f"/rubrics/{rubric_id}/edit", {**fields, **changes, "action": "save"})
        assert page.status < 500, (changes, page.status)
