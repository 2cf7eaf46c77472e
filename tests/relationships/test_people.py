"""People and relationships over real HTTP from the demo platform: the roster from its NRPS service (paged),
names instead of LTI ids, the designer's assignments, learners' nominations, the roster CSV (page and
``cadre roster import``), and every refusal."""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.db import session_scope
from lti_tool.demo.platform import LmsUser
from lti_tool.lti.services import ACCESS_TOKENS, access_token_key
from lti_tool.models import AuditEntry, ManagerLink, Platform, RosterMember, User
from lti_tool.outbox import Worker, run_due_jobs
from lti_tool.relationships.roster import SCOPE_NRPS, parse_member
from lti_tool.states import ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus
from tests.fixtures.database import CountQueries
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import Page, Visitor, visitor_from


def user_id(app: Flask, sub: str) -> int:
    with session_scope(app) as session:
        found = session.scalar(select(User.id).where(User.sub == sub))
    assert found is not None, sub
    return found


def links(app: Flask) -> list[tuple[str, str, str, str]]:
    with session_scope(app) as session:
        rows = session.scalars(select(ManagerLink).order_by(ManagerLink.id))
        return [(row.manager.sub, row.learner.sub, row.relation.value, row.status.value) for row in rows]


def refresh(designer: Visitor) -> Page:
    return designer.submit(designer.get("/people"), "refresh-form")


def memberships_hits(platform: RunningPlatform) -> int:
    url = platform.lti.url(f"/api/contexts/{platform.lti.course.context_id}/memberships")
    return platform.server.mounts.hits[urllib.parse.urlsplit(url).path]


def test_the_roster_comes_page_by_page_from_the_platform_and_names_people_cadre_has_not_met(
    platform: RunningPlatform, app: Flask, launch_visitor: Callable[..., Visitor]
) -> None:
    omar = launch_visitor("manager")  # Canvas-style mentor scope: Ana and Ben, whom Cadre has not met
    not_met = "A learner not in the course roster yet (the course's designer refreshes the roster to show " \
              "their name)"
    assert omar.home.texts("managed-learner") == [not_met] * 2
    assert "learner-ana" not in omar.home.text  # never a raw LTI id

    platform.lti.nrps_page_size = 2
    people = platform.lti.course.people
    designer = launch_visitor("designer")
    # A cached token the platform no longer accepts: refused once (401), replaced, and the roster read.
    ACCESS_TOKENS.clear()
    ACCESS_TOKENS.put(access_token_key(platform.issuer, platform.client_id, [SCOPE_NRPS]), "revoked", 3600)
    before = memberships_hits(platform)
    page = refresh(designer)
    assert page.status == 200, page.text[:1500]
    assert page.texts("refreshed") == [f"Roster refreshed from the platform: {len(people)} active member(s)."]
    assert memberships_hits(platform) - before == 1 + math.ceil(len(people) / 2)  # the 401, then every page
    with session_scope(app) as session:
        stored = {member.user.sub: (member.name, member.email, member.login, member.role.value)
                  for member in session.scalars(select(RosterMember))}
    assert len(stored) == len(people)
    assert stored["learner-ana"] == ("Ana Lima", "ana.lima@example.com", "learner-ana", "learner")
    assert stored["manager-rita"][3] == "manager"
    assert [row["data-learner-id"] for row in page.attributes("learner")]  # learners listed
    assert "Ana Lima" in page.texts("learner-name")

    again = launch_visitor("manager")
    assert again.home.texts("managed-learner") == ["Ana Lima", "Ben Okafor"]

    # Someone the platform no longer lists stays (links point at them) but is no longer active.
    platform.lti.course.people = [person for person in people if person.sub != "learner-dev"]
    refresh(designer)
    with session_scope(app) as session:
        dev = session.scalar(select(RosterMember).join(User).where(User.sub == "learner-dev"))
        assert dev is not None and dev.active is False
    platform.lti.course.people = people


def test_a_platform_whose_next_page_leaves_its_site_is_not_followed_and_nothing_is_stored(
    platform: RunningPlatform, app: Flask, designer: Visitor
) -> None:
    from lti_tool.demo import app as demo_app

    real_member = demo_app._member
    platform.lti.nrps_page_size = 3
    original_url = platform.lti.url

    def hostile(path: str) -> str:  # the page links it writes from now on; the launch had the real URL
        if "/memberships" in path:
            return "http://127.0.0.2:9" + path
        return original_url(path)

    platform.lti.url = hostile  # type: ignore[method-assign]
    try:
        page = refresh(designer)
    finally:
        platform.lti.url = original_url  # type: ignore[method-assign]
    assert page.status == 502
    assert page.texts("refresh-problem") == [
        "The roster was not refreshed: The platform's next roster page is on another site than its roster "
        "service; Cadre did not follow it and stored nothing."]
    with session_scope(app) as session:
        assert session.scalars(select(RosterMember)).all() == []
    assert demo_app._member is real_member


