"""xAPI statement-resource parameters (``xapi.query``): every parameter read, every malformed one refused
with its name and the reason, and the ids/canonical answer formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from xapi.query import (
    QueryError,
    StatementFormat,
    accepted_languages,
    canonical_form,
    checked_agent,
    ids_form,
    parse_statement_query,
)

STATEMENT_ID = "6f1c2b1e-0c5e-4a57-9f0e-2d3c4b5a6e7f"
LEARNER = {"objectType": "Agent", "name": "Ada", "account": {"homePage": "https://lms.example", "name": "42"}}


def parse(**values: str):  # type: ignore[no-untyped-def]
    return parse_statement_query(values.items(), extra=("course", "cursor"))


def test_no_parameters_asks_for_the_newest_statements_in_exact_form() -> None:
    query = parse()
    assert (query.limit, query.ascending, query.format, query.attachments, query.single) == \
        (0, False, StatementFormat.EXACT, False, False)
    assert query.agent is None and query.verb is None and query.since is None


def test_every_parameter_is_read() -> None:
    query = parse(agent=json.dumps(LEARNER), verb="http://adlnet.gov/expapi/verbs/completed",
                  activity="https://cadre.example/activities/7", registration=STATEMENT_ID.upper(),
                  related_activities="true", related_agents="true", since="2026-12-01T09:30:00Z",
                  until="2026-12-02T10:00:00+01:00", limit="25", format="ids", attachments="false",
                  ascending="true", course="ops-202")
    assert query.agent == LEARNER
    assert query.verb == "http://adlnet.gov/expapi/verbs/completed"
    assert query.activity == "https://cadre.example/activities/7"
    assert query.registration == STATEMENT_ID  # lower case, as stored
    assert query.related_activities and query.related_agents and query.ascending and not query.attachments
    assert query.since == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert query.until == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert query.limit == 25 and query.format is StatementFormat.IDS
    assert query.extra == {"course": "ops-202"}


def test_a_statement_id_is_a_single_query() -> None:
    assert parse(statementId=STATEMENT_ID, format="ids").single
    assert parse(voidedStatementId=STATEMENT_ID, attachments="true").single


@pytest.mark.parametrize(("values", "parameter", "words"), [
    ({"statementId": "42"}, "statementId", "UUID"),
    ({"voidedStatementId": "not-a-uuid"}, "voidedStatementId", "UUID"),
    ({"registration": "x"}, "registration", "UUID"),
    ({"statementId": STATEMENT_ID, "verb": "http://x.example/v"}, "statementId",
     "cannot be combined with verb"),
    ({"voidedStatementId": STATEMENT_ID, "limit": "1"}, "voidedStatementId", "cannot be combined with limit"),
    ({"verb": "completed"}, "verb", "IRI"),
    ({"activity": "no scheme"}, "activity", "IRI"),
    ({"limit": "-1"}, "limit", "whole number"),
    ({"limit": "ten"}, "limit", "whole number"),
    ({"limit": "1e3"}, "limit", "whole number"),
    ({"ascending": "yes"}, "ascending", "true or false"),
    ({"related_agents": "1"}, "related_agents", "true or false"),
    ({"related_activities": "True"}, "related_activities", "true or false"),
    ({"attachments": "maybe"}, "attachments", "true or false"),
    ({"format": "full"}, "format", "ids, exact or canonical"),
    ({"since": "yesterday"}, "since", "ISO 8601"),
    ({"until": "2026-12-01T09:30:00"}, "until", "time zone"),
    ({"agent": "{not json"}, "agent", "JSON"),
    ({"agent": "[1]"}, "agent", "JSON object"),
    ({"agent": json.dumps({"name": "Ada"})}, "agent", "exactly one"),
    ({"agent": json.dumps({"mbox": "mailto:a@x.example", "openid": "http://x.example/a"})}, "agent",
     "exactly one"),
    ({"agent": json.dumps({"mbox": "a@x.example"})}, "agent", "mailto"),
    ({"agent": json.dumps({"mbox_sha1sum": "abc"})}, "agent", "40 hexadecimal"),
    ({"agent": json.dumps({"account": {"name": "42"}})}, "agent", "homePage"),
    ({"agent": json.dumps({"account": {"homePage": "lms", "name": "42"}})}, "agent", "IRL"),
    ({"agent": json.dumps({"objectType": "Activity", "mbox": "mailto:a@x.example"})}, "agent", "objectType"),
    ({"sort": "stored"}, "sort", "not a parameter"),
    ({"verb": "http://x.example/" + "v" * 5000}, "verb", "longer than"),
])
def test_a_malformed_parameter_is_named_with_the_reason(values: dict[str, str], parameter: str,
                                                        words: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse(**values)
    assert refused.value.parameter == parameter
    assert words in refused.value.reason


def test_a_parameter_given_twice_is_refused() -> None:
    with pytest.raises(QueryError) as refused:
        parse_statement_query([("verb", "http://a.example/v"), ("verb", "http://b.example/v")])
    assert refused.value.parameter == "verb" and "more than once" in refused.value.reason


def test_caller_parameters_are_refused_unless_the_caller_accepts_them() -> None:
    with pytest.raises(QueryError):
        parse_statement_query([("course", "ops-202")])
    assert parse_statement_query([("course", "ops-202")], extra=["course"]).extra == {"course": "ops-202"}


@pytest.mark.parametrize("agent", [
    {"mbox": "mailto:ada@example.com"},
    {"objectType": "Agent", "mbox_sha1sum": "A" * 40},
    {"openid": "https://id.example/ada"},
    {"objectType": "Group", "account": {"homePage": "https://lms.example", "name": "team-1"}},
])
def test_agents_with_one_identifier_are_accepted(agent: dict) -> None:  # type: ignore[type-arg]
    assert checked_agent(agent) == agent


STATEMENT = {
    "id": STATEMENT_ID,
    "actor": LEARNER,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed",
             "display": {"en-US": "completed", "fr": "terminé"}},
    "object": {"objectType": "Activity", "id": "https://cadre.example/activities/7",
               "definition": {"name": {"en-GB": "Coaching", "de": "Coaching DE"},
                              "type": "http://adlnet.gov/expapi/activities/assessment"}},
    "context": {"instructor": {"name": "Boss", "mbox": "mailto:boss@example.com"},
                "contextActivities": {"parent": [{"id": "https://lms.example/course/2",
                                                  "definition": {"name": {"en": "Course"}}}]}},
    "authority": {"objectType": "Agent", "name": "Cadre", "account": {"homePage": "https://c.example",
                                                                      "name": "cadre"}},
}


def test_ids_format_keeps_only_identifiers() -> None:
    reduced = ids_form(STATEMENT)
    assert reduced["actor"] == {"objectType": "Agent", "account": LEARNER["account"]}
    assert reduced["verb"] == {"id": STATEMENT["verb"]["id"]}
    assert reduced["object"] == {"objectType": "Activity", "id": "https://cadre.example/activities/7"}
    assert reduced["context"]["instructor"] == {"objectType": "Agent", "mbox": "mailto:boss@example.com"}
    assert reduced["context"]["contextActivities"]["parent"] == [
        {"id": "https://lms.example/course/2", "objectType": "Activity"}]
    assert "name" not in reduced["authority"]
    assert STATEMENT["verb"]["display"]["fr"] == "terminé"  # the stored statement is untouched


def test_ids_format_keeps_an_anonymous_groups_members() -> None:
    group = {"objectType": "Group", "name": "Team", "member": [{"name": "Ada", "mbox": "mailto:a@x.example"}]}
    reduced = ids_form({**STATEMENT, "actor": group})
    assert reduced["actor"] == {"objectType": "Group", "member": [{"objectType": "Agent",
                                                                   "mbox": "mailto:a@x.example"}]}


def test_canonical_format_keeps_the_asked_language_of_each_map() -> None:
    french = canonical_form(STATEMENT, accepted_languages("fr;q=0.9, de;q=0.8"))
    assert french["verb"]["display"] == {"fr": "terminé"}
    assert french["object"]["definition"]["name"] == {"de": "Coaching DE"}  # no French: the next choice
    english = canonical_form(STATEMENT, ["en"])
    assert english["verb"]["display"] == {"en-US": "completed"}  # "en" matches en-US
    assert english["object"]["definition"]["name"] == {"en-GB": "Coaching"}
    nothing_asked = canonical_form(STATEMENT, [])
    assert nothing_asked["verb"]["display"] == {"en-US": "completed"}  # the first entry
    assert nothing_asked["actor"] == LEARNER  # an agent's name is no language map


def test_accept_language_is_read_best_first() -> None:
    assert accepted_languages("de;q=0.5, fr, en-GB;q=0.8, *;q=0.1, es;q=0") == ["fr", "en-GB", "de"]
    assert accepted_languages(None) == [] and accepted_languages("") == []
