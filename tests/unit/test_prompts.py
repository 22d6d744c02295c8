"""Prompts fitted to the picture model's token limit: the tiny model's real tokenizer and the estimate."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.prompts import EstimatedTokens, PromptPart, PromptTokens, fit_prompt, model_tokens
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.storyboard import STYLE_LOOKS, Storyboard, build_storyboard

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "night-market.fountain"
# A long action line in the middle of the market scene: a shot that cannot keep all its words.
LONG = ("OLD VENDOR (70s), wiry, ladles broth without looking up.",
        "OLD VENDOR (70s), wiry, ladles broth without looking up. Behind him the lanterns swing in the wind "
        "and a line of hungry students waits with paper bowls and chopsticks while a scooter weaves between the "
        "crowded stalls. Paper lanterns of red and gold hang from every awning along the narrow street, and a dog "
        "sleeps under a cart piled high with melons.")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> PromptTokens:
    """The tiny test model's own CLIP tokenizer, saved where a diffusers folder keeps it."""
    pytest.importorskip("transformers")
    from tiny_sd import tiny_tokenizer

    root = tmp_path_factory.mktemp("tok")
    tiny_tokenizer(root / "words").save_pretrained(str(root / "tiny-sd" / "tokenizer"))
    tokens = model_tokens(root / "tiny-sd", "tiny-sd")
    assert tokens.name == "tiny-sd tokenizer" and tokens.limit == 77
    return tokens


def _board(tokens: PromptTokens, text: str, **settings: object) -> Storyboard:
    s = RenderSettings.model_validate(settings)
    return build_storyboard(analyse(text, s), s, text=text, tokens=tokens)


def _check(board: Storyboard, tokens: PromptTokens) -> None:
    looks = {c.name: c.description for c in board.characters}
    for shot in board.shots:
        assert shot.tokens == tokens.count(shot.prompt)
        if shot.descriptions_fit:
            assert shot.tokens <= tokens.limit, shot
        # Every description in the prompt is whole; the first character's always is.
        named = [n for n in shot.characters if looks[n] in shot.prompt]
        assert not shot.characters or named[:1] == [shot.characters[0]], shot
        for name in set(shot.characters) - set(named):
            assert f"{name}'s description" in (shot.warning or "") and not shot.descriptions_fit


def test_the_tiny_tokenizer_fits_every_shot_and_says_what_it_left_out(tiny: PromptTokens) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    board = _board(tiny, text)
    assert board.tokens == "tiny-sd tokenizer" and board.token_limit == 77
    _check(board, tiny)
    full = _board(EstimatedTokens(limit=10_000), text)  # nothing left out
    for shot, whole in zip(board.shots, full.shots, strict=True):
        assert (shot.prompt == whole.prompt) == (shot.warning is None)
        if shot.warning:
            assert shot.tokens < tiny.count(whole.prompt)
            assert STYLE_LOOKS["cinematic"] not in shot.prompt  # the look goes first
            assert shot.prompt.startswith(whole.prompt.split(",")[0]) or "camera" in shot.warning
    # Two characters whose descriptions do not both fit: the second is left out whole, and the
    # storyboard's warnings (what the render's manifest shows) say so.
    both = [s for s in board.shots if len(s.characters) == 2]
    assert both and all(not s.descriptions_fit and "KAI's description" in (s.warning or "") for s in both)
    assert [w for w in board.warnings if "KAI's description" in w]


def test_a_long_shot_loses_its_style_then_its_last_action_words_never_a_description(tiny: PromptTokens) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace(*LONG)
    for tokens in (EstimatedTokens(), tiny):
        board = _board(tokens, text)
        _check(board, tokens)
        shot = next(s for s in board.shots if "students" in s.text)
        assert shot.characters == ("OLD VENDOR",) and shot.tokens <= 77
        # Issue 22: the vendor's action follows their description; the place in words ("outdoors at ...").
        assert "a wiry old vendor in their seventies ladles" in shot.prompt or "the action" in (shot.warning or "")
        assert "outdoors at the night market" in shot.prompt or "the place" in (shot.warning or "")
        assert shot.warning and "the style's" in shot.warning and "melons" not in shot.prompt
    # The estimate keeps the action's start and the style's first words; the tiny tokenizer (a
    # token a letter) keeps less of both, the camera, the description, the place and the time.
    assert "ladles broth" in _board(EstimatedTokens(), text).shots[shot.number - 1].prompt
    assert shot.prompt.startswith("wide shot, ") and "action" in (shot.warning or "")
    assert "cinematic" not in shot.prompt


def test_descriptions_over_the_limit_stay_whole_and_are_reported(tiny: PromptTokens) -> None:
    long_look = "a tall woman in a long green coat with brass buttons, silver rings on every finger and a scarf"
    text = "Title: T\n\nINT. HALL - DAY\n\nNORA waits by the door.\n\nNORA\nHe is late.\n"
    board = _board(tiny, text, characters=[{"name": "NORA", "description": long_look}])
    shot = board.shots[-1]
    assert long_look in shot.prompt and shot.tokens > 77  # never cut mid-way by us
    assert not shot.descriptions_fit and "NORA's description alone" in (shot.warning or "")
    assert board.warnings and board.warnings[0].startswith(f"storyboard shot {shot.number}:")


def test_fit_prompt_order_and_the_estimate() -> None:
    tokens = EstimatedTokens(limit=22)
    parts = [PromptPart("wide shot", "camera"), PromptPart("a woman in red", "character", "ANA"),
             PromptPart("a man with a hat", "character", "BEN"), PromptPart("exterior pier", "place"),
             PromptPart("at night", "time"), PromptPart("film still, grainy, anamorphic", "look"),
             PromptPart("a gull on a post", "action")]
    fitted = fit_prompt(parts, tokens)
    assert fitted.text == "wide shot, a woman in red and a man with a hat, exterior pier, at night"
    assert fitted.tokens <= 22 and "the style's film still, grainy, anamorphic" in (fitted.warning or "")
    assert fitted.descriptions_fit
    tighter = fit_prompt(parts, EstimatedTokens(limit=15))
    assert tighter.text == "wide shot, a woman in red and a man with a hat" and tighter.descriptions_fit
    fewer = fit_prompt(parts, EstimatedTokens(limit=10))
    assert fewer.text == "wide shot, a woman in red" and not fewer.descriptions_fit
    assert "BEN's description" in (fewer.warning or "")
    assert fit_prompt(parts[:2], tokens).warning is None
    # The estimate counts high: every mark a token, long words two or more.
    est = EstimatedTokens()
    assert est.count("") == 2 and est.count("a cat") == 4 and est.count("a, cat.") == 6
    assert est.count("anamorphic") == 4
