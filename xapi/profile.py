"""Cadre's xAPI Profile (xAPI Profiles 1.0, JSON-LD): the concepts Cadre mints and a template per event.

The document is built from ``xapi.vocabulary`` and the templates below, and shipped as
``xapi/profile.jsonld`` (a test keeps the file equal to :func:`build_profile`; ``python -m xapi.profile``
rewrites it). Concepts defined by other profiles (ADL's verbs, Activity Streams, Tin Can) are only
*referenced* by the templates: the specification forbids a profile to define another profile's concept.

No Patterns: the specification requires every statement that names a profile in its category to follow
one of its primary patterns within one registration; Cadre's events come in no fixed order (a manager may
assess before the learner launches) and carry no registration, so a pattern would only be broken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from xapi.vocabulary import (
    ACTIVITY_TYPE_BY_KIND,
    KINDS,
    LANGUAGE,
    PROFILE_IRI,
    PROFILE_VERSION_IRI,
    ActivityType,
    Concept,
    Extension,
    ExtensionConcept,
    Verb,
)

PROFILES_CONTEXT = "https://w3id.org/xapi/profiles/context"
PROFILES_SPECIFICATION = "https://w3id.org/xapi/profiles#1.0"
VERSION_GENERATED_AT = "2026-12-03T00:00:00Z"
MEDIA_TYPE = "application/ld+json"

EXTENSION_TYPES = {
    "context": "ContextExtension", "result": "ResultExtension", "activity": "ActivityExtension",
}

RELATED_CONCEPTS: dict[str, dict[str, list[str]]] = {
    Verb.NOMINATED.iri: {"relatedMatch": ["http://activitystrea.ms/invite", "http://activitystrea.ms/request"]},
}
"""Links from Cadre's own concepts to published ones that mean something close (for discovery)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A Statement Template rule: a JSONPath location and what must (not) be there."""

    location: str
    presence: str | None = "included"
    any: tuple[Any, ...] = ()
    all: tuple[Any, ...] = ()
    none: tuple[Any, ...] = ()
    scope_note: str = ""

    def to_jsonld(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"location": self.location}
        if self.presence:
            rule["presence"] = self.presence
        for name in ("any", "all", "none"):
            if getattr(self, name):
                rule[name] = list(getattr(self, name))
        if self.scope_note:
            rule["scopeNote"] = {LANGUAGE: self.scope_note}
        return rule


@dataclass(frozen=True, slots=True)
class Template:
    """A Statement Template, named like the builder in ``xapi.statements`` that follows it."""

    name: str
    label: str
    definition: str
    verb: Concept
    object_type: Concept | None = None
    parent_types: tuple[Concept, ...] = ()
    grouping_types: tuple[Concept, ...] = ()
    context_statement_templates: tuple[str, ...] = ()
    object_statement_templates: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    context_note: str = ""
    """For the document, where parent and grouping vary."""

    @property
    def iri(self) -> str:
        return template_iri(self.name)

    def to_jsonld(self) -> dict[str, Any]:
        template: dict[str, Any] = {
            "id": self.iri,
            "type": "StatementTemplate",
            "inScheme": PROFILE_VERSION_IRI,
            "prefLabel": {LANGUAGE: self.label},
            "definition": {LANGUAGE: self.definition},
            "verb": self.verb.iri,
        }
        if self.object_type is not None:
            template["objectActivityType"] = self.object_type.iri
        if self.grouping_types:
            template["contextGroupingActivityType"] = [concept.iri for concept in self.grouping_types]
        if self.parent_types:
            template["contextParentActivityType"] = [concept.iri for concept in self.parent_types]
        template["contextCategoryActivityType"] = [ActivityType.PROFILE.iri]
        if self.object_statement_templates:
            template["objectStatementRefTemplate"] = [
                template_iri(name) for name in self.object_statement_templates
            ]
        if self.context_statement_templates:
            template["contextStatementRefTemplate"] = [
                template_iri(name) for name in self.context_statement_templates
            ]
        if self.rules:
            template["rules"] = [rule.to_jsonld() for rule in self.rules]
        return template


def template_iri(name: str) -> str:
    return f"{PROFILE_IRI}/templates/{name.replace('_', '-')}"


def _extension(concept: ExtensionConcept) -> str:
    where = {"context": "context", "result": "result", "activity": "object.definition"}[concept.placement]
    return f"$.{where}.extensions['{concept.iri}']"