def test_nrps_members_in_moodle_and_canvas_shapes() -> None:
    moodle = parse_member({"status": "Active", "user_id": "2", "name": "Ana Lima", "given_name": "Ana",
                           "family_name": "Lima", "email": "Ana.Lima@Example.com",
                           "ext_user_username": "alima",
                           "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]})
    assert moodle is not None and (moodle.email, moodle.login, moodle.active) == ("ana.lima@example.com",
                                                                                    "alima", True)
    canvas = parse_member({"status": "Inactive", "user_id": "535fa085-f258-4e6d-a0d6-e1de2b4a6a73",
                           "name": "Ben Okafor", "roles": ["Learner"], "message": [{
                               "https://purl.imsglobal.org/spec/lti/claim/message_type":
                                   "LtiResourceLinkRequest",
                               "https://www.instructure.com/canvas_user_login_id": "BOkafor"}]})
    assert canvas is not None and (canvas.login, canvas.email, canvas.active) == ("bokafor", None, False)
    hidden = parse_member({"user_id": 42, "roles": ["Learner"]})  # privacy settings: no name, no e-mail
    assert hidden is not None and hidden.user_id == "42" and hidden.name is None
    assert parse_member({"name": "No id"}) is None and parse_member("junk") is None


def test_the_designer_links_ends_and_relinks_keeping_the_history(
    platform: RunningPlatform, app: Flask, launch_visitor: Callable[..., Visitor]
) -> None:
    designer = launch_visitor("designer")
    refresh(designer)
    chloe, omar = user_id(app, "learner-chloe"), user_id(app, "manager-omar")
    page = designer.submit(designer.get("/people"), "add-link-form",
                           {"learner_id": str(chloe), "manager_id": str(omar), "relation": "coach"})
    assert page.status == 200 and page.texts("notice") == ["Link added."]
    assert ("manager-omar", "learner-chloe", "coach", "active") in links(app)
    (row,) = [r for r in page.attributes("link") if r["data-relation"] == "coach"]

    again = designer.submit(designer.get("/people"), "add-link-form",
                            {"learner_id": str(chloe), "manager_id": str(omar), "relation": "coach"})
    assert again.status == 400 and again.texts("problem") == ["Omar Haddad is already coach of Chloé Martin."]
    assert again.form("add-link-form").fields["relation"] == "coach"  # what was chosen is kept

    ended = designer.post(f"/people/links/{row['data-link-id']}/end")
    assert ended.status == 200 and ended.texts("notice")[0].startswith("Link ended.")
    assert ("manager-omar", "learner-chloe", "coach", "ended") in links(app)
    with session_scope(app) as session:
        link = session.get(ManagerLink, int(row["data-link-id"]))
        assert link is not None and link.ended_at is not None
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("manager_link.%")).order_by(AuditEntry.id))
        assert list(actions) == ["manager_link.set", "manager_link.end"]
    omar_home = launch_visitor("manager")
    assert "Chloé Martin" not in omar_home.home.texts("managed-learner")

    relinked = designer.submit(designer.get("/people"), "add-link-form",
                               {"learner_id": str(chloe), "manager_id": str(omar), "relation": "mentor"})
    assert relinked.status == 200
    assert ("manager-omar", "learner-chloe", "mentor", "active") in links(app)

    # Bad input: a learner as manager, oneself, a guessed id; nothing stored.
    before = links(app)
    for learner_id, manager_id, message in [
        (str(chloe), str(user_id(app, "learner-ben")), "Ben Okafor has no manager role in this course"),
        (str(omar), str(omar), "A person cannot be their own manager."),
        ("999999", str(omar), "The learner is not in this course's roster or people"),
        ("abc", str(omar), "The learner is not in this course's roster or people"),
    ]:
        refused = designer.post("/people/links", {"learner_id": learner_id, "manager_id": manager_id,
                                                  "relation": "line_manager"})
        assert refused.status == 400 and refused.texts("problem")[0].startswith(message)
    assert designer.post("/people/links", {"learner_id": str(chloe), "manager_id": str(omar),
                                           "relation": "boss"}).status == 400
    assert links(app) == before


