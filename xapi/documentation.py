"""The generated parts of ``docs/xapi-profile.md``: vocabulary tables, templates, statement identities and
one example statement per event, all from the code, so the document cannot drift from the statements.

In the document each part sits between ``<!-- generated: NAME -->`` and ``<!-- end: NAME -->``; a test
compares them with :func:`sections`. ``python -m xapi.documentation docs/xapi-profile.md`` rewrites them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from xapi.examples import example_statements
from xapi.profile import TEMPLATES
from xapi.vocabulary import ActivityType, Concept, Extension, Source, Verb

SOURCE_NAMES = {
    Source.ADL: "[ADL vocabulary](https://w3id.org/xapi/adl)",
    Source.ADL_ACTIVITIES: "[ADL vocabulary](https://w3id.org/xapi/adl)",
    Source.ACTIVITY_STREAMS: "[Activity Streams 1.0](http://activitystrea.ms/specs/json/schema/activity-schema.html)",
    Source.TIN_CAN: "[Tin Can registry](https://registry.tincanapi.com)",
    Source.CADRE: "**Cadre** (minted)",
}

IDENTITIES = {
    "launched": "launched:<platform issuer>:<launch id>",
    "submitted": "submitted:<platform issuer>:<submission id>",
    "evaluated": "evaluated:<platform issuer>:<assessment id>:<revision>",
    "revised": "revised:<platform issuer>:<assessment id>:<revision>",
    "commented": "commented:<platform issuer>:<comment id>",
    "completed": "completed:<platform issuer>:<activity IRI>:<LTI sub>",
    "survey_answered": "survey-answered:<platform issuer>:<response id>",
    "manager_nominated": "nominated:<platform issuer>:<nomination id>",
    "nomination_accepted": "nomination-accepted:<platform issuer>:<nomination id>",
    "follow_up_scheduled": "follow-up-scheduled:<platform issuer>:<follow-up id>",
    "follow_up_answered": "follow-up-answered:<platform issuer>:<follow-up id>",
    "career_conversation_held": "career-conversation:<platform issuer>:<conversation id>",
    "coaching_session_logged": "coaching-session:<platform issuer>:<session id>:<time it was saved>",
    "peer_coaching_session_held": "peer-coaching-session:<platform issuer>:<session id>:<LTI sub>",
    "refresher_completed": "refresher-completed:<platform issuer>:<refresher id>",
    "voided": "voided:<id of the voided statement>",
}
"""What makes each event itself: the statement id is uuid5 of this string (``xapi.statements``)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _concept_table(concepts: tuple[Concept, ...]) -> str:
    rows = ["| name | IRI | from | why |", "|---|---|---|---|"]
    rows += [f"| {c.label} | `{c.iri}` | {SOURCE_NAMES[c.source]} | {_cell(c.why)} |" for c in concepts]
    return "\n".join(rows)


def extension_table() -> str:
    rows = ["| name | IRI | in | value | meaning and why |", "|---|---|---|---|---|"]
    rows += [
        f"| {e.label} | `{e.iri}` | {e.placement} | {_cell(e.value_description)} | "
        f"{_cell(e.definition)} {_cell(e.why)} |"
        for e in Extension.ALL
    ]
    return "\n".join(rows)


def template_table() -> str:
    rows = ["| template | verb | object type | parent / grouping | refers to | id of the event |",
            "|---|---|---|---|---|---|"]
    for template in TEMPLATES:
        context = template.context_note or " / ".join(
            ", ".join(concept.label for concept in group) or "—"
            for group in (template.parent_types, template.grouping_types)
        )
        if template.object_statement_templates:
            object_type = "StatementRef"
        else:
            object_type = template.object_type.label if template.object_type else "per activity kind"
        refers = ", ".join(template.context_statement_templates) or (
            "any statement above (object)" if template.object_statement_templates else "—"
        )
        rows.append(
            f"| `{template.name}` ({template.label}) | {template.verb.label} | "
            f"{object_type} | {context} | "
            f"{refers} | `{IDENTITIES[template.name]}` |"
        )
    return "\n".join(rows)


def examples() -> str:
    blocks = []
    for name, statement in example_statements().items():
        body = json.dumps(statement, indent=2, ensure_ascii=False)
        blocks.append(f"#### Example: {name}\n\n```json\n{body}\n```")
    return "\n\n".join(blocks)


def sections() -> dict[str, str]:
    return {
        "verbs": _concept_table(Verb.ALL),
        "activity-types": _concept_table(ActivityType.ALL),
        "extensions": extension_table(),
        "templates": template_table(),
        "examples": examples(),
    }


SECTION = re.compile(r"<!-- generated: (?P<name>[a-z-]+) -->\n(?P<body>.*?)<!-- end: (?P=name) -->", re.S)


def read_sections(document: str) -> dict[str, str]:
    return {match["name"]: match["body"].removesuffix("\n") for match in SECTION.finditer(document)}


def rewrite(document: str) -> str:
    generated = sections()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        return f"<!-- generated: {name} -->\n{generated[name]}\n<!-- end: {name} -->"

    return SECTION.sub(replace, document)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/xapi-profile.md")
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the generated sections of {path}")
