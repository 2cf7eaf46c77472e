"""1EdTech CASE 1.1 JSON: rubrics as ``CFRubric`` and competency frameworks from a ``CFPackage``.

CASE has no place for some of Cadre's fields, so they travel in the ``extensions`` object
CASE provides (``extensions.cadre``): the scoring mode, criterion guidance, all competency
tags, whether a comment is required, point ranges (CASE has one ``score``; Cadre writes the
top of a range there and the bottom in ``minScore``) and non-UUID identifiers. Level guidance
maps to CASE ``feedback``; criterion titles to ``category`` and level titles to ``quality``.

CASE wants UUID identifiers. The rubric's is its CASE identity, ``case_identifier``: minted once by
the library when the rubric is made and kept on import (:func:`read_case_rubric` gives it), so it is the
same on every Cadre; without one (rubrics stored before Cadre kept it), an identifier that is a UUID is
used, and any other becomes a UUIDv5 under ``base_uri`` (which names the rubric on this Cadre).
A criterion's or level's identifier that is a UUID is kept (so a rubric from another tool keeps its
identity); any other becomes a UUIDv5 under its rubric's UUID (a level's under its criterion's), so the
criteria and levels follow the rubric's identity wherever it goes. The original identifiers travel in
the extension, so export -> import -> export gives the same text.

URIs are ``urn:uuid:`` URNs of those identifiers, not addresses on this Cadre: a rubric belongs to a
course, and CASE URIs are meant to be dereferenced by anyone, so Cadre does not serve rubric content at
a public address (docs/rubrics.md, "CASE identifiers and URIs"). ``CFItemURI`` links keep the URI of
the framework item, which the framework's publisher serves.

CASE 1.1's schema makes ``extensions`` an object on CFRubric and CFRubricCriterion but an array of
objects on CFRubricCriterionLevel; Cadre writes each accordingly and reads both shapes on levels.
Files from other tools import without the extension: every scored level means a points rubric, no
scores means levels_only, and CFItemURI becomes the competency tag.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rubrics.competencies import CaseLink, CompetencyAssociation, CompetencyFramework, CompetencyItem
from rubrics.errors import ImportProblem, Path, Problem, RubricImportError, RubricValidationError
from rubrics.exact_numbers import json_number
from rubrics.model import Criterion, Level, Rubric, ScoringMode
from rubrics.parsing import DEFAULT_LIMITS, RubricLimits, describe, parse_rubric
from rubrics.uploads import DEFAULT_MAX_BYTES, read_upload

EXTENSION = "cadre"
# Text that is valid JSON but not valid UTF-8 once written (lone surrogates), or that truncates C strings
# and breaks CSV readers downstream (NUL): refused wherever a CASE file holds text.
UNWRITABLE_TEXT = re.compile(r"[\x00\ud800-\udfff]")

# Where each rubric field lives in CASE JSON, to point validation problems at the right key.
RUBRIC_KEYS = {
    "title": "title", "description": "description", "identifier": "identifier",
    "scoring_mode": "extensions.cadre.scoringMode",
    "competency_frameworks": "extensions.cadre.competencyFrameworks", "criteria": "CFRubricCriteria",
}
CRITERION_KEYS = {
    "title": "category", "description": "description", "identifier": "identifier", "position": "position",
    "weight": "weight", "guidance": "extensions.cadre.guidance",
    "competency_tags": "extensions.cadre.competencyTags",
    "comment_required": "extensions.cadre.commentRequired", "levels": "CFRubricCriterionLevels",
}
LEVEL_KEYS = {
    "title": "quality", "description": "description", "identifier": "identifier", "position": "position",
    "guidance": "feedback", "points": "score", "max_points": "score",
    "min_points": "extensions.cadre.minScore",
}


# -- export ----------------------------------------------------------------------------------

def export_case_rubric(
    rubric: Rubric,
    *,
    base_uri: str,
    changed_at: datetime,
    frameworks: Iterable[CompetencyFramework] = (),
    case_identifier: str = "",
) -> dict[str, Any]:
    """The rubric as a CASE ``CFRubric`` object.

    ``case_identifier`` (a UUID) is the rubric's CASE identity, from which its criteria's and levels'
    follow; without one, ``base_uri`` (the rubric's address on this Cadre) names it. ``changed_at`` is
    every ``lastChangeDateTime`` (the version's creation time). Given ``frameworks``, a criterion's first
    tag that names a framework item fills ``CFItemURI``.
    """
    base = base_uri.rstrip("/")
    stamp = _timestamp(changed_at)
    rubric_id = _uuid_or_none(case_identifier.lower()) or _case_identifier(
        rubric.identifier, f"{base}#rubric"
    )
    items = {}
    for framework in frameworks:
        for item in framework.items:
            for key in (item.uri, item.identifier, item.human_coding_scheme):
                if key:
                    items.setdefault(key, item)
    return {
        "identifier": rubric_id,
        "uri": _urn(rubric_id),
        "title": rubric.title,
        "description": rubric.description,
        "lastChangeDateTime": stamp,
        "CFRubricCriteria": [
            _export_criterion(criterion, rubric_id, stamp, items) for criterion in rubric.criteria
        ],
        "extensions": {
            EXTENSION: {
                "identifier": rubric.identifier,
                "scoringMode": rubric.scoring_mode.value,
                "competencyFrameworks": list(rubric.competency_frameworks),
            }
        },
    }


def dumps_case_rubric(
    rubric: Rubric,
    *,
    base_uri: str,
    changed_at: datetime,
    frameworks: Iterable[CompetencyFramework] = (),
    case_identifier: str = "",
) -> str:
    """:func:`export_case_rubric` as indented JSON text."""
    document = export_case_rubric(
        rubric,
        base_uri=base_uri,
        changed_at=changed_at,
        frameworks=frameworks,
        case_identifier=case_identifier,
    )
    return json.dumps(document, indent=2, ensure_ascii=False)


def _export_criterion(
    criterion: Criterion, rubric_id: str, stamp: str, items: dict[str, CompetencyItem]
) -> dict[str, Any]:
    criterion_id = _case_identifier(criterion.identifier, f"urn:uuid:{rubric_id}#criterion")
    exported: dict[str, Any] = {
        "identifier": criterion_id,
        "uri": _urn(criterion_id),
        "category": criterion.title,
        "description": criterion.description,
    }
    link = _item_link(criterion.competency_tags, items)
    if link is not None:
        exported["CFItemURI"] = link
    exported.update({
        "weight": json_number(criterion.weight),
        "position": criterion.position,
        "rubricId": rubric_id,
        "lastChangeDateTime": stamp,
        "CFRubricCriterionLevels": [
            _export_level(level, criterion_id, stamp) for level in criterion.levels
        ],
        "extensions": {
            EXTENSION: {
                "identifier": criterion.identifier,
                "guidance": criterion.guidance,
                "competencyTags": list(criterion.competency_tags),
                "commentRequired": criterion.comment_required,
            }
        },
    })
    return exported


def _export_level(level: Level, criterion_id: str, stamp: str) -> dict[str, Any]:
    level_id = _case_identifier(level.identifier, f"urn:uuid:{criterion_id}#level")
    exported: dict[str, Any] = {
        "identifier": level_id,
        "uri": _urn(level_id),
        "description": level.description,
        "quality": level.title,
    }
    extension: dict[str, Any] = {"identifier": level.identifier}
    if level.max_points is not None and level.min_points is not None:
        exported["score"] = json_number(level.max_points)
        if level.is_range:
            extension["minScore"] = json_number(level.min_points)
    exported.update({
        "feedback": level.guidance,
        "position": level.position,
        "rubricCriterionId": criterion_id,
        "lastChangeDateTime": stamp,
        # An array on levels (and only there), as CASE 1.1's schema has it.
        "extensions": [{EXTENSION: extension}],
    })
    return exported


def _item_link(tags: tuple[str, ...], items: dict[str, CompetencyItem]) -> dict[str, str] | None:
    """CASE LinkURI for the first tag that is a known item or at least looks like a URI.

    The schema wants a UUID ``identifier``: an item's own identifier when it is one, else the UUID at the
    end of its URI (OpenSALT's ``.../uri/<uuid>``), else a UUIDv5 of the URI, which names it as well.
    """
    for tag in tags:
        item = items.get(tag)
        if item is not None:
            title = item.human_coding_scheme or item.full_statement[:200]
            identifier = _uuid_or_none(item.identifier) or _uuid_of_uri(item.uri)
            return {"title": title, "identifier": identifier, "uri": item.uri}
    for tag in tags:
        if "://" in tag:
            return {"title": tag, "identifier": _uuid_of_uri(tag), "uri": tag}
    return None


def _uuid_or_none(text: str) -> str | None:
    """``text`` as a canonical (lower-case) UUID when it is one, however its letters are cased."""
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return str(value) if str(value) == text.lower() else None


def _uuid_of_uri(uri: str) -> str:
    return _uuid_or_none(uri.rstrip("/").rsplit("/", 1)[-1]) or str(uuid.uuid5(uuid.NAMESPACE_URL, uri))


def _case_identifier(identifier: str, namespace: str) -> str:
    """The identifier itself when it is a UUID, else a stable UUIDv5 of it under ``namespace``."""
    return _uuid_or_none(identifier) or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{identifier}"))


def _urn(identifier: str) -> str:
    return f"urn:uuid:{identifier}"


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("changed_at must carry a time zone (CASE times are absolute)")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def export_case_framework(framework: CompetencyFramework, *, changed_at: datetime) -> dict[str, Any]:
    """The framework as a CASE 1.1 ``CFPackage``: its CFDocument, CFItems and CFAssociations as imported.

    Each object keeps its own ``lastChangeDateTime``; ``changed_at`` stands in only where the imported
    file gave none (frameworks stored before Cadre kept them).
    """
    document: dict[str, Any] = {
        "identifier": framework.identifier,
        "uri": framework.uri,
        "creator": framework.creator,
        "title": framework.title,
        "lastChangeDateTime": _own_time(framework.last_change, changed_at),
    }
    if framework.language:
        document["language"] = framework.language
    return {
        "CFDocument": document,
        "CFItems": [_export_item(item, changed_at) for item in framework.items],
        "CFAssociations": [
            _export_association(association, changed_at) for association in framework.associations
        ],
    }


def _export_item(item: CompetencyItem, changed_at: datetime) -> dict[str, Any]:
    # No CFDocumentURI: the package's schema forbids it on a CFPckgItem (the package is the document).
    exported: dict[str, Any] = {
        "identifier": item.identifier, "uri": item.uri, "fullStatement": item.full_statement
    }
    if item.human_coding_scheme:
        exported["humanCodingScheme"] = item.human_coding_scheme
    if item.item_type:
        exported["CFItemType"] = item.item_type
    if item.item_type_uri is not None:
        exported["CFItemTypeURI"] = item.item_type_uri.to_dict()
    if item.language:
        exported["language"] = item.language
    if item.education_levels:
        exported["educationLevel"] = list(item.education_levels)
    exported["lastChangeDateTime"] = _own_time(item.last_change, changed_at)
    return exported


def _export_association(association: CompetencyAssociation, changed_at: datetime) -> dict[str, Any]:
    exported: dict[str, Any] = {
        "identifier": association.identifier,
        "associationType": association.association_type,
    }
    if association.sequence_number is not None:
        exported["sequenceNumber"] = association.sequence_number
    exported.update({
        "uri": association.uri,
        "originNodeURI": association.origin.to_dict(),
        "destinationNodeURI": association.destination.to_dict(),
        "lastChangeDateTime": _own_time(association.last_change, changed_at),
    })
    return exported


def _own_time(moment: datetime | None, fallback: datetime) -> str:
    """An object's own time as CASE text in UTC (to the second, or finer when it was given finer)."""
    if moment is None:
        return _timestamp(fallback)
    return moment.astimezone(UTC).isoformat()


# -- import ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CaseRubric:
    """A rubric read from CASE, with its CASE identity (the ``case_identifier`` to export it with)."""

    rubric: Rubric
    case_identifier: str
    """The CFRubric's ``identifier`` (lower case); one that is not a UUID, as some tools write, becomes a
    UUIDv5 of it, the same on every Cadre."""


def import_case_rubric(
    source: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: RubricLimits = DEFAULT_LIMITS
) -> Rubric:
    """Read one rubric from a ``CFRubric`` object or a ``CFPackage`` holding exactly one.

    Raises RubricImportError naming JSON paths (``$.CFRubricCriteria[2].weight``); nothing
    from a file with any problem is returned.
    """
    return read_case_rubric(source, max_bytes=max_bytes, limits=limits).rubric


def read_case_rubric(
    source: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: RubricLimits = DEFAULT_LIMITS
) -> CaseRubric:
    """:func:`import_case_rubric`, with the rubric's CASE identity, which the importer keeps so that
    the rubric's next export names it (and its criteria and levels) as the file did."""
    document = _load_json(source, max_bytes)
    problems: list[ImportProblem] = []
    if not isinstance(document, dict):
        raise RubricImportError([ImportProblem("$", f"expected a CFRubric object, got {describe(document)}")])
    base = "$"
    if "CFRubrics" in document:
        rubrics = document["CFRubrics"]
        if not isinstance(rubrics, list) or len(rubrics) != 1:
            count = len(rubrics) if isinstance(rubrics, list) else describe(rubrics)
            raise RubricImportError(
                [ImportProblem("$.CFRubrics", f"expected a list with exactly one CFRubric, got {count}")]
            )
        document, base = rubrics[0], "$.CFRubrics[0]"
        if not isinstance(document, dict):
            raise RubricImportError([_not_an_object(base, "a CFRubric object", document)])
    reader = _CaseReader(problems)
    data = reader.rubric(document, base)
    if problems:
        raise RubricImportError(problems)
    try:
        rubric = parse_rubric(data, limits)
    except RubricValidationError as error:
        raise RubricImportError([_locate(problem, base, reader) for problem in error.problems]) from None
    case_id = document["identifier"]
    return CaseRubric(rubric, _uuid_or_none(case_id.lower()) or str(uuid.uuid5(uuid.NAMESPACE_URL, case_id)))


def import_case_framework(source: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> CompetencyFramework:
    """Read a competency framework from a CASE ``CFPackage``: its CFDocument, CFItems and CFAssociations.

    Raises RubricImportError naming JSON paths (``$.CFAssociations[3].originNodeURI``); nothing from a
    file with any problem is returned.
    """
    package = _load_json(source, max_bytes)
    problems: list[ImportProblem] = []
    reader = _CaseReader(problems)
    if not isinstance(package, dict):
        raise RubricImportError([ImportProblem("$", f"expected a CFPackage object, got {describe(package)}")])
    document = package.get("CFDocument")
    if not isinstance(document, dict):
        raise RubricImportError(
            [ImportProblem("$.CFDocument", f"expected a CFDocument object, got {describe(document)}")]
        )
    identifier = reader.required_text(document, "identifier", "$.CFDocument")
    uri = reader.required_text(document, "uri", "$.CFDocument")
    title = reader.required_text(document, "title", "$.CFDocument")
    creator = reader.text(document, "creator", "$.CFDocument")
    language = reader.text(document, "language", "$.CFDocument")
    last_change = reader.moment(document, "lastChangeDateTime", "$.CFDocument")
    items: list[CompetencyItem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader.list(package, "CFItems", "$")):
        path = f"$.CFItems[{index}]"
        if not isinstance(raw, dict):
            problems.append(ImportProblem(path, f"expected a CFItem object, got {describe(raw)}"))
            continue
        item = reader.item(raw, path)
        _check_unique(item.identifier, index, "CFItems", seen, problems)
        items.append(item)
    associations: list[CompetencyAssociation] = []
    seen = {}
    for index, raw in enumerate(reader.list(package, "CFAssociations", "$")):
        path = f"$.CFAssociations[{index}]"
        if not isinstance(raw, dict):
            problems.append(_not_an_object(path, "a CFAssociation object", raw))
            continue
        association = reader.association(raw, path)
        _check_unique(association.identifier, index, "CFAssociations", seen, problems)
        associations.append(association)
    if problems:
        raise RubricImportError(problems)
    return CompetencyFramework(
        identifier=identifier,
        uri=uri,
        title=title,
        creator=creator,
        items=tuple(items),
        associations=tuple(associations),
        language=language,
        last_change=last_change,
    )


def _check_unique(
    identifier: str, index: int, listed_in: str, seen: dict[str, int], problems: list[ImportProblem]
) -> None:
    """Report an identifier that an earlier entry of ``$.{listed_in}`` has already; remember this one."""
    if identifier and identifier in seen:
        problems.append(ImportProblem(
            f"$.{listed_in}[{index}].identifier",
            f"identifier '{identifier}' is already used by $.{listed_in}[{seen[identifier]}]",
        ))
    seen.setdefault(identifier, index)


def _load_json(source: str | bytes, max_bytes: int) -> Any:
    text = read_upload(source, max_bytes)

    def read_int(digits: str) -> int | Decimal:
        # Python refuses to read ints of more than 4,300 digits (a ValueError with no JSON path); as a
        # Decimal the value reaches the number checks, which refuse it at its path.
        return int(digits) if len(digits) <= 40 else Decimal(digits)

    try:
        # Decimal keeps 0.1 as 0.1: scores and weights stay exact. NaN and Infinity (which JSON does not
        # allow, but Python's reader does) become Decimal NaN/Infinity, refused where a number is read.
        return json.loads(text, parse_float=Decimal, parse_int=read_int, parse_constant=Decimal)
    except json.JSONDecodeError as error:
        raise RubricImportError(
            [ImportProblem(f"line {error.lineno}, column {error.colno}", f"invalid JSON: {error.msg}")]
        ) from None
    except (ValueError, RecursionError) as error:
        raise RubricImportError([ImportProblem("$", f"invalid JSON: {error}")]) from None


class _CaseReader:
    """Checks CASE shapes and types, collecting problems by JSON path."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        self.identifier_paths: dict[Path, str] = {}
        """Where each identifier was read (the extension or the CASE identifier), by engine path."""
        self.min_score_paths: dict[Path, str] = {}

    def rubric(self, document: dict[str, Any], base: str) -> dict[str, Any]:
        rubric_id = self.required_text(document, "identifier", base)
        extension, extension_path = self.extension(document, base)
        criteria_raw = self.list(document, "CFRubricCriteria", base)
        criteria = []
        for index, raw in enumerate(criteria_raw):
            path = f"{base}.CFRubricCriteria[{index}]"
            if not isinstance(raw, dict):
                self.problems.append(_not_an_object(path, "a CFRubricCriterion object", raw))
                continue
            criteria.append(self.criterion(raw, path, index, rubric_id))
        mode = self.text(extension, "scoringMode", extension_path) if "scoringMode" in extension else None
        if not mode:
            scored = any(
                "points" in level or "max_points" in level
                for criterion in criteria
                for level in criterion["levels"]
            )
            mode = ScoringMode.POINTS.value if scored else ScoringMode.LEVELS_ONLY.value
        identifier = self.own_identifier(extension, extension_path, rubric_id, base, ())
        return {
            "identifier": identifier,
            "title": self.text(document, "title", base),
            "description": self.text(document, "description", base),
            "scoring_mode": mode,
            "competency_frameworks": self.text_list(extension, "competencyFrameworks", extension_path),
            "criteria": criteria,
        }

    def own_identifier(
        self, extension: dict[str, Any], extension_path: str, case_id: str, path: str, engine_path: Path
    ) -> str:
        """Cadre's identifier (from the extension) or else the CASE one; remembers where it was read,
        so a problem with it is reported there and not at the CASE identifier."""
        # A blank one (a rubric made on the form has none) keeps the CASE identifier: identity survives.
        if extension.get("identifier", "") != "":
            self.identifier_paths[engine_path] = f"{extension_path}.identifier"
            return self.text(extension, "identifier", extension_path)
        self.identifier_paths[engine_path] = f"{path}.identifier"
        return case_id

    def criterion(self, raw: dict[str, Any], path: str, index: int, rubric_id: str) -> dict[str, Any]:
        criterion_id = self.required_text(raw, "identifier", path)
        self.reference(raw, "rubricId", path, rubric_id, "rubric", "criterion")
        extension, extension_path = self.extension(raw, path)
        description = self.text(raw, "description", path)
        first_line = description.split("\n", 1)[0][:200]
        title = self.text(raw, "category", path) or first_line or f"Criterion {index + 1}"
        link_uri = self.link(raw, "CFItemURI", path)
        if "competencyTags" in extension:
            tags = self.text_list(extension, "competencyTags", extension_path)
        else:
            tags = [link_uri] if link_uri else []
        comment_required = extension.get("commentRequired", False)
        if not isinstance(comment_required, bool):
            self.problems.append(ImportProblem(
                f"{extension_path}.commentRequired",
                f"expected true or false, got {describe(comment_required)}",
            ))
        criterion: dict[str, Any] = {
            "identifier": self.own_identifier(
                extension, extension_path, criterion_id, path, ("criteria", index)
            ),
            "title": title,
            "description": description,
            "guidance": self.text(extension, "guidance", extension_path),
            "competency_tags": tags,
            "comment_required": comment_required is True,
            "levels": [],
        }
        for name in ("weight", "position"):
            if name in raw:
                criterion[name] = self.number(raw, name, path, whole=name == "position")
        for level_index, level_raw in enumerate(self.list(raw, "CFRubricCriterionLevels", path)):
            level_path = f"{path}.CFRubricCriterionLevels[{level_index}]"
            if not isinstance(level_raw, dict):
                self.problems.append(_not_an_object(level_path, "a CFRubricCriterionLevel object", level_raw))
                continue
            criterion["levels"].append(
                self.level(level_raw, level_path, (index, level_index), criterion_id)
            )
        return criterion

    def level(
        self, raw: dict[str, Any], path: str, indexes: tuple[int, int], criterion_id: str
    ) -> dict[str, Any]:
        criterion_index, index = indexes
        level_id = self.required_text(raw, "identifier", path)
        self.reference(raw, "rubricCriterionId", path, criterion_id, "criterion", "level")
        extension, extension_path = self.extension(raw, path, array=True)
        engine_path: Path = ("criteria", criterion_index, "levels", index)
        level: dict[str, Any] = {
            "identifier": self.own_identifier(extension, extension_path, level_id, path, engine_path),
            "title": self.text(raw, "quality", path),
            "description": self.text(raw, "description", path),
            "guidance": self.text(raw, "feedback", path),
        }
        if "position" in raw:
            level["position"] = self.number(raw, "position", path, whole=True)
        if not level["title"]:
            level["title"] = f"Level {level.get('position', index + 1)}"
        if raw.get("score") is not None:
            score = self.number(raw, "score", path, whole=False)
            if "minScore" in extension:
                self.min_score_paths[engine_path] = f"{extension_path}.minScore"
                level["min_points"] = self.number(extension, "minScore", extension_path, whole=False)
                level["max_points"] = score
            else:
                level["points"] = score
        return level

    def extension(
        self, raw: dict[str, Any], path: str, *, array: bool = False
    ) -> tuple[dict[str, Any], str]:
        """Cadre's extension object and its JSON path. ``array``: the CASE 1.1 level shape, a list of
        extension objects (Cadre's is the one holding a ``cadre`` key); an object is read too, as Cadre
        wrote levels before it followed the schema."""
        extensions = raw.get("extensions")
        where = f"{path}.extensions"
        if extensions is None:
            return {}, f"{where}.{EXTENSION}"
        if array and isinstance(extensions, list):
            for position, entry in enumerate(extensions):
                if not isinstance(entry, dict):
                    self.problems.append(_not_an_object(f"{where}[{position}]", "an object", entry))
                elif EXTENSION in entry:
                    return self.ours(entry, f"{where}[{position}]")
            return {}, f"{where}.{EXTENSION}"
        if not isinstance(extensions, dict):
            wanted = "a list of objects" if array else "an object"
            self.problems.append(_not_an_object(where, wanted, extensions))
            return {}, f"{where}.{EXTENSION}"
        return self.ours(extensions, where)

    def ours(self, extensions: dict[str, Any], where: str) -> tuple[dict[str, Any], str]:
        path = f"{where}.{EXTENSION}"
        ours = extensions.get(EXTENSION, {})
        if not isinstance(ours, dict):
            self.problems.append(_not_an_object(path, "an object", ours))
            return {}, path
        return ours, path

    def link(self, raw: dict[str, Any], name: str, path: str) -> str:
        """The ``uri`` of a CASE LinkURI object (``title``, ``identifier``, ``uri``), "" when absent."""
        link = raw.get(name)
        if link is None:
            return ""
        if not isinstance(link, dict) or not isinstance(link.get("uri"), str) or not link["uri"]:
            self.problems.append(ImportProblem(
                f"{path}.{name}", f"expected a link object with a uri, got {describe(link)}"
            ))
            return ""
        for key in ("title", "identifier"):
            if key in link:
                self.text(link, key, f"{path}.{name}")
        return self.text(link, "uri", f"{path}.{name}")

    def item(self, raw: dict[str, Any], path: str) -> CompetencyItem:
        """One CFItem with what Cadre keeps of it (type, language, education levels, own time)."""
        return CompetencyItem(
            identifier=self.required_text(raw, "identifier", path),
            uri=self.required_text(raw, "uri", path),
            full_statement=self.required_text(raw, "fullStatement", path),
            human_coding_scheme=self.text(raw, "humanCodingScheme", path),
            item_type=self.text(raw, "CFItemType", path),
            item_type_uri=self.link_object(raw, "CFItemTypeURI", path, required=False),
            language=self.text(raw, "language", path),
            education_levels=self.education_levels(raw, path),
            last_change=self.moment(raw, "lastChangeDateTime", path),
        )

    def association(self, raw: dict[str, Any], path: str) -> CompetencyAssociation:
        origin = self.link_object(raw, "originNodeURI", path, required=True)
        destination = self.link_object(raw, "destinationNodeURI", path, required=True)
        return CompetencyAssociation(
            identifier=self.required_text(raw, "identifier", path),
            uri=self.required_text(raw, "uri", path),
            association_type=self.required_text(raw, "associationType", path),
            origin=origin or CaseLink("", "", ""),
            destination=destination or CaseLink("", "", ""),
            sequence_number=self.sequence_number(raw, path),
            last_change=self.moment(raw, "lastChangeDateTime", path),
        )

    def link_object(self, raw: dict[str, Any], name: str, path: str, *, required: bool) -> CaseLink | None:
        """A CASE link object (``title``, ``identifier``, ``uri``; the title may be left out)."""
        link = raw.get(name)
        if link is None and not required:
            return None
        where = f"{path}.{name}"
        if not isinstance(link, dict):
            wanted = "a link object with an identifier and a uri"
            self.problems.append(ImportProblem(where, f"expected {wanted}, got {describe(link)}"))
            return None
        return CaseLink(
            title=self.text(link, "title", where),
            identifier=self.required_text(link, "identifier", where),
            uri=self.required_text(link, "uri", where),
        )

    def education_levels(self, raw: dict[str, Any], path: str) -> tuple[str, ...]:
        """CASE ``educationLevel`` (a list of text); OpenSALT's older ``educationalLevel`` (one text, levels
        separated by commas, as in its sample framework) is read into the same list."""
        if "educationLevel" in raw:
            return tuple(self.text_list(raw, "educationLevel", path))
        older = self.text(raw, "educationalLevel", path)
        return tuple(level.strip() for level in older.split(",") if level.strip())

    def moment(self, raw: dict[str, Any], name: str, path: str) -> datetime | None:
        """An ISO 8601 date and time; one without a zone is read as UTC (OpenSALT writes its UTC times
        so), None when absent."""
        text = self.text(raw, name, path)
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            example = "2017-05-25T18:05:33Z"
            self.problems.append(ImportProblem(
                f"{path}.{name}", f"expected a date and time such as {example}, got {describe(text)}"
            ))
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def sequence_number(self, raw: dict[str, Any], path: str) -> int | None:
        """A whole number; digits in text are read too, because OpenSALT writes ``"sequenceNumber": "1"``."""
        value = raw.get("sequenceNumber")
        if value is None:
            return None
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**9:
            return value
        self.problems.append(
            ImportProblem(f"{path}.sequenceNumber", f"expected a whole number, got {describe(value)}")
        )
        return None

    def text_list(self, raw: dict[str, Any], name: str, path: str) -> list[str]:
        value = raw.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(
                ImportProblem(f"{path}.{name}", f"expected a list of text, got {describe(value)}")
            )
            return []
        texts = []
        for position, entry in enumerate(value):
            if not isinstance(entry, str):
                self.problems.append(
                    ImportProblem(f"{path}.{name}[{position}]", f"expected text, got {describe(entry)}")
                )
            elif self.writable(entry, f"{path}.{name}[{position}]"):
                texts.append(entry)
        return texts

    def writable(self, value: str, path: str) -> bool:
        bad = UNWRITABLE_TEXT.search(value)
        if bad is None:
            return True
        code = ord(bad.group())
        kind = "a NUL character" if code == 0 else f"a lone surrogate (U+{code:04X}), which is not text"
        self.problems.append(ImportProblem(path, f"contains {kind}; remove it"))
        return False

    def reference(
        self, raw: dict[str, Any], name: str, path: str, expected: str, target: str, holder: str
    ) -> None:
        value = raw.get(name)
        # An empty ``expected`` means the parent had no identifier, which is reported already.
        if value is not None and expected and value != expected:
            self.problems.append(ImportProblem(
                f"{path}.{name}",
                f"refers to {target} {describe(value)}, but the {holder} sits in {target} '{expected}'",
            ))

    def required_text(self, raw: dict[str, Any], name: str, path: str) -> str:
        if raw.get(name) in (None, ""):
            self.problems.append(ImportProblem(f"{path}.{name}", f"{name} is missing"))
            return ""
        return self.text(raw, name, path)

    def text(self, raw: dict[str, Any], name: str, path: str) -> str:
        value = raw.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problems.append(ImportProblem(f"{path}.{name}", f"expected text, got {describe(value)}"))
            return ""
        if not self.writable(value, f"{path}.{name}"):
            return ""
        return value

    def number(self, raw: dict[str, Any], name: str, path: str, *, whole: bool) -> Any:
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.problems.append(ImportProblem(f"{path}.{name}", f"expected a number, got {describe(value)}"))
            return None
        if whole and not isinstance(value, int):
            self.problems.append(ImportProblem(f"{path}.{name}", f"expected a whole number, got {value}"))
            return None
        return value

    def list(self, raw: dict[str, Any], name: str, path: str) -> list[Any]:
        value = raw.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(ImportProblem(f"{path}.{name}", f"expected a list, got {describe(value)}"))
            return []
        return value


def _not_an_object(path: str, wanted: str, value: object) -> ImportProblem:
    return ImportProblem(path, f"expected {wanted}, got {describe(value)}")


def _locate(problem: Problem, base: str, reader: _CaseReader) -> ImportProblem:
    """Turn a validation path such as ('criteria', 2, 'levels', 1, 'min_points') into a JSON path."""
    path = problem.path
    if path and path[-1] == "identifier" and path[:-1] in reader.identifier_paths:
        return ImportProblem(reader.identifier_paths[path[:-1]], problem.message)
    if path and path[-1] == "min_points" and path[:-1] in reader.min_score_paths:
        return ImportProblem(reader.min_score_paths[path[:-1]], problem.message)
    location = base
    keys = RUBRIC_KEYS
    index = 0
    if len(path) >= 2 and path[0] == "criteria" and isinstance(path[1], int):
        location += f".CFRubricCriteria[{path[1]}]"
        keys, index = CRITERION_KEYS, 2
        if len(path) >= 4 and path[2] == "levels" and isinstance(path[3], int):
            location += f".CFRubricCriterionLevels[{path[3]}]"
            keys, index = LEVEL_KEYS, 4
    if len(path) > index and isinstance(path[index], str):
        location += "." + keys.get(path[index], path[index])
    return ImportProblem(location, problem.message)
