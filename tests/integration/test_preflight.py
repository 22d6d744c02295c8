"""The up-front length check and the render agree: what preflight accepts, the voices stage fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.runner import preflight
from filmstudio.pipeline.stages.script_analysis import ScriptAnalysis
from filmstudio.pipeline.stages.voice_synthesis import VoiceSynthesis
from studio_engines import real_engines, render_film

# One story in several writing systems; words (or characters, where words are not spaced) are
# added until preflight refuses, and the longest script it accepted is voiced for real.
STORIES = {
    "ar": "مرحبا بكم في السوق الليلي حيث تضيء الفوانيس الطريق ويبيع التجار الشاي والخبز الساخن للمارة",
    "he": "ברוכים הבאים לשוק הלילה שם הפנסים מאירים את הדרך והסוחרים מוכרים תה ולחם חם לעוברים ושבים",
    "zh": ("欢迎来到夜市灯笼照亮道路商人向路人出售茶和热面包奶奶说那天晚上海很平静"),
    "ja": ("夜市へようこそ提灯が道を照らし商人が通行人にお茶と温かいパンを売っています"),
    "en": "Welcome to the night market where lanterns light the road and traders sell tea and hot bread "
          "to everyone who passes by",
}


def _longest_accepted(lang: str, duration: int) -> str:
    glue = "" if lang in ("zh", "ja") else " "
    settings = parse_settings({"duration": duration, "language": lang})
    accepted = ""
    words = (STORIES[lang].split() if glue else list(STORIES[lang])) * 3
    for n in range(1, len(words) + 1):
        text = glue.join(words[:n]) + ("。" if not glue else ".")
        try:
            preflight(text, settings, real_engines().voices.voices())  # the engines the render uses
        except ScriptError as exc:
            assert exc.code == "SCRIPT_TOO_LONG"
            return accepted
        accepted = text
    pytest.fail(f"the {lang} story never got too long for {duration} s: lengthen it")


@pytest.mark.parametrize("lang", sorted(STORIES))
@pytest.mark.parametrize("duration", [5, 8])
def test_what_preflight_accepts_the_render_fits(lang: str, duration: int, tmp_path: Path) -> None:
    text = _longest_accepted(lang, duration)
    settings = parse_settings({"duration": duration, "language": lang, "resolution": "320x180", "fps": 12})
    captured = {}

    class Capture:
        name = "capture"
        weight = 0.0

        def run(self, plan, ctx):  # type: ignore[no-untyped-def]
            captured["plan"] = plan
            raise RuntimeError("stop here: only the voices are under test")

    with pytest.raises(RuntimeError, match="stop here"):
        render_film(text, settings, tmp_path / "o.mp4", work_dir=tmp_path / "w", cache_dir=tmp_path / "c",
                    stages=[ScriptAnalysis(), VoiceSynthesis(), Capture()])
    plan = captured["plan"]
    assert abs(plan.duration - duration) <= 1.0