def test_refusals_learners_cannot_assign_other_courses_and_guessed_ids_are_not_found(
    platform: RunningPlatform, app: Flask, launch_visitor: Callable[..., Visitor], other_designer: Visitor
) -> None:
    omar = launch_visitor("manager")
    ana = launch_visitor("learner")
    designer = launch_visitor("designer")
    refresh(designer)
    link_id = designer.get("/people").attributes("link")[0]["data-link-id"]
    before = links(app)

    for visitor in (ana, omar):
        for path in ("/people", "/people/links.csv"):
            page = visitor.get(path)
            assert page.status == 403 and "Only the course's designers and administrators" in page.text
        assert visitor.post(f"/people/links/{link_id}/end").status == 403
        assert visitor.post("/people/links", {"learner_id": "1", "manager_id": "2"}).status == 403
        assert visitor.post("/people/roster/refresh").status == 403
        assert visitor.post("/people/import", files={"file": ("x.csv", b"learner,manager\n")}).status == 403
    assert omar.get("/my-managers").status == 403
    assert ana.get("/nominations").status == 403

    # Another course's designer: the link is "not found", and stays in force.
    refused = other_designer.post(f"/people/links/{link_id}/end")
    assert refused.status == 404 and "belongs to another course" in refused.text
    assert designer.post("/people/links/999999/end").status == 404
    assert omar.post("/nominations/999999/accept").status == 404
    assert links(app) == before


def test_a_learner_nominates_a_manager_who_accepts_or_declines(
    platform: RunningPlatform, app: Flask, launch_visitor: Callable[..., Visitor]
) -> None:
    refresh(launch_visitor("designer"))
    ana = launch_visitor("learner")  # Ana: line managed by Omar; she nominates Rita as her coach
    rita_id = user_id(app, "manager-rita")
    page = ana.get(ana.home.link("my-managers-link"))
    assert page.status == 200
    sent = ana.submit(page, "nominate-form", {"manager_id": str(rita_id), "relation": "coach"})
    assert sent.status == 200
    assert sent.texts("notice") == ["Nomination sent: it waits for the manager's answer."]
    assert ("manager-rita", "learner-ana", "coach", "pending") in links(app)
    twice = ana.submit(page, "nominate-form", {"manager_id": str(rita_id), "relation": "coach"})
    assert twice.status == 400 and "have not answered yet" in twice.texts("problem")[0]

    omar = launch_visitor("manager")
    rita_first = launch_visitor("manager", user="manager-rita")
    (nomination,) = rita_first.get("/nominations").attributes("nomination")
    assert omar.post(f"/nominations/{nomination['data-link-id']}/accept").status == 404  # not his to answer

    rita = launch_visitor("manager", user="manager-rita")
    listed = rita.get(rita.home.link("nominations-link"))
    assert listed.texts("nominated-by") == ["Ana Lima"]
    accepted = rita.submit(listed, "accept-form")
    assert accepted.status == 200 and accepted.texts("no-nominations")
    assert ("manager-rita", "learner-ana", "coach", "active") in links(app)
    assert rita.post(f"/nominations/{nomination['data-link-id']}/decline").status == 404  # answered already

    ben = launch_visitor("learner", user="learner-ben")
    ben.submit(ben.get("/my-managers"), "nominate-form", {"manager_id": str(rita_id)})
    rita.submit(rita.get("/nominations"), "decline-form")
    assert ("manager-rita", "learner-ben", "line_manager", "declined") in links(app)
    assert ben.get("/my-managers").attributes("my-link")[-1]["data-status"] == "declined"
    assert "Ben Okafor" not in launch_visitor("manager", user="manager-rita").home.texts("managed-learner")


