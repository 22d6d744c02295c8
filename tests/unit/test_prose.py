"""Prose splitting: paragraphs, sentences, titles; the shared prose samples."""

from __future__ import annotations

from pathlib import Path

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.prose import (
    MAX_SENTENCES,
    SHORT_PARAGRAPH,
    looks_like_title,
    paragraphs,
    sentences,
    split_prose,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def test_paragraphs_join_wrapped_lines_and_skip_blank_runs() -> None:
    text = "First line\nwraps here.\n\n\n   \nSecond.\r\n\r\nThird."
    assert paragraphs(text) == ["First line wraps here.", "Second.", "Third."]


def test_sentences_keep_quotes_and_split_cjk() -> None:
    assert sentences('He said "Go." Then he left! Why?') == ['He said "Go."', "Then he left!", "Why?"]
    assert sentences("東京の夜は静かだった。雨が降り始めた。") == ["東京の夜は静かだった。", "雨が降り始めた。"]


def test_title_detection() -> None:
    assert looks_like_title("Solar Sails")
    assert not looks_like_title("A sail needs no fuel.")
    assert not looks_like_title("word " * 20)
    doc = split_prose("Solar Sails\n\nA solar sail needs no fuel at all, only light.")
    assert doc.title == "Solar Sails"
    assert doc.passages[0].paragraphs == ("A solar sail needs no fuel at all, only light.",)
    # A lone short line is the text, not a title.
    assert split_prose("Hello there").title is None


def test_long_paragraph_splits_at_sentence_ends() -> None:
    para = " ".join(f"Sentence number {n} is here." for n in range(12))
    doc = split_prose(para)
    pieces = [p for passage in doc.passages for p in passage.paragraphs]
    assert len(pieces) == 3
    assert all(len(sentences(p)) <= MAX_SENTENCES for p in pieces)
    assert " ".join(pieces) == para


def test_short_paragraphs_merge_into_the_next_passage() -> None:
    doc = split_prose("Yes.\n\nThe long paragraph that follows the short one.\n\nNo.")
    assert [p.paragraphs for p in doc.passages] == [
        ("Yes.", "The long paragraph that follows the short one.", "No.")
    ]


def test_solar_sails_sample() -> None:
    doc = split_prose(sample("solar-sails.txt"))
    assert doc.title is None  # the first line is a full sentence
    assert len(doc.passages) == 5
    assert doc.passages[0].paragraphs[0].startswith("For most of history")
    assert doc.passages[-1].paragraphs[0].endswith("carrying our questions with it.")
    script = analyse(sample("solar-sails.txt"), RenderSettings(title="Sails"))
    assert not script.is_fountain and script.title == "Sails" and script.characters == ()
    assert [ln.index for ln in script.lines] == list(range(5))
    assert {(ln.kind, ln.speaker) for ln in script.lines} == {("narration", "NARRATOR")}


def test_unicode_mix_sample_keeps_every_character() -> None:
    text = sample("unicode-mix.txt")
    doc = split_prose(text)
    pieces = [p for passage in doc.passages for p in passage.paragraphs]
    assert pieces == paragraphs(text)
    assert any("東京" in p for p in pieces) and any("مرحبا" in p for p in pieces) and any("🚀" in p for p in pieces)
    assert "Café Zoë opened at dawn — naïve tourists queued for crème brûlée." in pieces
    # The short Japanese paragraph is not a scene of its own.
    assert all(len(" ".join(p.paragraphs)) >= SHORT_PARAGRAPH for p in doc.passages)
    script = analyse(text, RenderSettings())
    assert script.title == "Untitled" and not script.is_fountain
    assert [ln.text for ln in script.lines] == pieces
