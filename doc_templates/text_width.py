"""Estimated printed width of a line in Times New Roman, to size the rule lines Decree 30 ties to text
(1/3–1/2 of the agency name, the full Tiêu ngữ), to wrap a paragraph into lines and to estimate how
tall it prints. Widths are the Adobe Times AFM advances (per 1000 em), which Times New Roman matches
closely; a Vietnamese letter is as wide as its base letter, but for the horned ơ and ư, which are wider (their
widths are Times New Roman's, as Liberation Serif copies them). Vertical metrics are Times New Roman's own
(hhea: ascender 1825, descender 443, line gap 87 per 2048 em), which LibreOffice's Liberation Serif
copies, so a single-spaced line is as tall in Word as in LibreOffice."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable

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
_REGULAR |= {";": 278, "%": 833, "&": 778, "?": 444}
_BOLD |= {":": 333, ";": 333, "%": 1000, "&": 833, "?": 500}
_COMMON = {" ": 250, "-": 333, ",": 250, ".": 250, ":": 278, "/": 278, "(": 333, ")": 333, "!": 333, "—": 1000, "…": 1000}
_DIGIT = 500
_HORNED = {False: {"o": 529, "u": 542, "O": 722, "U": 776}, True: {"o": 554, "u": 600, "O": 778, "U": 796}}

ASCENT_EM = 1825 / 2048  # baseline below the top of a single-spaced line
DESCENT_EM = 443 / 2048  # how far descenders (p, q, y, the dot of ạ) reach below the baseline
LINE_EM = (1825 + 443 + 87) / 2048  # a single-spaced line, in Word and in LibreOffice (1.15 em)


def _advance(ch: str, bold: bool) -> int:
    letters = unicodedata.normalize("NFD", ch)
    base = "D" if ch == "Đ" else "d" if ch == "đ" else letters[0]
    if "\u031b" in letters:  # the combining horn: ơ, ư with any tone
        return _HORNED[bold].get(base, 500)
    return (_BOLD if bold else _REGULAR).get(base) or _COMMON.get(base) or (_DIGIT if base.isdigit() else 500)


def text_width_pt(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Width of ``text`` set at ``size_pt`` in points."""
    return sum(_advance(ch, bold) for ch in text) * size_pt / 1000


def line_widths(runs: Iterable[tuple[str, float, bool]], width_pt: float, *, first_line_pt: float = 0.0) -> list[float]:
    """The printed width of each line of a paragraph whose ``runs`` (text, size in points, bold) wrap at spaces,
    greedily as Word and LibreOffice wrap them, into lines ``width_pt`` wide; the first line is ``first_line_pt``
    narrower (a first-line indent) or wider (a hanging one). A word longer than a line is cut where the line ends;
    a line break ("\n") ends a line."""
    words: list[tuple[float, float]] = []  # (width of the word, width of the space before it); -1: a line break
    word, space, pending_space = 0.0, 0.0, 0.0
    for text, size, bold in runs:
        for ch in text:
            if ch == "\n":
                if word:
                    words.append((word, space))
                words.append((-1.0, 0.0))
                word, pending_space = 0.0, 0.0
            elif ch.isspace():
                if word:
                    words.append((word, space))
                    word, pending_space = 0.0, 0.0
                pending_space += _advance(" ", bold) * size / 1000
            else:
                if not word:
                    space = pending_space
                word += _advance(ch, bold) * size / 1000
    if word:
        words.append((word, space))
    lines: list[float] = []
    current, room = 0.0, max(width_pt - first_line_pt, 1.0)
    for w, gap in words:
        if w < 0:
            lines.append(current)
            current, room = 0.0, max(width_pt, 1.0)
            continue
        if current and current + gap + w <= room:
            current += gap + w
            continue
        if current:
            lines.append(current)
            room = max(width_pt, 1.0)
        while w > room:  # a word wider than the line breaks where the line ends
            lines.append(room)
            w -= room
            room = max(width_pt, 1.0)
        current = w
    lines.append(current)
    return lines


__all__ = ["ASCENT_EM", "DESCENT_EM", "LINE_EM", "line_widths", "text_width_pt"]
