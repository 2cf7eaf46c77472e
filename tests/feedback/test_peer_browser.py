"""Peer assessment and peer coaching in a real browser (Debian's chromium), with axe-core's WCAG 2.2 AA
checks on every page: the designer draws peers, a learner reviews a peer with the rubric form, the reviewed
learner reads the anonymous review beside their self-assessment; the designer forms a pair, a member logs a
session (after a refused one, kept as typed) and the other member reads it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.feedback import test_peer_pages
from tests.feedback.test_peer_pages import PlacedPeers
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.programme import test_peer_coaching_pages
from tests.programme.test_peer_coaching_pages import PlacedCoaching
from tests.rubric_library.test_browser_first_use import open_as

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

placed_peers = test_peer_pages.placed_peers  # the fixtures: a peer assessment and a peer coaching set up
placed_coaching = test_peer_coaching_pages.placed_coaching


def test_a_peer_review_from_the_draw_to_the_reviewed_learners_page(
    page: Page,
    placed_peers: PlacedPeers,
    live_server: LiveServer,
) -> None:
    designer = placed_peers.designer
    open_as(page, live_server, designer, placed_peers.staff_path)
    expect(page.get_by_test_id("pairs-empty")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Reviews each learner gives and receives (k)").fill("1")
    page.get_by_test_id("save-peer-settings").click()
    expect(page.get_by_test_id("notice")).to_have_text("Peer settings saved.")
    page.get_by_test_id("assign-peers").click()
    expect(page.get_by_test_id("pair")).to_have_count(3)
    assert_accessible(page)

    (reviewee,) = [reviewee for reviewer, reviewee in placed_peers.pairs() if reviewer == "learner-ana"]
    ana = placed_peers.open("learner", user="learner-ana")
    open_as(page, live_server, ana, f"/activities/{placed_peers.activity_id}/peer-reviews")
    expect(page.get_by_test_id("review-status")).to_have_text("Not started")
    assert_accessible(page)
    page.get_by_test_id("review-link").click()
    page.wait_for_selector("main h1")
    expect(page.locator("main h1")).to_contain_text("Your review of")
    for radio in page.locator("input[type=radio][name^=level-]").all():
        if radio.get_attribute("value") == "consistent":
            radio.check()
    page.locator("input[type=radio][name=level-effect-on-results]").first.check()
    page.locator("input[type=radio][name=level-consistency]").first.check()
    page.locator("textarea[name=comment-next-step]").fill("Plan the next call together.")
    page.locator("textarea[name=strengths]").fill("Asked open questions.")
    assert_accessible(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_have_text("Review submitted.")

    them = placed_peers.open("learner", user=reviewee)
    open_as(page, live_server, them, f"/activities/{placed_peers.activity_id}/feedback")
    expect(page.get_by_test_id("given-feedback")).to_have_count(1)
    expect(page.locator("main h2").filter(has_text="Feedback from")).to_have_text(
        "Feedback from Peer reviewer 1"
    )
    assert "Ana Lima" not in page.content()
    assert_accessible(page)


def test_a_peer_coaching_session_logged_and_read_by_the_other_member(
    page: Page,
    placed_coaching: PlacedCoaching,
    live_server: LiveServer,
) -> None:
    open_as(page, live_server, placed_coaching.designer, f"{placed_coaching.path}/groups")
    assert_accessible(page)
    page.get_by_label("Ana Lima").check()
    page.get_by_label("Ben Okafor").check()
    page.get_by_test_id("create-group").click()
    expect(page.get_by_test_id("notice")).to_have_text("Group formed.")
    expect(page.get_by_test_id("group")).to_have_count(1)
    assert_accessible(page)

    ana = placed_coaching.open("learner", user="learner-ana")
    open_as(page, live_server, ana, placed_coaching.path)
    expect(page.get_by_test_id("peer-sessions-empty")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Whose experience the session took up").select_option(label="Ben Okafor")
    page.get_by_label("1. A recent managerial experience: what happened?").fill("My team missed the release.")
    page.get_by_test_id("log-peer-session").click()
    expect(page.get_by_test_id("problem-summary")).to_be_visible()
    assert page.locator("[aria-invalid=true]").count() == 2  # the idea and the reflection
    expect(page.get_by_label("1. A recent managerial experience: what happened?")).to_have_value(
        "My team missed the release."
    )
    assert_accessible(page)
    page.get_by_label("2. The course's idea you read it in the light of").select_option(
        "Coach before you tell"
    )
    page.get_by_label("3. Reflection: what does the idea show about the experience?").fill(
        "I told, not asked."
    )
    page.get_by_test_id("log-peer-session").click()
    expect(page.get_by_test_id("notice")).to_have_text("Session logged: your group sees it.")
    expect(page.get_by_test_id("peer-session")).to_have_count(1)
    assert_accessible(page)

    ben = placed_coaching.open("learner", user="learner-ben")
    open_as(page, live_server, ben, placed_coaching.path)
    expect(page.get_by_test_id("peer-session")).to_contain_text("My team missed the release.")
    expect(page.get_by_test_id("edit-session")).to_have_count(0)
    assert_accessible(page)
