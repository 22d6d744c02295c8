"""The writer's brief, clean-up and check: what makes a model's answer a film (no model here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from filmstudio.domain.errors import IdeaError, WriterFailed
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import ChatMessage, Completion, EngineInfo, TextStream, Writer
from filmstudio.pipeline.script.fountain import parse
from filmstudio.pipeline.writer import MAX_IDEA_CHARS, Brief, check, clean, instructions, write_screenplay

DATA = Path(__file__).resolve().parents[1] / "data" / "writer"
GOOD = (DATA / "good-30.fountain").read_text(encoding="utf-8")
LONG = (DATA / "too-long-30.fountain").read_text(encoding="utf-8")
IDEA = "An old lighthouse keeper hands her lamp to a young engineer on her last night."


class Scripted:
    """A Writer that answers from a list and records what it was asked."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.asked: list[list[ChatMessage]] = []

    def info(self) -> EngineInfo:
        return EngineInfo(kind="writer", name="scripted")

    def complete(self, messages: Sequence[ChatMessage], options: Completion, *, cancel: CancelToken,
                 stream: TextStream | None = None) -> str:
        self.asked.append(list(messages))
        answer = self.answers.pop(0)
        for i in range(0, len(answer), 20):
            if stream is not None:
                stream(answer[i:i + 20])
        return answer


def test_scripted_is_a_writer() -> None:
    assert isinstance(Scripted([]), Writer)


@pytest.mark.parametrize(("idea", "code"), [("", "IDEA_EMPTY"), ("  \n\t ", "IDEA_EMPTY"),
                                             ("x" * (MAX_IDEA_CHARS + 1), "IDEA_TOO_LONG")])
def test_bad_ideas_are_refused_before_any_model_runs(idea: str, code: str) -> None:
    writer = Scripted([GOOD])
    with pytest.raises(IdeaError) as err:
        write_screenplay(writer, Brief(idea), cancel=CancelToken())
    assert err.value.code == code and writer.asked == []


def test_the_budget_grows_with_the_film_and_is_in_the_instructions() -> None:
    short, long = Brief(IDEA, duration=30), Brief(IDEA, duration=120)
    assert 40 < short.words < long.words and short.scenes < long.scenes
    user = instructions(long)[1].content
    assert f"about {long.words} spoken words" in user and f"{long.scenes} scenes" in user
    assert "(whispering)" in instructions(long)[0].content  # parentheticals only from our delivery lexicon


def test_markdown_fences_bold_headings_and_chat_dialogue_are_cleaned() -> None:
    answer = ("Sure! Here's your screenplay:\n\n```fountain\n**Title:** Salt\n\n## Scene 1: int. harbour office day\n\n"
              "MARA (60s), in a yellow raincoat, reads a letter.\n\n**MARA:** It came at last.\n\n"
              "THEO (quietly): Then go.\n```\n\nI hope you enjoy it!\n")
    text, fixed = clean(answer)
    doc = parse(text)
    assert [e.text for e in doc.elements if e.type == "scene_heading"] == ["INT. HARBOUR OFFICE - DAY"]
    assert [e.text for e in doc.elements if e.type == "character"] == ["MARA", "THEO"]
    assert [e.text for e in doc.elements if e.type == "parenthetical"] == ["(quietly)"]
    assert doc.field("title") == "Salt"
    assert "*" not in text and "`" not in text and "hope" not in text and "Sure" not in text
    assert len(fixed) >= 4


def test_a_good_answer_passes_and_a_long_one_is_told_how_much_to_cut() -> None:
    assert not [p for p in check(GOOD, Brief(IDEA, duration=30)) if p.blocking]
    problems = [p.text for p in check(LONG, Brief(IDEA, duration=30)) if p.blocking]
    assert len(problems) == 1 and "too long" in problems[0] and "spoken words" in problems[0]


def test_no_scenes_and_too_short_are_problems() -> None:
    prose = "The sea was grey. She waited."
    problems = [p.text for p in check(prose, Brief(IDEA, duration=60)) if p.blocking]
    assert any("no scene headings" in p for p in problems) and any("too short" in p for p in problems)


def test_the_repair_loop_sends_the_problems_back_and_keeps_the_fixed_draft() -> None:
    writer = Scripted([LONG, GOOD])
    seen: list[tuple[int, str]] = []
    play = write_screenplay(writer, Brief(IDEA, duration=30), cancel=CancelToken(),
                            on_text=lambda n, d: seen.append((n, d)))
    assert play.rounds == 2 and play.text.strip() == GOOD.strip()
    repair = writer.asked[1][-1]
    assert repair.role == "user" and "too long" in repair.content
    assert writer.asked[1][-2] == ChatMessage("assistant", LONG)
    assert {n for n, _ in seen} == {1, 2} and "".join(d for n, d in seen if n == 2) == GOOD


def test_three_bad_answers_fail_with_the_problems() -> None:
    writer = Scripted([LONG, LONG, LONG, GOOD])
    with pytest.raises(WriterFailed) as err:
        write_screenplay(writer, Brief(IDEA, duration=30), cancel=CancelToken())
    assert err.value.code == "WRITER_FAILED" and len(writer.asked) == 3
    assert err.value.details["rounds"] == 3 and "too long" in err.value.details["problems"][0]


def test_a_missing_title_is_taken_from_the_idea() -> None:
    untitled = GOOD.split("\n", 2)[2]
    play = write_screenplay(Scripted([untitled]), Brief(IDEA, duration=30), cancel=CancelToken())
    assert play.title == "An old lighthouse keeper hands her" and play.text.startswith("Title: An old lighthouse")


def test_advice_names_characters_never_introduced_and_foreign_parentheticals() -> None:
    text = GOOD.replace("THEO (20s), lanky, in an engineer's orange jacket, climbs in with a toolbox.",
                        "Someone climbs in.").replace("(quietly)", "(to the lamp)")
    advice = [p.text for p in check(text, Brief(IDEA, duration=30)) if not p.blocking]
    assert any("THEO" in a.upper() and "introduced" in a for a in advice)
    assert any("(to the lamp)" in a for a in advice)


def test_cancel_before_a_round_stops_the_loop() -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Exception) as err:
        write_screenplay(Scripted([GOOD]), Brief(IDEA, duration=30), cancel=cancel)
    assert getattr(err.value, "code", "") == "JOB_CANCELLED"
