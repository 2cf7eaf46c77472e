"""How far assessors agree when two or more of them score the same learner on the same criterion (a line
manager and a coach, or a calibration exercise's shared sample), and which assessors sit consistently
above or below the others. Pure: ratings in, figures with the counts behind them out.

* **Exact agreement**: of every pair of ratings of one subject, the share that chose the same level.
* **Cohen's kappa** (two assessors, the subjects both rated) and **Fleiss' kappa** (any number of
  assessors per subject, at least two; the generalisation to unequal numbers of ratings per subject):
  agreement beyond what the levels' frequencies give by chance. 1 is perfect; 0 is chance; below 0, worse.
  Undefined (``None``) when chance alone agrees perfectly (every rating on one level).
* **ICC(1)**, one-way random effects, single rating, for points: the share of the points' variance that
  lies between subjects. Unequal numbers of ratings per subject use the usual ``k0``. ``None`` without
  variance or without two subjects.
* **Flags**: an assessor whose ratings differ from the mean of the *other* assessors of the same subject by
  ``threshold`` or more on average, in the same direction at least ``consistency`` of the time, over at
  least ``min_comparisons`` comparisons.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

Subject = Hashable
Assessor = Hashable


@dataclass(frozen=True, slots=True)
class Rating:
    """One assessor's rating of one subject (a learner in an activity) on one criterion."""

    subject: Subject
    assessor: Assessor
    level: int
    """The level chosen (its number, 1 for the first)."""
    points: float | None = None
    """The points, where the rubric gives points (for the ICC)."""


@dataclass(frozen=True, slots=True)
class Agreement:
    subjects: int
    """Subjects rated by two assessors or more (the only ones that count)."""
    ratings: int
    pairs: int
    agreeing_pairs: int
    fleiss_kappa: float | None
    icc: float | None

    @property
    def exact_agreement(self) -> float | None:
        return None if not self.pairs else self.agreeing_pairs / self.pairs


@dataclass(frozen=True, slots=True)
class Flag:
    assessor: Assessor
    direction: str
    """``above`` or ``below`` the other assessors."""
    mean_difference: float
    """In levels: the assessor's rating minus the others' mean, on average."""
    comparisons: int
    same_direction: int


def _by_subject(ratings: Iterable[Rating]) -> dict[Subject, list[Rating]]:
    grouped: dict[Subject, list[Rating]] = defaultdict(list)
    for rating in ratings:
        grouped[rating.subject].append(rating)
    return {subject: found for subject, found in grouped.items() if len(found) >= 2}


def cohen_kappa(first: Sequence[int], second: Sequence[int]) -> float | None:
    """Cohen's kappa of two assessors' levels on the same subjects, in the same order."""
    if len(first) != len(second):
        raise ValueError("both assessors must rate the same subjects")
    total = len(first)
    if not total:
        return None
    observed = Fraction(sum(a == b for a, b in zip(first, second, strict=True)), total)
    counts_first, counts_second = Counter(first), Counter(second)
    chance = sum(
        Fraction(counts_first[level] * counts_second[level], total * total) for level in counts_first
    )
    if chance == 1:
        return None
    return float((observed - chance) / (1 - chance))


def fleiss_kappa(levels_by_subject: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa over subjects each rated by two assessors or more (others are left out)."""
    rated = [levels for levels in levels_by_subject if len(levels) >= 2]
    if not rated:
        return None
    agreement = Fraction(0)
    totals: Counter[int] = Counter()
    for levels in rated:
        counts = Counter(levels)
        count = len(levels)
        agreement += Fraction(sum(n * n for n in counts.values()) - count, count * (count - 1))
        totals.update(levels)
    observed = agreement / len(rated)
    ratings = sum(totals.values())
    chance = sum(Fraction(n, ratings) ** 2 for n in totals.values())
    if chance == 1:
        return None
    return float((observed - chance) / (1 - chance))


def icc_one_way(points_by_subject: Sequence[Sequence[float]]) -> float | None:
    """ICC(1): one-way random effects, single rating (subjects with fewer than two ratings left out)."""
    rated = [list(map(float, points)) for points in points_by_subject if len(points) >= 2]
    subjects = len(rated)
    total = sum(len(points) for points in rated)
    if subjects < 2 or total <= subjects:
        return None
    grand = sum(sum(points) for points in rated) / total
    between = sum(len(points) * (sum(points) / len(points) - grand) ** 2 for points in rated)
    within = sum((value - sum(points) / len(points)) ** 2 for points in rated for value in points)
    mean_between = between / (subjects - 1)
    mean_within = within / (total - subjects)
    k0 = (total - sum(len(points) ** 2 for points in rated) / total) / (subjects - 1)
    denominator = mean_between + (k0 - 1) * mean_within
    if denominator <= 0 or (mean_between == 0 and mean_within == 0):
        return None
    return (mean_between - mean_within) / denominator


def agreement(ratings: Iterable[Rating]) -> Agreement:
    """Agreement of the assessors of one criterion."""
    grouped = _by_subject(ratings)
    pairs = agreeing = count = 0
    for found in grouped.values():
        count += len(found)
        for first, second in combinations(found, 2):
            pairs += 1
            agreeing += first.level == second.level
    points = [[rating.points for rating in found if rating.points is not None] for found in grouped.values()]
    return Agreement(
        subjects=len(grouped),
        ratings=count,
        pairs=pairs,
        agreeing_pairs=agreeing,
        fleiss_kappa=fleiss_kappa([[rating.level for rating in found] for found in grouped.values()]),
        icc=icc_one_way([values for values in points if len(values) >= 2]),
    )


def flagged_assessors(
    ratings: Iterable[Rating], *, threshold: float = 0.5, min_comparisons: int = 5, consistency: float = 0.7
) -> list[Flag]:
    """Assessors consistently above or below the others who rated the same subjects (levels), widest
    difference first."""
    differences: dict[Assessor, list[float]] = defaultdict(list)
    for found in _by_subject(ratings).values():
        for rating in found:
            others = [
                other.level for other in found if other is not rating and other.assessor != rating.assessor
            ]
            if others:
                differences[rating.assessor].append(rating.level - sum(others) / len(others))
    flags = []
    for assessor, found in differences.items():
        if len(found) < min_comparisons:
            continue
        mean = sum(found) / len(found)
        if abs(mean) < threshold:
            continue
        same = sum(1 for difference in found if (difference > 0) == (mean > 0) and difference != 0)
        if same < consistency * len(found):
            continue
        flags.append(Flag(assessor, "above" if mean > 0 else "below", mean, len(found), same))
    return sorted(flags, key=lambda flag: (-abs(flag.mean_difference), str(flag.assessor)))