def _timestamp_and_actor() -> tuple[Rule, ...]:
    return (
        Rule("$.id", scope_note="uuid5 of the event's identity in the deployment's namespace: a retried "
             "event gives the same id."),
        Rule("$.timestamp", scope_note="When the event happened, in UTC."),
        Rule("$.actor.objectType", all=("Agent",)),
    )


def _activity_rules(kinds: tuple[str, ...]) -> tuple[Rule, ...]:
    return (
        *_timestamp_and_actor(),
        Rule("$.context.platform", all=("Cadre",)),
        Rule("$.context.language"),
        Rule(_extension(Extension.ACTIVITY_KIND), all=kinds),
    )


ASSESSMENT_KINDS = tuple(
    kind for kind, concept in ACTIVITY_TYPE_BY_KIND.items() if concept is ActivityType.ASSESSMENT
)
ALL_KINDS = tuple(kind for kind in KINDS if kind != "refresher")
"""What can be launched, submitted or completed: every activity kind (a refresher has its own template)."""
COURSE = (ActivityType.COURSE,)
ACTIVITY_TYPES = (ActivityType.ASSESSMENT, ActivityType.SURVEY, ActivityType.MEETING)
ACTIVITY_TYPE_IRIS = tuple(concept.iri for concept in ACTIVITY_TYPES)

