"""Follow-up resolution against the previous turn (no model needed)."""

from __future__ import annotations

from retrieval.answer.conversation import History, Turn, main_entity, remember, resolve
from retrieval.answer.question import analyze


def _after(question: str, *, person: str | None = None, k: int = 3) -> History:
    first = resolve(question, None, k=k)
    return remember(None, first, k=k, person=person)


def test_first_question_is_a_new_topic_with_its_main_entity() -> None:
    resolution = resolve("冠县有多少家绿色建材企业？", None, k=3)
    assert not resolution.follow_up
    assert resolution.entity == "冠县"
    assert resolution.question.text == "冠县有多少家绿色建材企业？"


def test_pronoun_it_is_replaced_by_the_previous_main_entity() -> None:
    history = _after("美安建材集团有多少条生产线？")
    resolution = resolve("那它有几条深加工生产线？", history, k=3)
    assert resolution.follow_up
    assert resolution.question.text == "美安建材集团有几条深加工生产线？"


def test_he_refers_to_the_person_the_previous_answer_named() -> None:
    history = _after("美安建材集团的董事长是谁？", person="张书海")
    resolution = resolve("他之前在哪工作？", history, k=3)
    assert resolution.question.text == "张书海之前在哪工作？"


def test_he_falls_back_to_the_previous_entity_when_no_person_was_named() -> None:
    history = _after("刘修建现在担任什么职务？")
    assert resolve("他之前在哪工作？", history, k=3).question.text == "刘修建之前在哪工作？"


def test_anything_more_asks_the_previous_question_for_the_next_results() -> None:
    history = _after("冠县有多少家绿色建材企业？", k=3)
    resolution = resolve("还有呢", history, k=3)
    assert resolution.follow_up
    assert resolution.question.text == "冠县有多少家绿色建材企业？"
    assert resolution.offset == 3
    history = remember(history, resolution, k=3, person=None)
    assert resolve("还有呢？", history, k=3).offset == 6


def test_what_about_x_asks_the_previous_question_about_x() -> None:
    history = _after("冠县有多少家绿色建材企业？")
    resolution = resolve("那东阿县呢？", history, k=3)
    assert resolution.question.text == "东阿县有多少家绿色建材企业？"
    assert resolution.entity == "东阿县"


def test_bare_question_without_a_topic_is_about_the_previous_entity() -> None:
    history = _after("刘修建现在担任什么职务？")
    assert resolve("哪一年获评最美公务员？", history, k=3).question.text.startswith("刘修建")


def test_a_new_topic_resets_the_history() -> None:
    history = _after("冠县有多少家绿色建材企业？")
    resolution = resolve("谁主持召开了市国土空间规划审查委员会会议？", history, k=3)
    assert not resolution.follow_up
    after = remember(history, resolution, k=3, person="王峰")
    assert len(after.turns) == 1
    assert after.last is not None and after.last.person == "王峰"


def test_history_keeps_only_the_last_five_turns() -> None:
    history = _after("刘修建现在担任什么职务？")
    for _ in range(7):
        history = remember(history, resolve("还有呢", history, k=3), k=3, person=None)
    assert len(history.turns) == 5


def test_history_round_trips_through_a_plain_dict() -> None:
    history = History((Turn("冠县有多少家绿色建材企业？", "冠县", None, 0, 3),))
    assert History.from_dict(history.to_dict()) == history
    assert History.from_dict(None) == History()


def test_main_entity_is_the_subject_the_question_opens_with() -> None:
    assert main_entity(analyze("东阿县市场监督管理局有多少人？")) == "东阿县市场监督管理局"
    # Opening with the question word: the longest topic word stands in.
    assert main_entity(analyze("谁讲述了小萝卜头的故事？")) == "小萝卜头"


def test_a_date_qualifying_the_subject_stays_with_it() -> None:
    # "8月份…利率" is one month's rate: a follow-up about "它" must keep the month.
    assert main_entity(analyze("8月份全市普惠小微贷款加权平均利率是多少？")) == (
        "8月份全市普惠小微贷款加权平均利率"
    )
    first = resolve("8月份全市普惠小微贷款加权平均利率是多少？", None, k=3)
    history = remember(None, first, k=3, person=None)
    follow = resolve("那它同比下降了多少？", history, k=3)
    assert follow.question.text == "8月份全市普惠小微贷款加权平均利率同比下降了多少？"
    # A date set off by a comma says when, not what.
    assert main_entity(analyze("10月7日，冠县共有多少家绿色建材企业？")) == "冠县"
