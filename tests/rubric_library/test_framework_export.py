"""Designers download a competency framework as the CASE package it was imported from; nobody else can."""

from __future__ import annotations

import json
from pathlib import Path

from lti_tool.permissions import FRAMEWORK_NOT_FOUND
from tests.fixtures.visitors import Visitor

SAMPLE = Path(__file__).parent.parent / "rubrics" / "data" / "opensalt_what_standards_could_be.json"


def import_sample(designer: Visitor) -> str:
    page = designer.submit(designer.get("/rubrics/import"), "import-form",
                           files={"file": ("framework.json", SAMPLE.read_bytes(), "application/json")})
    assert page.status == 200, page.text[:2000]
    (link,) = page.attributes("export-framework")
    return link["href"]


def test_the_framework_comes_back_with_its_hierarchy(designer: Visitor) -> None:
    href = import_sample(designer)
    exported = designer.client.get(href, headers={"X-Cadre-Launch": designer.launch_token})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    assert "attachment" in exported.headers["content-disposition"]
    original, package = json.loads(SAMPLE.read_text()), exported.json()
    assert len(package["CFAssociations"]) == len(original["CFAssociations"]) == 39
    identifiers = {item["identifier"] for item in package["CFItems"]}
    assert identifiers == {item["identifier"] for item in original["CFItems"]}


def test_other_courses_and_non_designers_cannot_download_it(
    designer: Visitor, other_designer: Visitor, learner: Visitor
) -> None:
    href = import_sample(designer)
    refused = other_designer.get(href)
    assert refused.status == 404 and refused.texts("error-message") == [FRAMEWORK_NOT_FOUND]
    assert other_designer.get("/rubrics/frameworks/2147483647/export.case.json").status == 404
    assert learner.get(href).status == 403
