"""ISO 4217 currency codes a cost estimate may be given in: the active currencies of the standard's list
one (2025), without funds, precious metals, SDRs and test codes (nobody prices a mistake in XAU).

Kept as a constant rather than a dependency: the list changes once every year or two (ZWG replaced ZWL
in 2024; XCG replaces ANG in 2025), and a code that leaves the list stays valid here until it is
removed with a migration-free edit.
"""

from __future__ import annotations

ISO_4217_CODES: frozenset[str] = frozenset([
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF",
    "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG",
    "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF",
    "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
    "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX",
    "USD", "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR",
    "ZMW", "ZWG"
])

COMMON_FIRST: tuple[str, ...] = ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "INR")
"""Shown at the top of the currency choices."""


def is_currency(code: str) -> bool:
    """Whether ``code`` is one of :data:`ISO_4217_CODES` (upper case, as the standard writes them)."""
    return code in ISO_4217_CODES


def currency_choices() -> list[str]:
    return [*COMMON_FIRST, *sorted(ISO_4217_CODES - set(COMMON_FIRST))]
