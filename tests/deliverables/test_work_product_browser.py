"""A learner's upload in Debian chromium (no Cadre cookie, the launch in the tab as after a launch): the file
input, a refused file shown beside its field with the text kept, the submitted versions, the manager
downloading the file from the feedback form and reviewing it, and the learner reading that review. axe-core
finds no WCAG 2.2 AA violation on the learner's pages and the work product beside the form."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from lti_tool.deliverables import uploads
from tests.deliverables.test_work_product_pages import PDF, Review, review  # noqa: F401 - the fixture
from tests.feedback.conftest import LEVELS
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.rubric_library.test_browser_first_use import open_as


def test_a_learner_uploads_their_work_and_the_manager_downloads_and_reviews_it(
    page: Page, live_server: LiveServer, review: Review, tmp_path: Path  # noqa: F811
) -> None:
    notes = tmp_path / "call notes.pdf"
    notes.write_bytes(PDF)
    script = tmp_path / "notes.html"
    script.write_bytes(b"<script>alert(1)</script>")
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-" + b"0" * 20_001)

    ana = review.open("learner", user="learner-ana")
    open_as(page, live_server, ana, review.page_path)
    expect(page.get_by_test_id("required-note")).to_be_visible()
    assert_accessible(page)

    # Too big for the limit: said beside the field before anything is sent (a file over the request's limit
    # would otherwise be refused before the form is read, losing the text).
    page.get_by_label("Your work, as text").fill("Notes of the **Acme** call.")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.get_by_label("Files").set_input_files([str(big)])
    page.get_by_test_id("submit-work-product").click()
    expect(page.get_by_test_id("browser-problems")).to_have_text(
        uploads.TOO_BIG.format(name="big.pdf", limit="20 KB"))
    expect(page.get_by_label("Files")).to_have_attribute("aria-invalid", "true")
    assert posts == []
    assert_accessible(page)

    # A refused file: the message beside the field, the text as typed, nothing stored.
    page.get_by_label("Files").set_input_files([str(script)])
    page.get_by_test_id("submit-work-product").click()
    problems = page.locator("[data-testid=problems][data-field=files]")
    expect(problems).to_contain_text("“notes.html” is not a kind of file Cadre accepts")
    expect(page.get_by_label("Your work, as text")).to_have_value("Notes of the **Acme** call.")
    expect(page.get_by_label("Files")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
    assert review.files_on_disk() == []

    page.get_by_label("Files").set_input_files([str(notes)])
    page.get_by_test_id("submit-work-product").click()
    expect(page.get_by_test_id("notice")).to_have_text(
        "Version 1 submitted: your manager sees it beside their feedback form.")
    expect(page.get_by_test_id("work-product-text")).to_have_text("Notes of the Acme call.")
    expect(page.get_by_test_id("file-link")).to_have_text("call notes.pdf")
    assert_accessible(page)
    assert len(review.files_on_disk()) == 1

    # Ana's line manager reviews it beside the feedback form and downloads the file.
    omar = review.open("manager")
    manager_page = page.context.new_page()
    open_as(manager_page, live_server, omar,
            f"/activities/{review.activity_id}/people/{review.user_id('learner-ana')}/feedback")
    section = manager_page.get_by_test_id("work-product-review")
    expect(section).to_contain_text("Notes of the Acme call.")
    expect(manager_page.get_by_test_id("work-product-missing")).to_have_count(0)
    assert_accessible(manager_page, "[data-testid=work-product-review]")
    # Without a Cadre cookie the link's page asks again with the tab's launch and saves the answer (the
    # script then goes back to the form).
    with manager_page.expect_download() as download_info:
        section.get_by_test_id("file-link").click()
    download = download_info.value
    assert download.suggested_filename == "call notes.pdf"
    assert Path(download.path()).read_bytes() == PDF

    # Back on the form, Omar reviews the work with the rubric and submits; Ana reads his feedback.
    expect(manager_page.get_by_test_id("feedback-form")).to_be_visible()
    for criterion, level in LEVELS.items():
        manager_page.locator(f"input[name='level-{criterion}'][value='{level}']").check()
    manager_page.locator("#field-comment-next-step").fill("Plan the next call together.")
    manager_page.get_by_test_id("submit").click()
    expect(manager_page.get_by_test_id("notice")).to_have_text("Feedback submitted.")
    open_as(page, live_server, ana, f"/activities/{review.activity_id}/feedback")
    expect(page.get_by_test_id("given-feedback")).to_contain_text("Plan the next call together.")
