"""docs/xapi-profile.md says what the code does: its generated parts equal the code's, examples included."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from xapi import examples as ex
from xapi.documentation import IDENTITIES, read_sections, rewrite, sections
from xapi.profile import TEMPLATES
from xapi.statements import BUILDERS, statement_id, timestamp
from xapi.vocabulary import PROFILE_IRI, PROFILE_VERSION_IRI, ActivityType, Extension, Verb

DOCUMENT = Path(__file__).parents[2] / "docs" / "xapi-profile.md"
REGENERATE = "regenerate: .venv/bin/python -m xapi.documentation docs/xapi-profile.md"


@pytest.fixture(scope="module")
def document() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list(sections()))
def test_each_generated_part_of_the_document_is_the_codes(document: str, name: str) -> None:
    assert read_sections(document)[name] == sections()[name], REGENERATE


def test_rewriting_an_up_to_date_document_changes_nothing(document: str) -> None:
    assert rewrite(document) == document


def test_the_document_has_one_example_per_event_equal_to_the_builders_output(document: str) -> None:
    examples = read_sections(document)["examples"]
    blocks = re.findall(r"#### Example: (.+?)\n\n```json\n(.*?)\n```", examples, re.S)
    assert [name for name, _ in blocks] == list(ex.EXAMPLES)
    statements = ex.example_statements()
    for name, body in blocks:
        assert json.loads(body) == statements[name], name
    assert {type(event) for event in ex.EXAMPLES.values()} == set(BUILDERS)


def test_every_iri_is_in_the_document(document: str) -> None:
    for concept in (*Verb.ALL, *ActivityType.ALL, *Extension.ALL):
        assert f"`{concept.iri}`" in document, concept.iri
    for iri in (PROFILE_IRI, PROFILE_VERSION_IRI):
        assert f"`{iri}`" in document
    assert f"{PROFILE_IRI}/templates/<name>" in document
    assert {template.name for template in TEMPLATES} == set(IDENTITIES)


def _platform(event: object) -> str:
    for name in ("learner", "actor", "respondent", "author", "assessor", "manager", "owner"):
        person = getattr(event, name, None)
        if person is not None:
            return person.platform_issuer
    return ""


PLACEHOLDERS = {
    "<launch id>": lambda e: e.launch_id,
    "<submission id>": lambda e: e.submission_id,
    "<assessment id>": lambda e: e.assessment_id,
    "<revision>": lambda e: e.revision,
    "<comment id>": lambda e: e.comment_id,
    "<activity IRI>": lambda e: e.activity.iri,
    "<LTI sub>": lambda e: e.learner.lti_sub,
    "<response id>": lambda e: e.response_id,
    "<nomination id>": lambda e: e.nomination.nomination_id,
    "<follow-up id>": lambda e: e.follow_up.follow_up_id,
    "<conversation id>": lambda e: e.conversation_id,
    "<refresher id>": lambda e: e.refresher_id,
    "<session id>": lambda e: e.session_id,
    "<time it was saved>": lambda e: timestamp(e.saved_at),
    "<id of the voided statement>": lambda e: e.statement_id,
    "<platform issuer>": _platform,
}


@pytest.mark.parametrize("name", list(ex.EXAMPLES))
def test_the_documented_identity_of_each_event_gives_its_statement_id(name: str) -> None:
    event = ex.EXAMPLES[name]
    identity = IDENTITIES[BUILDERS[type(event)].__name__]
    for placeholder, value in PLACEHOLDERS.items():
        if placeholder in identity:
            identity = identity.replace(placeholder, str(value(event)))
    assert "<" not in identity, identity
    assert statement_id(ex.DEPLOYMENT, identity) == ex.example_statements()[name]["id"]