def test_roster_csv_reports_every_row_by_line_and_stores_all_or_nothing(
    platform: RunningPlatform, app: Flask, launch_visitor: Callable[..., Visitor], tmp_path: Path
) -> None:
    designer = launch_visitor("designer")
    refresh(designer)
    before = links(app)
    bad = (
        "Learner,Manager,Relation\n"
        "learner-ana,manager-rita,mentor\n"          # 2 matched (by LMS user id)
        "CHLOE.MARTIN@example.com,manager-omar,\n"   # 3 matched (by e-mail, any case; line manager)
        "nobody@example.com,manager-omar,coach\n"    # 4 not matched
        "learner-ben,manager-omar,boss\n"            # 5 invalid relation
        "learner-ben,,coach\n"                       # 6 invalid: no manager
        "learner-ana,manager-rita,coach\n"           # 7 invalid: repeats line 2
        "learner-dev,learner-ben,coach\n"            # 8 invalid: a learner as manager
    )
    page = designer.submit(designer.get("/people"), "import-form",
                           files={"file": ("links.csv", bad.encode(), "text/csv")})
    assert page.status == 400
    assert page.texts("import-summary") == ["Nothing was imported: 2 matched, 1 not matched, 4 invalid. "
                                            "Correct the rows below and upload the whole file again."]
    assert [(row["data-line"], row["data-state"]) for row in page.attributes("import-row")] == [
        ("2", "matched"), ("3", "matched"), ("4", "not_matched"), ("5", "invalid"), ("6", "invalid"),
        ("7", "invalid"), ("8", "invalid")]
    assert "Repeats line 2" in page.text and "Unknown relation 'boss'" in page.text
    assert links(app) == before  # all or nothing

    for data, message in [
        (b"", "Choose a CSV file to upload."),
        (b"name,email\nana,ana@example.com\n", "Line 1 must be a header row"),
        (b"learner,manager\n\xff\xfe", "The file is not UTF-8 text"),
        (b"learner,manager\n\"learner-ana,manager-rita\n",
         "Line 2: the file is not valid CSV (a quoted cell is never closed)"),
        (b"learner,manager\n" + b"a,b\n" * 300_000, "The file is larger than 1024 KB"),
    ]:
        refused = designer.submit(designer.get("/people"), "import-form",
                                  files={"file": ("links.csv" if data else "", data, "text/csv")})
        assert refused.status == 400, refused.text[:600]
        assert refused.texts("import-summary")[0].startswith(message)
    assert links(app) == before

    good = "learner,manager,relation\nlearner-ana,manager-rita,mentor\nCHLOE.MARTIN@example.com,manager-omar"
    done = designer.submit(designer.get("/people"), "import-form",
                           files={"file": ("links.csv", good.encode("utf-8-sig"), "text/csv")})
    assert done.status == 200 and done.texts("import-summary")[0].startswith("Imported: 2 matched")
    with session_scope(app) as session:
        chloe_omar = session.scalar(select(ManagerLink).join(User, User.id == ManagerLink.learner_id)
                                    .where(User.sub == "learner-chloe"))
        assert chloe_omar is not None and chloe_omar.source is ManagerLinkSource.ROSTER
        assert chloe_omar.relation is ManagerLinkRelation.LINE_MANAGER
        assert chloe_omar.status is ManagerLinkStatus.ACTIVE

    # The export is formula-safe and reads back.
    exported = designer.client.get("/people/links.csv", headers={"X-Cadre-Launch": designer.launch_token})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    header = "learner,manager,relation,group,status,learner_name,manager_name,since,ended"
    assert exported.text.splitlines()[0] == header

    # Importing the export again changes nothing: an ended link stays ended (the file says so), an invited
    # manager's row is left to its invitation.
    with session_scope(app) as session:
        chloe_omar = session.scalar(select(ManagerLink).join(User, User.id == ManagerLink.learner_id)
                                    .where(User.sub == "learner-chloe"))
        assert chloe_omar is not None
        chloe_omar.status, chloe_omar.ended_at = ManagerLinkStatus.ENDED, chloe_omar.created_at
    ended_export = designer.client.get("/people/links.csv",
                                       headers={"X-Cadre-Launch": designer.launch_token}).text
    assert ",Ended," in ended_export
    ended_export += "learner-ben,cadre-invited:0123abcd,line_manager,,Active,Ben,Paula,2026-12-01,\n"
    again = designer.submit(designer.get("/people"), "import-form",
                            files={"file": ("links.csv", ended_export.encode(), "text/csv")})
    assert again.status == 200, again.text[:1500]
    assert "left as they are" in again.texts("import-summary")[0]
    assert ("manager-omar", "learner-chloe", "line_manager", "ended") in links(app)
    assert {row["data-state"] for row in again.attributes("import-row")} == {"matched", "skipped"}

    # The command line: same rules, exit status 1 and nothing stored on a bad file.
    path = tmp_path / "links.csv"
    path.write_text("learner,manager,relation\nlearner-ben,manager-rita,coach\nghost,manager-rita,coach\n")
    course = platform.lti.course.context_id
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["roster", "import", "--course", course, str(path)])
    assert result.exit_code == 1
    assert "line 3: not matched: No one in the course's roster has this learner id" in result.output
    assert ("manager-rita", "learner-ben", "coach", "active") not in links(app)
    path.write_text("learner,manager,relation\nlearner-ben,manager-rita,coach\n")
    dry = runner.invoke(main, ["roster", "import", "--course", course, "--dry-run", str(path)])
    assert dry.exit_code == 0 and "dry run" in dry.output
    assert ("manager-rita", "learner-ben", "coach", "active") not in links(app)
    result = runner.invoke(main, ["roster", "import", "--course", course, str(path)])
    assert result.exit_code == 0, result.output
    assert ("manager-rita", "learner-ben", "coach", "active") in links(app)
    unknown = runner.invoke(main, ["roster", "import", "--course", "NOPE-1", str(path)])
    assert unknown.exit_code == 1 and "No course 'NOPE-1' is known to Cadre" in unknown.output


