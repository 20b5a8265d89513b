"""Plain-English pieces for explanations: times, durations, pronouns, "9 days in 10".

>>> hhmm(7 * 60 + 5)
'07:05'
>>> duration(125 * 60)
'2 h 05 min'
>>> duration(40)
'1 min'
>>> share(0.9)
'9 days in 10'
>>> Pronouns("she").obj
'her'
"""

from __future__ import annotations

from dataclasses import dataclass

_FORMS = {"she": ("she", "her", "her"), "he": ("he", "him", "his"), "they": ("they", "them", "their")}


@dataclass(frozen=True, slots=True)
class Pronouns:
    word: str

    @property
    def subj(self) -> str:
        return _FORMS.get(self.word, _FORMS["they"])[0]

    @property
    def obj(self) -> str:
        return _FORMS.get(self.word, _FORMS["they"])[1]

    @property
    def poss(self) -> str:
        return _FORMS.get(self.word, _FORMS["they"])[2]

    def be(self) -> str:
        return "are" if self.subj == "they" else "is"

    def verb(self, s_form: str, plain: str) -> str:
        """``verb("goes", "go")`` -> "goes" for she/he, "go" for they."""
        return plain if self.subj == "they" else s_form


def hhmm(minute_of_day: float) -> str:
    m = round(minute_of_day) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def duration(seconds: float) -> str:
    mins = max(1, round(seconds / 60))
    if mins < 60:
        return f"{mins} min"
    return f"{mins // 60} h {mins % 60:02d} min"


def share(q: float) -> str:
    """A quantile level in words: 0.9 -> "9 days in 10", 0.95 -> "19 days in 20"."""
    for den in (10, 20, 50, 100):
        num = q * den
        if abs(num - round(num)) < 1e-6:
            return f"{round(num)} days in {den}"
    return f"{round(q * 100)} days in 100"
