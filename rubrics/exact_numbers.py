"""Exact decimal numbers for points and weights.

Points and weights are :class:`~decimal.Decimal` so that a total such as 2.5 + 0.1 is
exactly 2.6 and the explanation shown to a learner adds up digit for digit. Floats are
accepted on input but converted through their shortest ``repr`` so ``0.1`` stays ``0.1``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

HUNDREDTH = Decimal("0.01")
MAX_DIGITS = 30
"""Points and weights are small (limits of 10,000 and 4 decimal places): a number needing more digits
than this, before or after the point, is refused before any arithmetic. Without the bound, ``1e999999999``
overflows ``normalize()`` and ``1e-999999999`` would be written out as a million zeros in a message."""
MAX_TEXT = 100
"""Longer text is not read at all (surrounding spaces allowed), so 10,000 digits cost one ``len``."""


class NotANumber(ValueError):
    """The value cannot be read as a finite decimal number of reasonable size.

    ``reason`` is ``UNREADABLE`` (not a number at all, NaN, Infinity), ``TOO_LARGE`` or ``TOO_PRECISE``,
    so that a message can say which.
    """

    UNREADABLE = "unreadable"
    TOO_LARGE = "too large"
    TOO_PRECISE = "too precise"

    def __init__(self, value: object, reason: str = UNREADABLE) -> None:
        super().__init__(value)
        self.value = value
        self.reason = reason


def to_decimal(value: object) -> Decimal:
    """Read ``value`` (int, float, Decimal or numeric text) as a normalised Decimal.

    Normalising means ``3.50`` and ``3.5`` are the same value *and* the same text, so the
    canonical form (and the content hash of a rubric version) does not depend on how a
    designer typed a number. Booleans are refused: ``True`` is not one point.
    """
    if isinstance(value, bool) or value is None:
        raise NotANumber(value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_TEXT:
            raise NotANumber(value, NotANumber.TOO_LARGE)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise NotANumber(value) from None
    else:
        raise NotANumber(value)
    if not number.is_finite():
        raise NotANumber(value)
    if number:
        _sign, digits, exponent = number.as_tuple()
        assert isinstance(exponent, int)  # finite
        # Trailing zeros do not count: "100" and "1E+2" are the same small number.
        trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if number.adjusted() >= MAX_DIGITS:
            raise NotANumber(value, NotANumber.TOO_LARGE)
        if -(exponent + trailing_zeros) > MAX_DIGITS:
            raise NotANumber(value, NotANumber.TOO_PRECISE)
    # "+ 0" turns -0 into 0.
    return number.normalize() + 0


def decimal_places(number: Decimal) -> int:
    """How many digits ``number`` has after the decimal point (0 for whole numbers)."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only
    return max(0, -exponent)


def format_decimal(number: Decimal) -> str:
    """Plain text without exponent or trailing zeros: ``6``, ``2.5``, ``100``."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def round_hundredths(number: Decimal) -> Decimal:
    """Round half up to two places, the way people round by hand."""
    return number.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def json_number(number: Decimal) -> int | float:
    """A JSON number for ``number``; floats round-trip because values have few digits."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)