def test_the_periodic_job_refreshes_every_known_roster_through_the_outbox_once_per_period(
    platform: RunningPlatform, app: Flask, designer: Visitor
) -> None:
    # Nobody opened the people page: the job finds the course's roster service in its launches.
    with session_scope(app) as session:  # a name a spreadsheet would run as a formula, for the export
        ana = session.scalar(select(User).where(User.sub == "learner-ana"))
        if ana is None:
            session.add(User(platform_id=session.scalar(select(Platform.id).where(
                Platform.issuer == platform.issuer)), sub="learner-ana", name="=HYPERLINK(\"x\")"))
        else:
            ana.name = "=HYPERLINK(\"x\")"
    (first,) = run_due_jobs(app, names=["roster-refresh"])
    (again,) = run_due_jobs(app, names=["roster-refresh"])
    assert first.ran and first.summary == "1 roster refresh(es) enqueued" and not again.ran
    with session_scope(app) as session:
        assert session.scalars(select(RosterMember)).all() == []  # nothing fetched inside the job
    Worker(app).drain()
    with session_scope(app) as session:
        assert len(session.scalars(select(RosterMember)).all()) == len(platform.lti.course.people)
    page = designer.get("/people")
    assert page.texts("roster-status")[0].startswith(f"{len(platform.lti.course.people)} active member(s)")

    ana_id, omar_id = user_id(app, "learner-ana"), user_id(app, "manager-omar")
    assert ("manager-omar", "learner-ana", "line_manager", "active") not in links(app)
    added = designer.post("/people/links", {"learner_id": str(ana_id), "manager_id": str(omar_id)})
    assert added.status == 200
    exported = designer.client.get("/people/links.csv", headers={"X-Cadre-Launch": designer.launch_token})
    assert "'=HYPERLINK" in exported.text  # written as text, not a formula


def test_the_designers_page_costs_the_same_queries_for_8_or_68_people(
    platform: RunningPlatform, app: Flask, designer: Visitor, count_queries: CountQueries
) -> None:
    refresh(designer)
    designer.submit(designer.get("/people"), "import-form",
                    files={"file": ("links.csv", b"learner,manager\nlearner-ana,manager-rita\n")})
    with count_queries() as few:
        assert designer.get("/people").status == 200
    people = platform.lti.course.people
    platform.lti.course.people = people + [
        LmsUser(f"learner-{number}", "learner", f"Learner {number}", email=f"l{number}@example.com")
        for number in range(60)]
    try:
        refresh(designer)
        rows = "".join(f"learner-{number},manager-{'omar' if number % 2 else 'rita'}\n"
                       for number in range(60))
        imported = designer.submit(designer.get("/people"), "import-form",
                                   files={"file": ("links.csv", b"learner,manager\n" + rows.encode())})
        assert imported.status == 200, imported.texts("import-summary")
        with count_queries() as many:
            page = designer.get("/people")
        assert len(page.attributes("learner")) == 64 and len(page.attributes("link")) == 61
    finally:
        platform.lti.course.people = people
    assert many.count == few.count, many.statements


@pytest.mark.parametrize("profile", ["canvas", "moodle"])
def test_canvas_and_moodle_rosters_page_their_own_way(
    make_platform: Callable[..., RunningPlatform], app: Flask, profile: str
) -> None:
    lms = make_platform(profile)
    lms.lti.nrps_page_size = 3
    ACCESS_TOKENS.clear()
    designer = visitor_from(lms.launch_as("designer"), "designer")
    before = memberships_hits(lms)
    page = refresh(designer)
    people = lms.lti.course.people
    assert page.status == 200, page.text[:1000]
    assert page.texts("refreshed") == [f"Roster refreshed from the platform: {len(people)} active member(s)."]
    assert memberships_hits(lms) - before == math.ceil(len(people) / 3)
    with session_scope(app) as session:
        logins = {member.user.sub: member.login for member in session.scalars(select(RosterMember))}
    assert logins == {person.sub: person.sub for person in people}  # Canvas: from the member's message