TEMPLATES: tuple[Template, ...] = (
    Template(
        "launched", "Launched an activity",
        "Someone opened a Cadre activity from their learning platform (an LTI resource link launch). The "
        "object is the activity, its parent the course.",
        Verb.LAUNCHED, parent_types=COURSE,
        rules=(*_activity_rules(ALL_KINDS), Rule("$.object.definition.type", all=ACTIVITY_TYPE_IRIS)),
    ),
    Template(
        "submitted", "Submitted a work product",
        "A learner handed in a work product for an activity, or shared their relationship map for review "
        "(the submission id then starts with relationship-map-share-; the statement names no relationship); "
        "each submission is its own statement.",
        Verb.SUBMITTED, parent_types=COURSE,
        rules=(*_activity_rules(ALL_KINDS), Rule("$.result.completion", all=(True,))),
    ),
    Template(
        "evaluated", "Assessed with a rubric",
        "One submitted revision of a manager, peer or self assessment, in the learner's record: the actor is "
        "the learner, the assessor the instructor (none for a self assessment). The result has the total "
        "(raw, min, max, scaled) unless the rubric gives levels only, and each criterion's level and points.",
        Verb.SCORED, object_type=ActivityType.ASSESSMENT, parent_types=COURSE,
        rules=(
            *_activity_rules(ASSESSMENT_KINDS),
            Rule("$.result.completion", all=(True,)),
            Rule("$.result.score", presence="recommended",
                 scope_note="Absent when the rubric gives levels only."),
            Rule("$.result.success", presence="recommended",
                 scope_note="Only when the activity sets a pass mark."),
            Rule(_extension(Extension.CRITERIA), presence="recommended"),
            Rule(_extension(Extension.ASSESSOR_ROLE), all=("manager", "peer", "self")),
            Rule(_extension(Extension.ASSESSMENT_REVISION)),
            Rule(_extension(Extension.RUBRIC_ID), presence="recommended"),
            Rule(_extension(Extension.RUBRIC_VERSION), presence="recommended"),
            Rule("$.context.instructor", presence="recommended",
                 scope_note="The assessor; absent when the learner assessed themself."),
        ),
    ),
    Template(
        "revised", "Revised an assessment",
        "The assessor submitted a new revision of an assessment. The context's statement is the new "
        "revision's scored statement; the previous revision's scored statement is voided.",
        Verb.UPDATED, object_type=ActivityType.ASSESSMENT, parent_types=COURSE,
        context_statement_templates=("evaluated",),
        rules=(*_activity_rules(ASSESSMENT_KINDS), Rule(_extension(Extension.ASSESSMENT_REVISION))),
    ),
    Template(
        "commented", "Replied to feedback",
        "Someone replied to an assessment; the reply is the result's response, and the context's statement "
        "is the scored statement replied to.",
        Verb.COMMENTED, parent_types=COURSE, context_statement_templates=("evaluated",),
        rules=(*_activity_rules(ASSESSMENT_KINDS), Rule("$.result.response")),
    ),
    Template(
        "completed", "Completed an activity",
        "A learner finished an activity (once per learner and activity).",
        Verb.COMPLETED, parent_types=COURSE,
        rules=(*_timestamp_and_actor(), Rule(_extension(Extension.ACTIVITY_KIND)),
               Rule("$.result.completion", all=(True,))),
    ),
    Template(
        "survey_answered", "Answered a survey",
        "Someone (usually a manager) answered a survey activity; the answers are a result extension.",
        Verb.ANSWERED, object_type=ActivityType.SURVEY, parent_types=COURSE,
        rules=(*_activity_rules(("manager_insight_survey",)), Rule("$.result.completion", all=(True,)),
               Rule(_extension(Extension.ANSWERS), presence="recommended")),
    ),
    Template(
        "manager_nominated", "Nominated a manager",
        "A learner nominated someone as their manager in a course; the nominee is the instructor. The object "
        "is the nomination, which the nominee's acceptance names too.",
        Verb.NOMINATED, object_type=ActivityType.NOMINATION, parent_types=COURSE,
        rules=(*_timestamp_and_actor(), Rule("$.context.instructor")),
    ),
    Template(
        "nomination_accepted", "Accepted a nomination",
        "The nominee accepted a learner's nomination; the context's statement is the nomination's.",
        Verb.ACCEPTED, object_type=ActivityType.NOMINATION, parent_types=COURSE,
        context_statement_templates=("manager_nominated",),
        rules=_timestamp_and_actor(),
    ),
    Template(
        "follow_up_scheduled", "Scheduled a follow-up",
        "A follow-up (a survey owed by one respondent, usually a manager six months after training) was "
        "scheduled. The actor is who scheduled it, Cadre's own agent when Cadre did; the respondent and the "
        "due time are context extensions. The parent is the follow-up activity, the grouping the course.",
        Verb.SCHEDULED, object_type=ActivityType.SURVEY, parent_types=(ActivityType.SURVEY,),
        grouping_types=COURSE,
        rules=(*_activity_rules(("six_month_follow_up",)), Rule(_extension(Extension.DUE_AT)),
               Rule(_extension(Extension.RESPONDENT))),
    ),
    Template(
        "follow_up_answered", "Answered a follow-up",
        "The respondent answered a follow-up; the context's statement is its scheduling.",
        Verb.ANSWERED, object_type=ActivityType.SURVEY, parent_types=(ActivityType.SURVEY,),
        grouping_types=COURSE, context_statement_templates=("follow_up_scheduled",),
        rules=(*_activity_rules(("six_month_follow_up",)), Rule("$.result.completion", all=(True,)),
               Rule(_extension(Extension.ANSWERS), presence="recommended")),
    ),
    Template(
        "career_conversation_held", "Held a career conversation",
        "A learner held a career conversation with their manager, who is the instructor.",
        Verb.ATTENDED, object_type=ActivityType.MEETING, parent_types=COURSE,
        rules=(*_activity_rules(("career_conversation",)), Rule("$.context.instructor")),
    ),
    Template(
        "coaching_session_logged", "Logged a coaching session",
        "Someone logged a coaching or mentoring session they held or received. The object is the session, "
        "its parent the coaching log, the grouping the course; the result is its length and the kind is a "
        "context extension. A changed session is a new statement and voids the previous one; a deleted "
        "one is voided. What was said and the owner's well-being check are never in it.",
        Verb.ATTENDED, object_type=ActivityType.MEETING, parent_types=(ActivityType.MEETING,),
        grouping_types=COURSE,
        rules=(*_activity_rules(("coaching_log",)), Rule(_extension(Extension.COACHING_KIND)),
               Rule("$.result.duration"), Rule("$.result.completion", all=(True,)),
               Rule("$.result.response", presence="excluded")),
    ),
    Template(
        "peer_coaching_session_held", "Attended a peer-coaching session",
        "A member of a peer-coaching pair or triad attended a session of their group, one statement per "
        "member. The object is the session, its parent the group, the grouping the peer-coaching activity "
        "and the course; the context's team is the group's other members. What the session was about (the "
        "experience, the idea, the reflection) is never in it.",
        Verb.ATTENDED, object_type=ActivityType.MEETING, parent_types=(ActivityType.PEER_GROUP,),
        grouping_types=(ActivityType.MEETING, *COURSE),
        rules=(*_activity_rules(("peer_coaching",)), Rule("$.context.team", presence="recommended"),
               Rule("$.result.completion", all=(True,)), Rule("$.result.response", presence="excluded")),
    ),
    Template(
        "refresher_completed", "Completed a refresher",
        "A learner finished a refresher. Its parent is the activity it refreshes (the course is then the "
        "grouping), or the course.",
        Verb.COMPLETED, object_type=ActivityType.LESSON,
        rules=(*_activity_rules(("refresher",)), Rule("$.result.completion", all=(True,))),
        context_note="the refreshed activity / course, or the course alone",
    ),
)

