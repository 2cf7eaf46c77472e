"""Every IRI Cadre's statements use: verbs, activity types and extensions, each with why it was chosen.

Established vocabularies come first (ADL's, Activity Streams 1.0 as published in the ADL vocabulary,
Tin Can's registry); Cadre mints an IRI only where none says what Cadre means, under its profile's base.

The base is one fixed IRI, not a deployment's public URL: a verb means the same in every Cadre, and the
IRIs already stored in an LRS stay valid when a deployment moves to another host (statements are never
edited). ``docs/xapi-profile.md`` explains the choice; every deployment serves the document itself at
``{public_url}/xapi/profile``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PROFILE_IRI = "https://w3id.org/xapi/cadre"
"""The profile's id (and the base of the IRIs Cadre mints), following ADL's profiles (w3id.org/xapi/…)."""
PROFILE_VERSION = "1.0"
PROFILE_VERSION_IRI = f"{PROFILE_IRI}/v1.0"
"""Statements name this version as a ``category`` context activity (xAPI Profiles, part two, 5.0)."""
PROFILE_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/profile"

LANGUAGE = "en"
"""The language of the display names below (a statement's ``context.language`` is the event's own)."""


class Source(StrEnum):
    """Where an IRI comes from (the profile document lists it as the concept's ``inScheme``)."""

    ADL = "http://adlnet.gov/expapi/verbs/"
    ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"
    ACTIVITY_STREAMS = "http://activitystrea.ms/schema/1.0.0"
    TIN_CAN = "http://id.tincanapi.com/"
    CADRE = PROFILE_VERSION_IRI


@dataclass(frozen=True, slots=True)
class Concept:
    """One verb, activity type or extension: its IRI, the words people read, and why Cadre uses it."""

    iri: str
    label: str
    definition: str
    source: Source
    why: str

    @property
    def minted(self) -> bool:
        """True for IRIs Cadre defines (the profile must describe them); others are only referenced."""
        return self.source is Source.CADRE

    def display(self) -> dict[str, str]:
        return {LANGUAGE: self.label}


@dataclass(frozen=True, slots=True)
class ExtensionConcept(Concept):
    """An extension IRI and where it may appear (``context``, ``result`` or ``activity``)."""

    placement: str = "context"
    value_description: str = ""
    value_schema: dict[str, Any] = field(default_factory=dict)
    """A JSON Schema of the value (the profile's ``inlineSchema``; tests check the builders against it)."""


def _cadre(path: str) -> str:
    return f"{PROFILE_IRI}/{path}"


class Verb:
    """The verbs of Cadre's statements."""

    LAUNCHED = Concept(
        "http://adlnet.gov/expapi/verbs/launched", "launched",
        "The actor opened the activity from the learning platform (an LTI resource link launch).",
        Source.ADL, "ADL's verb for starting content from an LMS; cmi5 uses it for the same act.",
    )
    SUBMITTED = Concept(
        "http://activitystrea.ms/submit", "submitted",
        "The actor handed in a work product for the activity.",
        Source.ACTIVITY_STREAMS,
        "ADL's vocabulary has no 'submitted'; Activity Streams 1.0 'submit' (in the ADL vocabulary server "
        "and widely used by LMS plugins) means exactly this.",
    )
    SCORED = Concept(
        "http://adlnet.gov/expapi/verbs/scored", "scored",
        "The learner's performance on the activity was assessed with its rubric; the result carries the "
        "score and each criterion's level. The assessor is the statement's instructor.",
        Source.ADL,
        "ADL's verb for a result given to the learner; keeping the learner as the actor puts every "
        "assessment (manager, peer or self) in the learner's own record.",
    )
    COMMENTED = Concept(
        "http://adlnet.gov/expapi/verbs/commented", "commented",
        "The actor replied to feedback; the reply is the result's response and the feedback statement is "
        "the context's statement.",
        Source.ADL, "ADL's verb for a written opinion one party sends for another to read.",
    )
    UPDATED = Concept(
        "http://activitystrea.ms/update", "updated",
        "The assessor submitted a new revision of an assessment; the context's statement is the new scored "
        "statement, and the superseded one is voided.",
        Source.ACTIVITY_STREAMS,
        "ADL has no 'revised'; Activity Streams 'update' says the actor changed something they had made.",
    )
    COMPLETED = Concept(
        "http://adlnet.gov/expapi/verbs/completed", "completed",
        "The actor finished the activity (or a refresher).", Source.ADL, "ADL's verb, used as defined.",
    )
    ANSWERED = Concept(
        "http://adlnet.gov/expapi/verbs/answered", "answered",
        "The actor answered a survey or a follow-up; the answers are in the result.",
        Source.ADL, "ADL's verb for responding to questions; a survey is a set of questions.",
    )
    NOMINATED = Concept(
        _cadre("verbs/nominated"), "nominated",
        "The learner named someone as their manager for feedback in a course; the nominee is the context's "
        "instructor, and becomes the learner's manager only when they accept.",
        Source.CADRE,
        "No published vocabulary has it: Activity Streams 'invite' invites a person to join something, and "
        "'request' asks for a thing; a nomination proposes a relationship the nominee must accept.",
    )
    ACCEPTED = Concept(
        "http://activitystrea.ms/accept", "accepted",
        "The manager accepted a learner's nomination; the context's statement is the nomination.",
        Source.ACTIVITY_STREAMS, "Activity Streams 'accept' (accepting an assignment), used as defined.",
    )
    SCHEDULED = Concept(
        "http://activitystrea.ms/schedule", "scheduled",
        "A follow-up was scheduled for a respondent; the due time is a context extension.",
        Source.ACTIVITY_STREAMS, "Activity Streams 'schedule' (scheduling a meeting), used as defined.",
    )
    ATTENDED = Concept(
        "http://adlnet.gov/expapi/verbs/attended", "attended",
        "The learner held a career conversation with their manager (the context's instructor), or someone "
        "held or received a session of their coaching log.",
        Source.ADL, "ADL's verb for being present at a meeting; a career conversation and a coaching session "
        "are meetings.",
    )
    VOIDED = Concept(
        "http://adlnet.gov/expapi/verbs/voided", "voided",
        "The statement named by the object no longer holds (withdrawn, superseded or erased).",
        Source.ADL, "The only way xAPI lets a statement be taken back (xAPI 1.0.3, 2.3.2).",
    )

    ALL: tuple[Concept, ...] = (
        LAUNCHED, SUBMITTED, SCORED, COMMENTED, UPDATED, COMPLETED, ANSWERED, NOMINATED, ACCEPTED,
        SCHEDULED, ATTENDED, VOIDED,
    )


class ActivityType:
    """The activity types of Cadre's objects and context activities."""

    COURSE = Concept(
        "http://adlnet.gov/expapi/activities/course", "course",
        "A course (LTI context) on the learning platform.", Source.ADL_ACTIVITIES, "ADL's type, as defined.",
    )
    ASSESSMENT = Concept(
        "http://adlnet.gov/expapi/activities/assessment", "assessment",
        "An activity whose outcome is assessed with a rubric: manager feedback, skill assessment, work "
        "product review, self or peer assessment.",
        Source.ADL_ACTIVITIES,
        "ADL's type for a thing that measures performance; the activity kind extension says which kind.",
    )
    SURVEY = Concept(
        "http://id.tincanapi.com/activitytype/survey", "survey",
        "A set of questions without right answers: the manager insight survey, a six-month follow-up.",
        Source.TIN_CAN, "The Tin Can registry's survey type, which Moodle's xAPI plugins use too.",
    )
    MEETING = Concept(
        "http://adlnet.gov/expapi/activities/meeting", "meeting",
        "A career conversation between a learner and their manager, a coaching log, or one session of it.",
        Source.ADL_ACTIVITIES,
        "ADL's type for a gathering of people; a career conversation and a coaching session are ones.",
    )
    LESSON = Concept(
        "http://adlnet.gov/expapi/activities/lesson", "lesson",
        "A short refresher sent after training, timed by spacing or by a weak score.",
        Source.ADL_ACTIVITIES, "ADL's type for a unit of instruction; a refresher is a small one.",
    )
    NOMINATION = Concept(
        _cadre("activity-types/manager-nomination"), "manager nomination",
        "A learner's proposal that someone be their manager in a course.", Source.CADRE,
        "No published type names a proposed relationship; the nomination's own IRI lets the accepting "
        "statement and the nominating one name the same thing.",
    )
    PEER_GROUP = Concept(
        _cadre("activity-types/peer-coaching-group"), "peer-coaching group",
        "A pair or triad of learners who coach each other in a peer-coaching activity (the parent of its "
        "sessions).", Source.CADRE,
        "No published type names a small standing group of peers; ADL's meeting is the session, not who "
        "meets.",
    )
    PROFILE = Concept(
        PROFILE_ACTIVITY_TYPE, "profile",
        "The xAPI profile a statement follows (a category context activity).", Source.ADL_ACTIVITIES,
        "Required by the xAPI Profiles specification for naming a profile in a statement.",
    )

    ALL: tuple[Concept, ...] = (COURSE, ASSESSMENT, SURVEY, MEETING, LESSON, NOMINATION, PEER_GROUP, PROFILE)


KINDS = (
    "manager_feedback", "skill_assessment", "work_product_review", "self_assessment", "peer_assessment",
    "manager_insight_survey", "six_month_follow_up", "career_conversation", "coaching_log",
    "peer_coaching", "relationship_map", "refresher",
)
"""Cadre's activity kinds (``lti_tool.states.ActivityKind``'s values) and refreshers."""


class Extension:
    """The extension IRIs Cadre's statements carry (all minted: no published one says these things)."""

    ACTIVITY_KIND = ExtensionConcept(
        _cadre("extensions/activity-kind"), "activity kind",
        "Which kind of Cadre activity this is (manager_feedback, skill_assessment, work_product_review, "
        "self_assessment, peer_assessment, manager_insight_survey, six_month_follow_up, career_conversation, "
        "coaching_log, peer_coaching, relationship_map, refresher).",
        Source.CADRE, "An activity type is too coarse: five kinds are all assessments.",
        placement="context", value_description="string",
        value_schema={"type": "string", "enum": list(KINDS)},
    )
    RUBRIC_ID = ExtensionConcept(
        _cadre("extensions/rubric-id"), "rubric id",
        "The identifier of the rubric the activity is assessed with (stable across its versions).",
        Source.CADRE, "Lets an LRS group results by rubric across versions and courses.",
        placement="context", value_description="string",
        value_schema={"type": "string", "minLength": 1},
    )
    RUBRIC_VERSION = ExtensionConcept(
        _cadre("extensions/rubric-version"), "rubric version",
        "The rubric version the assessment was scored with (versions never change once used).",
        Source.CADRE, "Scores are only comparable within one version.",
        placement="context", value_description="integer, 1 or more",
        value_schema={"type": "integer", "minimum": 1},
    )
    ASSESSOR_ROLE = ExtensionConcept(
        _cadre("extensions/assessor-role"), "assessor role",
        "In what capacity the assessor assessed the learner: manager, peer or self.",
        Source.CADRE, "The instructor alone does not say whether a manager or a peer assessed.",
        placement="context", value_description="'manager', 'peer' or 'self'",
        value_schema={"type": "string", "enum": ["manager", "peer", "self"]},
    )
    ASSESSMENT_REVISION = ExtensionConcept(
        _cadre("extensions/assessment-revision"), "assessment revision",
        "Which submission of the assessment this is: 1 for the first, one more for each revision.",
        Source.CADRE, "A revised assessment gives a new statement; this says which one is newer.",
        placement="context", value_description="integer, 1 or more",
        value_schema={"type": "integer", "minimum": 1},
    )
    CRITERIA = ExtensionConcept(
        _cadre("extensions/criteria"), "criteria results",
        "Each rubric criterion's result: criterion id, level id, level number and count, points and maximum "
        "points (null when the rubric gives none), competency ids (CASE CFItem URIs where known).",
        Source.CADRE,
        "xAPI results carry one score; a rubric assessment has one per criterion, and competency reports "
        "need each criterion's competencies.",
        placement="result",
        value_description="array of objects: criterion, level, levelNumber, levelCount, points, maxPoints, "
        "competencies",
        value_schema={"type": "array", "items": {
            "type": "object",
            "required": [
                "criterion", "level", "levelNumber", "levelCount", "points", "maxPoints", "competencies",
            ],
            "properties": {
                "criterion": {"type": "string", "minLength": 1},
                "level": {"type": "string", "minLength": 1},
                "levelNumber": {"type": ["integer", "null"], "minimum": 1},
                "levelCount": {"type": ["integer", "null"], "minimum": 1},
                "points": {"type": ["number", "null"]},
                "maxPoints": {"type": ["number", "null"]},
                "competencies": {"type": "array", "items": {"type": "string", "minLength": 1}},
            },
            "additionalProperties": False,
        }},
    )
    ANSWERS = ExtensionConcept(
        _cadre("extensions/answers"), "survey answers",
        "A survey's or follow-up's answers, keyed by question id.", Source.CADRE,
        "A survey answer is several responses; xAPI's result.response holds one string.",
        placement="result", value_description="object: question id -> string or number",
        value_schema={"type": "object", "additionalProperties": {"type": ["string", "number"]}},
    )
    DUE_AT = ExtensionConcept(
        _cadre("extensions/due-at"), "due at",
        "When a scheduled follow-up is due (ISO 8601, UTC).", Source.CADRE,
        "A scheduled statement's timestamp is when it was scheduled, not when it is due.",
        placement="context", value_description="ISO 8601 timestamp",
        value_schema={"type": "string", "format": "date-time"},
    )
    RESPONDENT = ExtensionConcept(
        _cadre("extensions/respondent"), "respondent",
        "Who a scheduled follow-up is for: an xAPI Agent, identified like every actor.",
        Source.CADRE,
        "The actor of a scheduled statement is who scheduled it; xAPI has no context slot for the person "
        "the scheduled thing is for.",
        placement="context", value_description="xAPI Agent",
        value_schema={
            "type": "object", "required": ["objectType"], "properties": {"objectType": {"const": "Agent"}},
        },
    )
    COACHING_KIND = ExtensionConcept(
        _cadre("extensions/coaching-kind"), "coaching kind",
        "Whether a session of a coaching log was coaching (asking) or mentoring (telling).", Source.CADRE,
        "The 80/20 model compares the time spent on each; no published extension names them.",
        placement="context", value_description="'coaching' or 'mentoring'",
        value_schema={"type": "string", "enum": ["coaching", "mentoring"]},
    )

    ALL: tuple[ExtensionConcept, ...] = (
        ACTIVITY_KIND, RUBRIC_ID, RUBRIC_VERSION, ASSESSOR_ROLE, ASSESSMENT_REVISION, CRITERIA, ANSWERS,
        DUE_AT, RESPONDENT, COACHING_KIND,
    )


ACTIVITY_TYPE_BY_KIND: dict[str, Concept] = {
    "manager_feedback": ActivityType.ASSESSMENT,
    "skill_assessment": ActivityType.ASSESSMENT,
    "work_product_review": ActivityType.ASSESSMENT,
    "self_assessment": ActivityType.ASSESSMENT,
    "peer_assessment": ActivityType.ASSESSMENT,
    "manager_insight_survey": ActivityType.SURVEY,
    "six_month_follow_up": ActivityType.SURVEY,
    "career_conversation": ActivityType.MEETING,
    "coaching_log": ActivityType.MEETING,
    "peer_coaching": ActivityType.MEETING,
    "relationship_map": ActivityType.ASSESSMENT,
    "refresher": ActivityType.LESSON,
}
"""The activity type of each Cadre activity kind (``lti_tool.states.ActivityKind`` values, and refreshers)."""
