"""Calendar quarters: one model step is one quarter, labelled ``2025Q4``.

Quarters are held as integers ``year * 4 + (q - 1)`` so that arithmetic is plain
integer arithmetic; these helpers turn them into labels and back, and map Indian
fiscal years (April to March) onto calendar quarters.
"""
from __future__ import annotations

import re

_LABEL = re.compile(r"^(\d{4})Q([1-4])$")


def parse_quarter(label: str) -> int:
    """Return the quarter index of a label such as ``"2025Q4"``.

    Raises
    ------
    ValueError
        If the label is not of the form ``YYYYQn`` with n in 1..4.
    """
    match = _LABEL.match(str(label).strip())
    if not match:
        raise ValueError(f"quarter {label!r} is not of the form YYYYQn (for example 2025Q4)")
    return int(match.group(1)) * 4 + int(match.group(2)) - 1


def quarter_label(index: int) -> str:
    """Return the label (``"2025Q4"``) of a quarter index."""
    return f"{index // 4}Q{index % 4 + 1}"


def quarter_of_date(date: str) -> int:
    """Return the quarter index containing an ISO date (``2025-08-27`` or ``2025-08``).

    Raises
    ------
    ValueError
        If the date is not of the form ``YYYY-MM-DD`` or ``YYYY-MM``, or its month is not 1..12.
    """
    match = re.match(r"^(\d{4})-(\d{2})", str(date).strip())
    if not match:
        raise ValueError(f"date {date!r} is not of the form YYYY-MM-DD or YYYY-MM")
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"date {date!r} has month {month}, allowed 1..12")
    return int(match.group(1)) * 4 + (month - 1) // 3


def fiscal_year_quarters(fiscal_year: str) -> list[int]:
    """Quarter indices of an Indian fiscal year such as ``"FY2024-25"`` (Apr 2024 to Mar 2025).

    Returns
    -------
    list of int
        The four quarters, April-June first.

    Raises
    ------
    ValueError
        If the text is not of the form ``FY2024-25``.
    """
    match = re.match(r"^FY(\d{4})-(\d{2})$", fiscal_year)
    if not match:
        raise ValueError(f"fiscal year {fiscal_year!r} is not of the form FY2024-25")
    start = int(match.group(1)) * 4 + 1  # April-June is calendar Q2
    return [start, start + 1, start + 2, start + 3]
