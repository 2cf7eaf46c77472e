"""The one permission place: every route declares its rule, and the rules decide as documented."""

from __future__ import annotations

import pytest
from flask import Flask

from lti_tool import create_app, permissions
from lti_tool.models import Rubric
from lti_tool.permissions import (
    RUBRIC_NOT_FOUND,
    Actor,
    PermissionDenied,
    can_copy_rubric,
    can_edit_rubric,
    can_publish_rubric,
    can_view_rubric,
    ensure,
    may_place_activities,
    may_preview_rubrics,
    may_publish_rubrics,
    may_use_rubric_library,
    rule_of,
)
from lti_tool.settings import Settings
from lti_tool.states import CadreRole

COURSE, OTHER_COURSE = 10, 11
PLATFORM, OTHER_PLATFORM = 1, 2


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app for its route table only: nothing is requested, so its database is never opened."""
    path = tmp_path_factory.mktemp("routes") / "cadre.db"
    return create_app(Settings(database_url=f"sqlite:///{path}", secret_key="x" * 32,
                               _env_file=None))  # type: ignore[call-arg]


def test_every_route_names_its_rule_or_says_why_it_is_public(bare_app: Flask) -> None:
    undeclared = sorted(
        rule.rule
        for rule in bare_app.url_map.iter_rules()
        if rule.endpoint != "static" and rule_of(bare_app.view_functions[rule.endpoint]) is None
    )
    assert undeclared == [], f"routes without @permission(...) or @public(...): {undeclared}"


def test_public_routes_give_a_reason(bare_app: Flask) -> None:
    for rule in bare_app.url_map.iter_rules():
        declared = rule_of(bare_app.view_functions[rule.endpoint]) if rule.endpoint != "static" else None
        if isinstance(declared, str):
            assert declared.startswith("public: ") and len(declared) > len("public: ") + 10, rule.rule


def actor(role: CadreRole, *, course: int | None = COURSE, platform: int = PLATFORM) -> Actor:
    return Actor(user_id=1, name="Someone", platform_id=platform, context_id=course, role=role)


def rubric(*, course: int = COURSE, platform: int = PLATFORM, published: bool = False,
           archived: bool = False) -> Rubric:
    from datetime import UTC, datetime

    from lti_tool.models import Context

    return Rubric(id=5, title="Coaching", context_id=course, platform_id=platform,
                  published_to_platform=published, archived_at=datetime.now(UTC) if archived else None,
                  context=Context(id=course, platform_id=platform, context_id="c", title="Sales 101"))


@pytest.mark.parametrize("role", list(CadreRole))
def test_everyone_in_the_course_sees_its_rubrics_and_nobody_elsewhere_does(role: CadreRole) -> None:
    assert can_view_rubric(actor(role), rubric())
    outsiders = (actor(role, course=OTHER_COURSE), actor(role, platform=OTHER_PLATFORM),
                 actor(role, course=None))
    for outsider in outsiders:
        decision = can_view_rubric(outsider, rubric())
        assert not decision and decision.status == 404 and decision.message == RUBRIC_NOT_FOUND


def test_shared_rubrics_are_seen_on_their_platform_only_while_live() -> None:
    elsewhere = actor(CadreRole.DESIGNER, course=OTHER_COURSE)
    assert can_view_rubric(elsewhere, rubric(published=True))
    assert not can_view_rubric(elsewhere, rubric(published=True, archived=True))
    assert not can_view_rubric(actor(CadreRole.DESIGNER, platform=OTHER_PLATFORM), rubric(published=True))


def test_only_editors_of_the_owning_course_edit_and_editors_copy_what_they_see() -> None:
    shared = rubric(published=True)
    assert can_edit_rubric(actor(CadreRole.DESIGNER), shared)
    assert can_edit_rubric(actor(CadreRole.ADMIN), shared)
    for role in (CadreRole.MANAGER, CadreRole.LEARNER):
        refused = can_edit_rubric(actor(role), shared)
        assert not refused and refused.status == 403 and "preview" in refused.message
        assert not can_copy_rubric(actor(role), shared)
    elsewhere = can_edit_rubric(actor(CadreRole.DESIGNER, course=OTHER_COURSE), shared)
    assert not elsewhere and elsewhere.status == 403 and "Sales 101" in elsewhere.message
    assert can_copy_rubric(actor(CadreRole.DESIGNER, course=OTHER_COURSE), shared)


def test_only_administrators_of_the_platform_publish() -> None:
    assert can_publish_rubric(actor(CadreRole.ADMIN), rubric())
    assert not can_publish_rubric(actor(CadreRole.DESIGNER), rubric())
    assert can_publish_rubric(actor(CadreRole.ADMIN, course=OTHER_COURSE), rubric(published=True))
    assert can_publish_rubric(actor(CadreRole.ADMIN, platform=OTHER_PLATFORM), rubric()).status == 404


@pytest.mark.parametrize(
    ("rule", "allowed"),
    [
        (may_use_rubric_library, {CadreRole.DESIGNER, CadreRole.ADMIN}),
        (may_preview_rubrics, set(CadreRole)),
        (may_publish_rubrics, {CadreRole.ADMIN}),
    ],
)
def test_route_rules_by_role_and_course(rule: permissions.RouteRule, allowed: set[CadreRole]) -> None:
    for role in CadreRole:
        decision = rule(actor(role))
        assert bool(decision) == (role in allowed), role
        if not decision:
            assert decision.status == 403 and "You opened" not in decision.message
    for role in allowed:
        no_course = rule(actor(role, course=None))
        assert not no_course and no_course.status == 400


def test_placing_activities_needs_an_editor_and_a_deep_linking_launch() -> None:
    from lti_tool.models import Launch
    from lti_tool.states import MessageType

    def under(role: CadreRole, message_type: MessageType) -> Actor:
        launch = Launch(id="x" * 20, platform_id=PLATFORM, user_id=1, context_id=COURSE, role=role,
                        message_type=message_type, claims={})
        return Actor(user_id=1, name="x", platform_id=PLATFORM, context_id=COURSE, role=role, launch=launch)

    assert may_place_activities(under(CadreRole.DESIGNER, MessageType.DEEP_LINKING))
    assert may_place_activities(under(CadreRole.DESIGNER, MessageType.RESOURCE_LINK)).status == 400
    assert may_place_activities(under(CadreRole.LEARNER, MessageType.DEEP_LINKING)).status == 403
    assert may_place_activities(actor(CadreRole.DESIGNER)).status == 400  # no launch at all


def test_ensure_raises_with_the_decision() -> None:
    decision = can_view_rubric(actor(CadreRole.LEARNER, course=OTHER_COURSE), rubric())
    with pytest.raises(PermissionDenied) as raised:
        ensure(decision)
    assert raised.value.decision is decision
    ensure(can_view_rubric(actor(CadreRole.LEARNER), rubric()))  # allowed: nothing raised
