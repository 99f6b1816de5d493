"""Estimated printed width of a line in Times New Roman, to size the rule lines Decree 30 ties to text
(1/3–1/2 of the agency name, the full Tiêu ngữ). Widths are the Adobe Times AFM advances (per 1000 em),
which Times New Roman matches closely; a Vietnamese letter is as wide as its base letter."""

from __future__ import annotations

import unicodedata

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_REGULAR = dict(zip(_UPPER, (722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889, 722, 722, 556, 722,
                             667, 556, 611, 722, 722, 944, 722, 722, 611), strict=True))
_REGULAR |= dict(zip(_LOWER, (444, 500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500,
                              333, 389, 278, 500, 500, 722, 500, 500, 444), strict=True))
_BOLD = dict(zip(_UPPER, (722, 667, 722, 722, 667, 611, 778, 778, 389, 500, 778, 667, 944, 722, 778, 611, 778,
                          722, 556, 667, 722, 722, 1000, 722, 722, 667), strict=True))
_BOLD |= dict(zip(_LOWER, (500, 556, 444, 556, 444, 333, 500, 556, 278, 333, 556, 278, 833, 556, 500, 556, 556,
                           444, 389, 333, 556, 500, 722, 500, 500, 444), strict=True))
_COMMON = {" ": 250, "-": 333, ",": 250, ".": 250, ":": 278, "/": 278, "(": 333, ")": 333}
_DIGIT = 500


def text_width_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Width of ``text`` set at ``size_pt`` in points."""
    table = _BOLD if bold else _REGULAR
    total = 0
    for ch in text:
        base = "D" if ch == "Đ" else "d" if ch == "đ" else unicodedata.normalize("NFD", ch)[0]
        total += table.get(base) or _COMMON.get(base) or (_DIGIT if base.isdigit() else 500)
    return total * size_pt / 1000
