"""Follow-up questions: resolve "那它有几条生产线？" against the previous turn before retrieval.

A conversation is a plain value (:class:`History`) passed in and returned, so the bot can
keep one per chat (``to_dict``/``from_dict`` for storage) and the library stays stateless.

Rules, in order:

* "还有呢" / "更多" / "继续" → the previous question again, next page of results;
* a pronoun (它 他 她 该 这/那 + measure word) in a short question → replaced by the previous
  turn's main entity (for 他/她: the person the previous answer named, if it named one);
* "那X呢？" → the previous question with its main entity replaced by X;
* a short question with a bare question word and no topic of its own ("在哪里？") → previous
  entity prepended;
* anything else is a new topic and starts a new history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from .question import Question, analyze

MAX_TURNS = 5
# A follow-up is short; a long question with a pronoun is usually self-contained prose.
FOLLOW_UP_MAX_CHARS = 20

_MORE_RE = re.compile(
    r"^(?:还有(?:呢|吗|别的|其他)?|更多|继续|下一个|下一条|再来|next|more)[?？。!！\s]*$",
    re.IGNORECASE,
)
_PRONOUN_RE = re.compile(
    r"它们|他们|她们|它|他|她|该(?:[^\W\d]?)|这(?:个|家|位|条|项|里)|那(?:个|家|位|条|项)"
)
_PERSON_PRONOUN_RE = re.compile(r"他们|她们|他|她")
_WHAT_ABOUT_RE = re.compile(r"^(?:那|那么)?(?P<x>[^，,。？?]{1,12})呢[?？]?$")
_LEADING_THEN_RE = re.compile(r"^(?:那么|那)(?=[^个家位条项些])")
_LEADING_DATE_RE = re.compile(
    r"^(?P<date>(?:\d{4}年)?(?:\d{1,2}月份?)?(?:\d{1,2}[日号])?(?:上午|下午|晚上)?)(?P<comma>[，,]?)"
)
# Words that end a question's opening subject: its verb, a question word, a particle.
_PREDICATE_RE = re.compile(
    r"的|有|是|在|现在|目前|之前|以前|曾经|曾|担任|为什么|为何|怎么|怎样|如何|多少|几|哪|谁|什么|"
    r"获|被|把|和|与|对|从|将|通过|主持|召开|开展|位于|属于|共有|叫|称|于|今年|去年|最近|还|也|都|"
    r"[?？,，。]"
)


@dataclass(frozen=True, slots=True)
class Turn:
    """One answered question as remembered for follow-ups."""

    question: str  # the resolved question that was searched
    entity: str | None  # its main topic word ("冠县", "美安建材集团")
    person: str | None  # a person the answer named (for 他/她)
    offset: int  # result offset used ("还有呢" continues after offset + k)
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "entity": self.entity, "person": self.person,
                "offset": self.offset, "k": self.k}


@dataclass(frozen=True, slots=True)
class History:
    """The last few turns of one conversation, newest last."""

    turns: tuple[Turn, ...] = ()

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def with_turn(self, turn: Turn, *, new_topic: bool) -> History:
        kept = () if new_topic else self.turns
        return History((*kept, turn)[-MAX_TURNS:])

    def to_dict(self) -> dict[str, Any]:
        return {"turns": [t.to_dict() for t in self.turns]}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> History:
        if not data:
            return cls()
        return cls(tuple(Turn(**t) for t in data.get("turns", ())))


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a question was read in its conversation."""

    question: Question  # analysed, resolved question: what retrieval sees
    offset: int  # result offset to use
    follow_up: bool  # False: a new topic (history restarts)
    entity: str | None = field(default=None)  # main entity of the resolved question
    more: bool = False  # "还有呢": the next results of the previous question


def main_entity(question: Question) -> str | None:
    """The topic a pronoun in the next question most likely refers to.

    Chinese questions mostly open with their subject ("美安建材集团有…", "刘修建现在…"), so
    the text before the first predicate word is taken; jieba's POS tags proved too unreliable
    for this (刘修建 → 刘 + 修建). A question that opens with its question word ("谁主持…")
    falls back to its longest topic word.
    """
    subject = leading_subject(question.normalized)
    if subject:
        return subject
    return max((t for t in question.terms if len(t) >= 2), key=len, default=None)


def leading_subject(text: str) -> str | None:
    """The noun phrase a question opens with, or None when it opens with a verb or question word."""
    text = _LEADING_THEN_RE.sub("", text.strip())
    dated = _LEADING_DATE_RE.match(text)
    assert dated is not None  # every part of the pattern is optional
    text = text[dated.end():]
    match = _PREDICATE_RE.search(text)
    subject = text[: match.start()] if match else ""
    subject = subject.strip(" ,，。?？!！")
    if not 2 <= len(subject) <= 16:
        return None
    # "8月份全市…利率" names one month's rate: the date stays with its subject. A date set off
    # by a comma ("10月7日，冠县…") says when, not what, and is left out.
    return subject if dated.group("comma") else dated.group("date") + subject


def resolve(text: str, history: History | None, *, k: int, offset: int = 0) -> Resolution:
    """Read ``text`` in the light of ``history`` (None or empty: a new conversation)."""
    last = history.last if history else None
    stripped = text.strip()
    if last is None or len(stripped) > FOLLOW_UP_MAX_CHARS:
        return _new(stripped, offset)
    if _MORE_RE.match(stripped):
        return Resolution(
            analyze(last.question), last.offset + last.k, True, last.entity, more=True
        )
    pronoun = _PRONOUN_RE.search(stripped)
    if pronoun:
        is_person = bool(_PERSON_PRONOUN_RE.fullmatch(pronoun.group(0)))
        referent = (last.person or last.entity) if is_person else last.entity
        if referent:
            rewritten = _LEADING_THEN_RE.sub("", stripped.replace(pronoun.group(0), referent, 1))
            return Resolution(analyze(rewritten), offset, True, referent)
    what_about = _WHAT_ABOUT_RE.match(stripped)
    if what_about and last.entity and last.entity in last.question:
        other = what_about.group("x")
        rewritten = last.question.replace(last.entity, other, 1)
        return Resolution(analyze(rewritten), offset, True, other)
    if last.entity and leading_subject(stripped) is None:
        # "哪一年获评最美公务员？": no subject of its own, so it continues the last topic.
        rewritten = last.entity + _LEADING_THEN_RE.sub("", stripped)
        return Resolution(analyze(rewritten), offset, True, last.entity)
    return _new(stripped, offset)


def _new(text: str, offset: int) -> Resolution:
    question = analyze(text)
    return Resolution(question, offset, False, main_entity(question))


def remember(
    history: History | None, resolution: Resolution, *, k: int, person: str | None
) -> History:
    """History after answering ``resolution`` (``person``: a name the answer highlighted)."""
    base = history or History()
    turn = Turn(
        question=resolution.question.text,
        entity=resolution.entity,
        person=person,
        offset=resolution.offset,
        k=k,
    )
    if resolution.follow_up and base.last is not None and resolution.entity == base.last.entity:
        # Keep the earlier person when this answer named none: "他" still means them.
        turn = replace(turn, person=person or base.last.person)
    return base.with_turn(turn, new_topic=not resolution.follow_up)