TEMPLATES = (
    *TEMPLATES,
    Template(
        "voided", "Voided a statement",
        "A statement of this profile no longer holds: an assessment withdrawn or superseded by a revision, "
        "or a person's records erased. The object is a StatementRef; the statement carries nothing else.",
        Verb.VOIDED, object_statement_templates=tuple(template.name for template in TEMPLATES),
        rules=(*_timestamp_and_actor(), Rule("$.object.objectType", all=("StatementRef",)),
               Rule("$.result", presence="excluded"), Rule("$.context.platform", presence="excluded")),
        context_note="none (category only)",
    ),
)

TEMPLATE_BY_NAME = {template.name: template for template in TEMPLATES}


def _concept(concept: Concept, concept_type: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": concept.iri,
        "type": concept_type,
        "inScheme": PROFILE_VERSION_IRI,
        "prefLabel": {LANGUAGE: concept.label},
        "definition": {LANGUAGE: concept.definition},
    }
    document.update(RELATED_CONCEPTS.get(concept.iri, {}))
    return document


def _extension_concept(concept: ExtensionConcept) -> dict[str, Any]:
    document = _concept(concept, EXTENSION_TYPES[concept.placement])
    recommended = sorted({
        template.verb.iri for template in TEMPLATES
        if any(concept.iri in rule.location for rule in template.rules)
    })
    if recommended:
        document["recommendedVerbs"] = recommended
    if concept.value_schema:
        document["inlineSchema"] = json.dumps(concept.value_schema, sort_keys=True)
    return document


def build_profile() -> dict[str, Any]:
    """The profile document, as served at ``/xapi/profile`` and shipped as ``xapi/profile.jsonld``."""
    concepts = [
        *(_concept(verb, "Verb") for verb in Verb.ALL if verb.minted),
        *(_concept(kind, "ActivityType") for kind in ActivityType.ALL if kind.minted),
        *(_extension_concept(extension) for extension in Extension.ALL if extension.minted),
    ]
    return {
        "@context": PROFILES_CONTEXT,
        "id": PROFILE_IRI,
        "type": "Profile",
        "conformsTo": PROFILES_SPECIFICATION,
        "prefLabel": {LANGUAGE: "Cadre: managers in the loop of learning"},
        "definition": {
            LANGUAGE: "Statements from Cadre, an LTI 1.3 tool where managers give rubric-based feedback and "
            "assessments on their people's training: launches, work products, manager, peer and self "
            "assessments, replies, surveys, nominations, follow-ups, career conversations, coaching "
            "sessions and refreshers. "
            "Actors are platform accounts (the platform's issuer and the LTI sub) unless the deployment "
            "chose e-mail identification."
        },
        "versions": [{"id": PROFILE_VERSION_IRI, "generatedAtTime": VERSION_GENERATED_AT}],
        "author": {"type": "Organization", "name": "Cadre"},
        "concepts": concepts,
        "templates": [template.to_jsonld() for template in TEMPLATES],
    }


def serialised_profile() -> str:
    """The profile as ``xapi/profile.jsonld`` holds it (stable key order, two-space indent, newline)."""
    return json.dumps(build_profile(), indent=2, ensure_ascii=False) + "\n"


def shipped_profile() -> str:
    """The packaged document (what ``GET /xapi/profile`` answers)."""
    return resources.files("xapi").joinpath("profile.jsonld").read_text(encoding="utf-8")


if __name__ == "__main__":
    target = resources.files("xapi").joinpath("profile.jsonld")
    with resources.as_file(target) as path:
        path.write_text(serialised_profile(), encoding="utf-8")
        print(f"wrote {path}")
