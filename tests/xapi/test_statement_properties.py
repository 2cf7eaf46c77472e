"""Whatever plain data an event is made of, once the event accepts it, its statement is one Cadre stores.

A statement refused at storage would lose its event (the store raises in the event's transaction), so
odd platform data (subs, titles, e-mail addresses, time zones) must be refused when the event is made or
turned into something valid, never passed on to fail later.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xapi import Deployment, IdentityMode, InvalidEvent, build, validate
from xapi import examples as ex
from xapi.events import (
    Activity,
    AssessorRole,
    Commented,
    Course,
    CriterionResult,
    Evaluated,
    Launched,
    Person,
    Rubric,
    Score,
    SurveyAnswered,
)
from xapi.statements import usable_email
from xapi.vocabulary import ACTIVITY_TYPE_BY_KIND

texts = st.text(min_size=1, max_size=40).filter(str.strip)
ids = st.one_of(st.integers(min_value=0, max_value=2**53), texts)
hosts = st.from_regex(r"\A[a-z0-9]{1,12}(\.[a-z0-9-]{1,10}){0,2}\.[a-z]{2,6}\Z")
issuers = st.builds(lambda host, path: f"https://{host}{path}", hosts,
                    st.sampled_from(["", "/moodle", "/lti/13", "/ünï"]))
emails = st.one_of(st.none(), st.emails(), texts)
people = st.builds(Person, issuers, texts, emails)
moments = st.datetimes(min_value=ex.AT.replace(year=2000, tzinfo=None),
                       max_value=ex.AT.replace(year=2100, tzinfo=None), timezones=st.timezones())
modes = st.sampled_from(list(IdentityMode))
decimals = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def scores(draw: st.DrawFn) -> Score:
    low, high = sorted(draw(st.lists(decimals, min_size=2, max_size=2, unique=True)))
    raw = draw(st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False))
    return Score(raw, high, low)


criteria = st.builds(
    CriterionResult, texts, texts, st.none() | st.integers(1, 9), st.none() | st.integers(1, 9),
    st.none() | decimals, st.none() | decimals, st.lists(texts, max_size=3).map(tuple),
)


def course_and_activity(deployment: Deployment, kinds: list[str]):
    return st.tuples(
        st.builds(Course, ids.map(deployment.course_iri), texts),
        st.builds(Activity, ids.map(deployment.activity_iri), texts, st.sampled_from(kinds)),
    )


ASSESSMENTS = [kind for kind, concept in ACTIVITY_TYPE_BY_KIND.items() if concept.label == "assessment"]
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def stored_ok(deployment: Deployment, event: object) -> None:
    statement = build(deployment, event)
    assert validate(statement) is statement


@SLOW
@given(data=st.data(), mode=modes, actor=people, launch_id=ids, at=moments)
def test_any_launch_makes_a_valid_statement(data, mode, actor, launch_id, at) -> None:
    deployment = dataclasses.replace(ex.DEPLOYMENT, identity=mode)
    course, activity = data.draw(course_and_activity(deployment, list(ACTIVITY_TYPE_BY_KIND)))
    stored_ok(deployment, Launched(actor, course, activity, launch_id, at))


@SLOW
@given(data=st.data(), mode=modes, learner=people, assessor=people, assessment_id=ids,
       revision=st.integers(1, 99), at=moments, score=st.none() | scores(),
       lines=st.lists(criteria, max_size=4).map(tuple), success=st.none() | st.booleans(),
       rubric=st.none() | st.builds(Rubric, texts, st.integers(1, 500)))
def test_any_assessment_makes_a_valid_statement(
    data, mode, learner, assessor, assessment_id, revision, at, score, lines, success, rubric
) -> None:
    deployment = dataclasses.replace(ex.DEPLOYMENT, identity=mode)
    course, activity = data.draw(course_and_activity(deployment, ASSESSMENTS))
    role = AssessorRole.SELF if assessor.same_person(learner) else data.draw(
        st.sampled_from([AssessorRole.MANAGER, AssessorRole.PEER])
    )
    event = Evaluated(learner, assessor, role, course, activity, assessment_id, revision, at, rubric, score,
                      lines, success)
    statement = build(deployment, event)
    assert validate(statement) is statement
    if score is not None:
        assert -1 <= statement["result"]["score"]["scaled"] <= 1


@SLOW
@given(data=st.data(), mode=modes, author=people, text=texts, at=moments, comment_id=ids)
def test_any_reply_makes_a_valid_statement(data, mode, author, text, at, comment_id) -> None:
    deployment = dataclasses.replace(ex.DEPLOYMENT, identity=mode)
    course, activity = data.draw(course_and_activity(deployment, ASSESSMENTS))
    stored_ok(deployment, Commented(author, course, activity, comment_id, text, 41, 1, at))


answer_values = st.one_of(texts, st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False))


@SLOW
@given(data=st.data(), respondent=people, at=moments, response_id=ids,
       answers=st.dictionaries(texts, answer_values, max_size=4))
def test_any_survey_answer_makes_a_valid_statement(data, respondent, at, response_id, answers) -> None:
    course, activity = data.draw(course_and_activity(ex.DEPLOYMENT, ["manager_insight_survey"]))
    stored_ok(ex.DEPLOYMENT, SurveyAnswered(respondent, course, activity, response_id, at, answers))


@given(email=st.one_of(st.emails(), texts))
def test_an_email_is_sent_only_when_xapi_accepts_it(email: str) -> None:
    person = Person(ex.PLATFORM, "sub-1", email=email)
    statement = build(Deployment(ex.DEPLOYMENT.public_url, identity=IdentityMode.MBOX),
                      dataclasses.replace(ex.EXAMPLES["launched"], actor=person))
    validate(statement)
    if usable_email(person) is None:
        assert statement["actor"]["account"] == {"homePage": ex.PLATFORM, "name": "sub-1"}
    else:
        assert statement["actor"]["mbox"] == f"mailto:{email.strip().lower()}"


@given(value=st.one_of(texts, st.just("https://moodle.example.com/a b"), st.just("https://x/{y}")))
def test_an_issuer_is_accepted_exactly_when_it_is_an_iri(value: str) -> None:
    import rfc3987

    if rfc3987.match(value, rule="IRI") is None:
        try:
            Person(value, "1")
        except InvalidEvent as refusal:
            assert "Person.platform_issuer must be an absolute IRI" in str(refusal)
        else:
            raise AssertionError(f"{value!r} was accepted")
    else:
        Person(value, "1")


def test_a_wrong_language_tag_is_refused() -> None:
    try:
        Deployment("https://cadre.example.com", language="english")
    except InvalidEvent as refusal:
        assert "Deployment.language must be a language tag" in str(refusal)
    else:
        raise AssertionError("accepted")


def test_decimal_points_keep_their_value() -> None:
    event = dataclasses.replace(ex.EXAMPLES["evaluated (manager)"], score=Score(Decimal("2.25"), 3))
    statement = build(ex.DEPLOYMENT, event)
    assert statement["result"]["score"] == {"scaled": 0.75, "raw": 2.25, "min": 0, "max": 3}
