"""Cadre's xAPI Profile: valid against the specification's structure, in step with the builders."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from xapi import IdentityMode, build
from xapi import examples as ex
from xapi.profile import TEMPLATE_BY_NAME, TEMPLATES, build_profile, serialised_profile, shipped_profile
from xapi.statements import BUILDERS
from xapi.vocabulary import PROFILE_IRI, PROFILE_VERSION_IRI, ActivityType, Extension, Verb

SCHEMA = json.loads((Path(__file__).parent / "xapi-profile.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def schema_errors(document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, error.path))}: {error.message}" for error in VALIDATOR.iter_errors(document)]


def all_statements() -> list[dict[str, Any]]:
    return [
        build(dataclasses.replace(ex.DEPLOYMENT, identity=mode), event)
        for mode in IdentityMode for event in ex.EXAMPLES.values()
    ]


# --- the document -----------------------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)


def test_the_profile_validates_against_the_specifications_schema() -> None:
    assert schema_errors(build_profile()) == []


def test_the_shipped_file_is_the_built_profile() -> None:
    assert shipped_profile() == serialised_profile(), "run: .venv/bin/python -m xapi.profile"
    assert json.loads(shipped_profile())["id"] == PROFILE_IRI


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (lambda p: p.pop("versions"), "'versions' is a required property"),
        (lambda p: p.update(type="Vocabulary"), "'Profile' was expected"),
        (lambda p: p["prefLabel"].clear(), "should be non-empty"),
        (lambda p: p.update(concepts=[]), "should be non-empty"),
        (lambda p: p["versions"][0].update(generatedAtTime="yesterday"), "is not a 'date-time'"),
        (lambda p: p["concepts"][0].update(type="Verbb"), "is not one of"),
        (lambda p: p["concepts"][0].pop("inScheme"), "'inScheme' is a required property"),
        (lambda p: p["concepts"][0].update(id="not an iri"), "is not a 'iri'"),
        (lambda p: p["concepts"][-1].update(schema="https://x.example/s", inlineSchema="{}"),
         "should not be valid"),
        (lambda p: p["templates"][-1].update(objectActivityType=ActivityType.COURSE.iri),
         "should not be valid"),
        (lambda p: p["templates"][0]["rules"].append({"location": "$.result"}), "is not valid under any"),
        (lambda p: p.update(patterns=[{"id": f"{PROFILE_IRI}/patterns/p", "type": "Pattern", "primary": True,
                                       "sequence": ["a:b"], "optional": "a:c"}]), "is valid under each"),
        (lambda p: p.update(surprise=True), "'surprise' does not match any of the regexes"),
    ],
)
def test_the_schema_refuses_what_the_specification_forbids(spoil, complaint) -> None:
    profile = copy.deepcopy(build_profile())
    spoil(profile)
    errors = schema_errors(profile)
    assert any(complaint in error for error in errors), errors


def test_the_profile_defines_only_cadres_own_concepts() -> None:
    """xAPI Profiles 7.0: a profile must not define a concept another profile defines (ADL's verbs …)."""
    for concept in build_profile()["concepts"]:
        assert concept["id"].startswith(f"{PROFILE_IRI}/"), concept["id"]
        assert concept["inScheme"] == PROFILE_VERSION_IRI


def test_every_template_is_named_after_a_builder_and_every_builder_has_one() -> None:
    assert {template.name for template in TEMPLATES} == {builder.__name__ for builder in BUILDERS.values()}


# --- the profile and the builders agree --------------------------------------------------------------


def iris_used(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {"verbs": set(), "types": set(), "extensions": set()}
    for statement in statements:
        used["verbs"].add(statement["verb"]["id"])
        activities = [statement["object"]] + [
            activity for group in statement.get("context", {}).get("contextActivities", {}).values()
            for activity in group
        ]
        used["types"].update(a["definition"]["type"] for a in activities if "definition" in a)
        for holder in (statement.get("context", {}), statement.get("result", {})):
            used["extensions"].update(holder.get("extensions", {}))
    return used


def test_every_iri_the_builders_use_is_in_the_profile_and_every_iri_of_the_profile_is_used() -> None:
    profile = build_profile()
    in_templates = {
        "verbs": {template["verb"] for template in profile["templates"]},
        "types": {
            iri for template in profile["templates"]
            for key in ("objectActivityType", "contextParentActivityType", "contextGroupingActivityType",
                        "contextCategoryActivityType")
            for iri in ([template[key]] if isinstance(template.get(key), str) else template.get(key, []))
        },
        "extensions": set(re.findall(r"\['([^']+)'\]", json.dumps(profile["templates"]))),
    }
    defined = {concept["id"] for concept in profile["concepts"]}
    used = iris_used(all_statements())
    assert used == in_templates
    assert used["verbs"] == {verb.iri for verb in Verb.ALL}
    assert used["types"] == {activity_type.iri for activity_type in ActivityType.ALL}
    assert used["extensions"] == {extension.iri for extension in Extension.ALL}
    minted = {iri for group in used.values() for iri in group if iri.startswith(PROFILE_IRI)}
    assert minted == defined


def test_extensions_are_declared_where_the_builders_put_them() -> None:
    kinds = {concept["id"]: concept["type"] for concept in build_profile()["concepts"]}
    for statement in all_statements():
        for place, expected in (("context", "ContextExtension"), ("result", "ResultExtension")):
            for iri in statement.get(place, {}).get("extensions", {}):
                assert kinds[iri] == expected, (iri, place)


# --- statements follow their templates ----------------------------------------------------------------


def json_path(statement: dict[str, Any], location: str) -> list[Any]:
    """The values at a location of the simple form Cadre's rules use: ``$.a.b['iri']``."""
    values: list[Any] = [statement]
    for step in re.findall(r"\.([A-Za-z]+)|\['([^']+)'\]", location.removeprefix("$")):
        key = step[0] or step[1]
        values = [value[key] for value in values if isinstance(value, dict) and key in value]
    return values


def follows(statement: dict[str, Any], template: dict[str, Any]) -> list[str]:
    """What in ``statement`` breaks ``template`` (determining properties, StatementRefs, rules)."""
    broken = []
    activities = statement.get("context", {}).get("contextActivities", {})

    def types(group: str) -> set[str]:
        return {a.get("definition", {}).get("type") for a in activities.get(group, [])}

    if statement["verb"]["id"] != template["verb"]:
        broken.append("verb")
    if "objectActivityType" in template and statement["object"].get("definition", {}).get("type") != \
            template["objectActivityType"]:
        broken.append("objectActivityType")
    for key, group in (("contextParentActivityType", "parent"), ("contextGroupingActivityType", "grouping"),
                       ("contextCategoryActivityType", "category")):
        if not set(template.get(key, [])) <= types(group):
            broken.append(key)
    if "objectStatementRefTemplate" in template and statement["object"].get("objectType") != "StatementRef":
        broken.append("objectStatementRefTemplate")
    if "contextStatementRefTemplate" in template and "statement" not in statement.get("context", {}):
        broken.append("contextStatementRefTemplate")
    for rule in template.get("rules", []):
        values = json_path(statement, rule["location"])
        presence = rule.get("presence")
        if presence == "included" and not values or presence == "excluded" and values:
            broken.append(f"{rule['location']} {presence}")
        if values and "all" in rule and any(value not in rule["all"] for value in values):
            broken.append(f"{rule['location']} not all in {rule['all']}")
    return broken


def matches(statement: dict[str, Any], template: dict[str, Any]) -> bool:
    """Whether the statement has the template's determining properties (so the template applies)."""
    determining = [problem for problem in follows(statement, template) if " " not in problem]
    return not determining


@pytest.mark.parametrize("mode", list(IdentityMode))
@pytest.mark.parametrize("name", list(ex.EXAMPLES))
def test_each_statement_follows_its_template_and_every_template_it_matches(name: str, mode) -> None:
    event = ex.EXAMPLES[name]
    statement = build(dataclasses.replace(ex.DEPLOYMENT, identity=mode), event)
    own = TEMPLATE_BY_NAME[BUILDERS[type(event)].__name__].to_jsonld()
    assert follows(statement, own) == []
    for template in build_profile()["templates"]:
        if matches(statement, template):
            assert follows(statement, template) == [], template["id"]


def test_the_conformance_check_itself_notices_a_broken_rule() -> None:
    statement = build(ex.DEPLOYMENT, ex.EXAMPLES["evaluated (manager)"])
    del statement["context"]["extensions"][Extension.ASSESSOR_ROLE.iri]
    statement["context"]["platform"] = "Moodle"
    problems = follows(statement, TEMPLATE_BY_NAME["evaluated"].to_jsonld())
    assert f"$.context.extensions['{Extension.ASSESSOR_ROLE.iri}'] included" in problems
    assert "$.context.platform not all in ['Cadre']" in problems


def test_every_extension_value_the_builders_write_fits_the_profiles_inline_schema() -> None:
    schemas = {
        concept["id"]: json.loads(concept["inlineSchema"])
        for concept in build_profile()["concepts"] if "inlineSchema" in concept
    }
    assert set(schemas) == {extension.iri for extension in Extension.ALL}
    checked = 0
    for statement in all_statements():
        for holder in (statement.get("context", {}), statement.get("result", {})):
            for iri, value in holder.get("extensions", {}).items():
                jsonschema.validate(value, schemas[iri], format_checker=jsonschema.FormatChecker())
                checked += 1
    assert checked > 50
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"criterion": "c", "level": "l"}], schemas[Extension.CRITERIA.iri])


def test_the_activity_kinds_are_cadres() -> None:
    from lti_tool.states import ActivityKind
    from xapi.vocabulary import ACTIVITY_TYPE_BY_KIND, KINDS

    assert set(KINDS) == {kind.value for kind in ActivityKind} | {"refresher"} == set(ACTIVITY_TYPE_BY_KIND)
