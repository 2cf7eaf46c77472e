"""The kinds of activity a designer can place in a course with Cadre (deep linking).

The kind travels to the platform as the custom parameter ``cadre_kind`` of the content item, and the
activity itself as ``cadre_activity``; both come back in every launch of it. The keys are
:class:`lti_tool.states.ActivityKind`; this module says what each is, for people, and what its settings
start as.
"""

from __future__ import annotations

from dataclasses import dataclass

from lti_tool.states import ActivityKind, Assessors

CUSTOM_PARAMETER = "cadre_kind"
ACTIVITY_PARAMETER = "cadre_activity"

# The parts of the activity settings page (``deliverables/settings.html``) a kind may use; the title always.
INSTRUCTIONS = "instructions"
BRIEFING = "manager_briefing"
RUBRIC = "rubric"
DUE = "due"
GRADEBOOK = "gradebook"
FEEDBACK = "feedback"
"""Who gives the feedback, whether a work product comes first, and when learners see it."""
ALL_SETTINGS = frozenset({INSTRUCTIONS, BRIEFING, RUBRIC, DUE, GRADEBOOK, FEEDBACK})


@dataclass(frozen=True)
class KindInfo:
    kind: ActivityKind
    label: str
    description: str
    default_assessors: Assessors = Assessors.LINE_MANAGER
    work_product_required: bool = False
    settings: frozenset[str] = ALL_SETTINGS
    """The parts of the settings page that apply to the kind; the others are neither shown nor changed."""

    @property
    def key(self) -> str:
        return self.kind.value


ACTIVITY_KINDS: tuple[KindInfo, ...] = (
    KindInfo(ActivityKind.MANAGER_FEEDBACK, "Manager feedback on a learner",
             "The manager gives formal, documented feedback on each of their people."),
    KindInfo(ActivityKind.SKILL_ASSESSMENT, "Manager-led skill assessment",
             "The manager assesses a learner's skill against a rubric."),
    KindInfo(ActivityKind.WORK_PRODUCT_REVIEW, "Work-product review",
             "The learner submits a piece of work; their manager reviews it.", work_product_required=True),
    KindInfo(ActivityKind.SELF_ASSESSMENT, "Self assessment",
             "The learner rates themselves against a rubric, to compare with their manager's view.",
             default_assessors=Assessors.LEARNER),
    KindInfo(ActivityKind.PEER_ASSESSMENT, "Peer assessment",
             "Learners review the peers assigned to them against a rubric, anonymously or signed; each reads "
             "their peers' reviews beside their manager's feedback and their self-assessment."),
    KindInfo(ActivityKind.MANAGER_INSIGHT_SURVEY, "Manager insight survey",
             "Three questions for managers: which mistakes they observe, how often, and their "
             "business impact.", settings=frozenset({BRIEFING})),
    # A follow-up asks again with its source's own questions or rubric (its own settings panel).
    KindInfo(ActivityKind.SIX_MONTH_FOLLOW_UP, "Six-month follow-up",
             "About six months after training, managers say what changed.", settings=frozenset({BRIEFING})),
    KindInfo(ActivityKind.CAREER_CONVERSATION, "Career conversation",
             "A learner and their manager talk through where the learner's career could go.",
             settings=frozenset({INSTRUCTIONS, BRIEFING})),
    KindInfo(ActivityKind.COACHING_LOG, "Coaching log (80/20)",
             "Each person logs the coaching and mentoring sessions they hold or receive, against the aim "
             "of 80% coaching, with an optional private well-being check.",
             settings=frozenset({INSTRUCTIONS, BRIEFING})),
    KindInfo(ActivityKind.PEER_COACHING, "Peer coaching",
             "Learners coach each other in pairs or triads and log each session with a reflection on a "
             "recent managerial experience, seen by their group.", settings=frozenset({INSTRUCTIONS})),
    KindInfo(ActivityKind.RELATIONSHIP_MAP, "Strategic relationships",
             "The learner maps their network of operational and strategic relationships, sets goals for "
             "it, and their manager reviews it."),
)

_BY_KEY = {kind.key: kind for kind in ACTIVITY_KINDS}


def activity_kind(key: str | None) -> KindInfo | None:
    return _BY_KEY.get(key or "")


def kind_info(kind: ActivityKind) -> KindInfo:
    return _BY_KEY[kind.value]
