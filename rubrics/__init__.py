"""Cadre's rubric engine: pure Python, no web framework and no database.

The application stores and shows rubrics; this package decides what a valid rubric is, how an
assessment is scored and explained, what changed between versions, and how rubrics travel as
CSV (Cadre's layout and Canvas's) and 1EdTech CASE JSON. See docs/rubrics.md.
"""

from rubrics.canvas_csv import (
    CanvasExportError,
    export_canvas_csv,
    import_canvas_csv,
    looks_like_canvas_csv,
)
from rubrics.case_io import (
    CaseRubric,
    dumps_case_rubric,
    export_case_framework,
    export_case_rubric,
    import_case_framework,
    import_case_rubric,
    read_case_rubric,
)
from rubrics.competencies import CaseLink, CompetencyAssociation, CompetencyFramework, CompetencyItem
from rubrics.csv_io import export_csv, import_csv
from rubrics.errors import (
    AssessmentError,
    ImportProblem,
    ImportProblems,
    Problem,
    RubricImportError,
    RubricValidationError,
)
from rubrics.model import Criterion, Level, Rubric, ScoringMode
from rubrics.parsing import DEFAULT_LIMITS, RubricLimits, parse_rubric
from rubrics.scoring import Answer, CriterionScore, Scorer, ScoreResult, normalised_weights, score
from rubrics.templates import get_template, list_templates
from rubrics.versions import RubricDiff, canonical_json, content_hash, diff

__all__ = [
    "DEFAULT_LIMITS",
    "Answer",
    "AssessmentError",
    "CanvasExportError",
    "CaseLink",
    "CaseRubric",
    "CompetencyAssociation",
    "CompetencyFramework",
    "CompetencyItem",
    "Criterion",
    "CriterionScore",
    "ImportProblem",
    "ImportProblems",
    "Level",
    "Problem",
    "Rubric",
    "RubricDiff",
    "RubricImportError",
    "RubricLimits",
    "RubricValidationError",
    "ScoreResult",
    "Scorer",
    "ScoringMode",
    "canonical_json",
    "content_hash",
    "diff",
    "dumps_case_rubric",
    "export_canvas_csv",
    "export_case_framework",
    "export_case_rubric",
    "export_csv",
    "get_template",
    "import_canvas_csv",
    "import_case_framework",
    "import_case_rubric",
    "import_csv",
    "list_templates",
    "looks_like_canvas_csv",
    "normalised_weights",
    "parse_rubric",
    "read_case_rubric",
    "score",
]
