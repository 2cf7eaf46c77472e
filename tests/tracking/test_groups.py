"""Groups and sections: read from the platform's roster (NRPS members' shapes) and from a roster CSV's
``group`` column, each source replacing only its own; the staff dashboard filtered by group shows the
figures computed from the generated course for that group's learners alone, alone or with the manager
filter, in as many statements whatever the course's size; an unknown group is refused with the reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import session_scope
from lti_tool.models import Context, RosterMember, User
from lti_tool.relationships import groups, roster, roster_csv
from lti_tool.relationships.groups import PersonGroup, groups_of_member, replace_groups
from lti_tool.states import CadreRole, GroupSource
from lti_tool.tracking import dashboard
from lti_tool.tracking.dashboard import FilterError, Filters
from tests.fixtures.database import CountQueries
from tests.fixtures.visitors import Visitor
from tests.tracking.test_dashboard import NOW, Seeded, expected_figures, make, shown_figures
from tests.tracking.test_pages import course_of, fill

CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"


def test_group_names_from_a_platform_lose_their_control_characters() -> None:
    assert groups.clean_names(["Sales\x00East", " North\tshift ", "\x07", "north shift"]) == (
        "SalesEast", "North shift")


def test_the_groups_an_nrps_member_carries_are_read_in_each_shape() -> None:
    canvas = {"user_id": "1", "message": [{CUSTOM: {"sections": '["Section A", "Section B"]'}}]}
    assert groups_of_member(canvas) == ("Section A", "Section B")
    typed = {"user_id": "2", "message": [{CUSTOM: {"groups": " North ,south,  , North"}}]}
    assert groups_of_member(typed) == ("North", "south")
    listed = {"user_id": "3", "groups": [{"id": "g1", "title": "Team Blue"}, "Team  Red", {"id": "g2"}, 7]}
    assert groups_of_member(listed) == ("Team Blue", "Team Red")
    # An unknown substitution comes back as the variable's name: it is no group.
    variable = "$com.instructure.User.sectionNames"
    unsubstituted = {"user_id": "4", "message": [{CUSTOM: {"sections": variable}}]}
    assert groups_of_member(unsubstituted) == ()
    assert groups_of_member({"user_id": "5", "message": "nonsense", "groups": "nope"}) == ()
    entry = roster.parse_member(canvas)
    assert entry is not None and entry.groups == ("Section A", "Section B")


def _groups(db: Session, context_id: int) -> set[tuple[str, str, GroupSource]]:
    rows = db.execute(
        select(User.sub, PersonGroup.name, PersonGroup.source)
        .join(User, User.id == PersonGroup.user_id)
        .where(PersonGroup.context_id == context_id)
    )
    return {(sub, name, source) for sub, name, source in rows}


def _course(db: Session) -> Context:
    seeded = make(db, learners=3, activities=1, random_seed=5)
    return seeded.context


def test_a_roster_refresh_replaces_the_platform_groups_and_keeps_the_csv_ones(db: Session) -> None:
    context = _course(db)

    def member(sub: str, sections: str) -> roster.RosterEntry:
        entry = roster.parse_member(
            {"user_id": sub, "roles": ["Learner"], "name": sub, "message": [{CUSTOM: {"sections": sections}}]}
        )
        assert entry is not None
        return entry

    roster.store_roster(db, context, [member("ana", "North,Night shift"), member("ben", "South")])
    ana = db.scalar(select(User).where(User.sub == "ana", User.platform_id == context.platform_id))
    assert ana is not None
    replace_groups(db, context.id, GroupSource.ROSTER_CSV, {ana.id: ["Sales"]})
    roster.store_roster(db, context, [member("ana", "North"), member("ben", "")])
    assert _groups(db, context.id) == {
        ("ana", "North", GroupSource.PLATFORM),
        ("ana", "Sales", GroupSource.ROSTER_CSV),
    }
    assert dashboard.groups.group_names(db, context.id) == ["North", "Sales"]


def test_a_roster_csv_group_column_sets_the_groups_of_the_learners_it_names(db: Session) -> None:
    context = _course(db)
    people = {}
    for sub, role in (("ana", CadreRole.LEARNER), ("ben", CadreRole.LEARNER), ("omar", CadreRole.MANAGER)):
        user = User(platform_id=context.platform_id, sub=sub, name=sub.title())
        db.add(user)
        db.flush()
        db.add(RosterMember(context_id=context.id, user_id=user.id, name=user.name, role=role, lti_roles=[]))
        people[sub] = user
    db.flush()
    first = roster_csv.import_links(
        db, None, context.id, b"learner,manager,group\nana,omar,North; Sales\nben,omar,South\n"
    )
    assert first.stored, first.summary()
    second = roster_csv.import_links(db, None, context.id, b"learner,manager,group\nana,omar,North\n")
    assert second.stored, second.summary()
    assert _groups(db, context.id) == {
        ("ana", "North", GroupSource.ROSTER_CSV),
        ("ben", "South", GroupSource.ROSTER_CSV),  # not named the second time: kept
    }
    # A file without the column leaves the groups alone; a name too long is refused, nothing stored.
    assert roster_csv.import_links(db, None, context.id, b"learner,manager\nben,omar\n").stored
    too_long = roster_csv.import_links(db, None, context.id, b"learner,manager,group\nben,omar," + b"x" * 201)
    assert not too_long.stored and "longer than 200" in too_long.rows[0].message
    assert len(_groups(db, context.id)) == 2
    with_nul = roster_csv.import_links(db, None, context.id,
                                       b"learner,manager,group\nben,omar,Sales\x00East\n")
    assert not with_nul.stored and "control character" in with_nul.rows[0].message
    assert len(_groups(db, context.id)) == 2
    exported = roster_csv.export_links(db, context.id).splitlines()
    assert exported[0].startswith("learner,manager,relation,group,")
    assert any(line.startswith("ana,omar,line_manager,North,") for line in exported)


def _grouped(db: Session, seeded: Seeded) -> set[int]:
    """Every third learner in North, the others in South (and a few also in Night shift)."""
    north = {learner for learner in range(seeded.plan.learners) if learner % 3 == 0}
    replace_groups(
        db,
        seeded.context.id,
        GroupSource.PLATFORM,
        {
            user_id: ["North" if learner in north else "South", *(["Night shift"] * (learner % 5 == 0))]
            for learner, user_id in enumerate(seeded.written.learner_ids)
        },
    )
    return north


@pytest.mark.parametrize("random_seed", [4, 9])
def test_the_dashboard_of_a_group_matches_the_figures_computed_for_its_learners(
    db: Session, random_seed: int
) -> None:
    seeded = make(db, learners=41, activities=5, random_seed=random_seed)
    north = _grouped(db, seeded)
    board = dashboard.build(db, seeded.designer, seeded.context, Filters(group="North"), now=NOW)
    expected = expected_figures(seeded, only=north)
    assert shown_figures(seeded, board) == expected
    assert board.expected_learners == len(north) == 14
    assert board.groups == ["Night shift", "North", "South"]
    # Not vacuous: the group's figures differ from the course's.
    assert expected != expected_figures(seeded)
    # With a manager too: that manager's people in the group.
    manager = 1
    both = Filters(group="North", manager_id=seeded.written.manager_ids[manager])
    board = dashboard.build(db, seeded.designer, seeded.context, both, now=NOW)
    assert shown_figures(seeded, board) == expected_figures(seeded, manager=manager, only=north)
    assert 0 < board.expected_learners < 10


def test_a_group_filter_costs_as_many_statements_for_a_larger_course(
    db: Session, count_queries: CountQueries
) -> None:
    counts = []
    for learners, activities, random_seed in ((6, 2, 1), (60, 7, 2)):
        seeded = make(db, learners=learners, activities=activities, random_seed=random_seed)
        _grouped(db, seeded)
        filters = Filters(group="North", since=(NOW - timedelta(days=40)).date())
        with count_queries() as queries:
            board = dashboard.build(db, seeded.designer, seeded.context, filters, now=NOW)
        assert board.completion and board.criteria
        counts.append(queries.count)
    assert counts[0] == counts[1], counts


def test_an_unknown_or_overlong_group_is_refused_with_the_reason(db: Session) -> None:
    seeded = make(db, learners=6, activities=1, random_seed=3)
    _grouped(db, seeded)
    with pytest.raises(FilterError, match="no group “West” in this course"):
        dashboard.build(db, seeded.designer, seeded.context, Filters(group="West"), now=NOW)
    with pytest.raises(FilterError, match="group must be chosen from the list"):
        Filters.from_args({"group": "x" * 201})
    assert Filters.from_args({"group": "  North  "}).group == "North"
    assert Filters.from_args({"group": " "}) == Filters()
    assert Filters(group="North", kind=None).query() == {"group": "North"}


def test_the_dashboard_page_offers_the_groups_and_filters_by_one(app: Flask, designer: Visitor) -> None:
    course = fill(app, designer, learners=12, activities=2)
    with session_scope(app) as session:
        replace_groups(
            session,
            course.context_id,
            GroupSource.ROSTER_CSV,
            {user_id: ["Team <b>A</b>" if number < 4 else "Team B"]
             for number, user_id in enumerate(course.written.learner_ids)},
        )
    page = designer.get(course.path)
    body = page.response.text
    assert '<option value="">Every group</option>' in body
    assert '<option value="Team &lt;b&gt;A&lt;/b&gt;">Team &lt;b&gt;A&lt;/b&gt;</option>' in body  # escaped
    filtered = designer.get(f"{course.path}?{urlencode({'group': 'Team <b>A</b>'})}")
    assert filtered.status == 200
    assert filtered.texts("expected-learners") == ["4"]
    assert "Team <b>A</b>:" in filtered.texts("summary")[0]
    assert '<option value="Team &lt;b&gt;A&lt;/b&gt;" selected>' in filtered.response.text
    assert "group=Team+%3Cb%3EA%3C/b%3E" in filtered.link("csv-completion")
    csv_page = designer.get(filtered.link("csv-completion"))
    assert csv_page.status == 200 and len(csv_page.response.text.splitlines()) == 3  # header + 2 activities
    calibration = designer.get(f"/courses/{course.context_id}/calibration?{urlencode({'group': 'Team B'})}")
    assert calibration.status == 200 and '<option value="Team B" selected>' in calibration.response.text
    refused = designer.get(f"{course.path}?group=Nobody")
    assert refused.status == 400 and "no group “Nobody” in this course" in refused.text


def test_a_launch_carrying_the_sections_parameter_sets_that_persons_groups(
    app: Flask, launch_visitor: Callable[..., Visitor]
) -> None:
    def groups_after(**custom: str) -> list[tuple[str, GroupSource]]:
        visitor = launch_visitor("learner", custom=custom or None)
        context_id = course_of(app, visitor)
        with session_scope(app) as session:
            return sorted(
                (name, source)
                for name, source in session.execute(
                    select(PersonGroup.name, PersonGroup.source).where(PersonGroup.context_id == context_id)
                )
            )

    assert groups_after(sections='["North", "Night shift"]') == [
        ("Night shift", GroupSource.PLATFORM),
        ("North", GroupSource.PLATFORM),
    ]
    assert groups_after() == [("Night shift", GroupSource.PLATFORM), ("North", GroupSource.PLATFORM)]
    assert groups_after(groups="South") == [("South", GroupSource.PLATFORM)]
    # A variable the platform did not substitute says nothing; an empty parameter, no group.
    assert groups_after(sections="$com.instructure.User.sectionNames") == [("South", GroupSource.PLATFORM)]
    assert groups_after(sections="") == []
