"""subtitles: cues from the real clip timings, SRT + WebVTT per language, and how readable each is.

Cues follow a subtitler's rules (`media.captions.build_cues`); names are written as names, never
the screenplay's capitals; the manifest's `subtitles` section reports each track (`media.readability`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from filmstudio.domain.errors import FilmStudioError
from filmstudio.domain.settings import LANGUAGES
from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.media.captions import align_translation, build_cues, write_srt, write_vtt
from filmstudio.pipeline.media.readability import readability
from filmstudio.pipeline.plan import Cue, RenderPlan, TimedLine
from filmstudio.pipeline.providers.translate import available_translator
from filmstudio.pipeline.script.delivery import names_as_written


@dataclass(frozen=True)
class Subtitles:
    name: ClassVar[str] = "subtitles"
    weight: ClassVar[float] = 0.01

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.script is not None
        settings = plan.settings
        spoken = [t for t in plan.timed_lines if t.clip is not None]
        source = {t.line.index: t.line.text for t in spoken}
        characters = plan.script.characters
        speakers = {t.line.index: t.line.speaker for t in spoken}
        cues_by_lang: dict[str, tuple[Cue, ...]] = {}
        files = {}
        report = {}
        warnings = list(plan.warnings)
        langs = settings.subtitle_langs
        for n, lang in enumerate(langs):
            texts = self._texts_for(lang, plan, source, warnings, ctx)
            if texts is None:
                continue
            shown = {k: names_as_written(v, characters) for k, v in texts.items()}
            cues = build_cues([(t.line.index, t.start, t.end, shown.get(t.line.index, "")) for t in spoken
                               if shown.get(t.line.index, "").strip()],
                              words=_word_times(spoken) if texts is source else None, speakers=speakers,
                              fps=settings.fps, max_cps=settings.max_cps)
            report[lang] = readability(cues, max_cps=settings.max_cps, fps=settings.fps)
            srt = plan.work_dir / f"subtitles.{lang}.srt"
            vtt = plan.work_dir / f"subtitles.{lang}.vtt"
            write_srt(cues, srt)
            write_vtt(cues, vtt)
            cues_by_lang[lang] = tuple(cues)
            files[lang] = {"srt": srt, "vtt": vtt}
            ctx.report(self.name, (n + 1) / len(langs))
        return replace(plan, subtitles=cues_by_lang, subtitle_files=files, warnings=tuple(warnings),
                       subtitle_report=report)

    def _texts_for(
        self, lang: str, plan: RenderPlan, source: dict[int, str], warnings: list[str], ctx: StageContext
    ) -> dict[int, str] | None:
        settings = plan.settings
        assert plan.script is not None
        if lang == settings.language:
            return source
        if lang in settings.translations:
            return align_translation(plan.script, settings.translations[lang], settings, language=lang)
        translator = available_translator(ctx.engines.translator, settings.language, lang)
        name = LANGUAGES[lang].name
        if translator is not None:
            try:
                keys = list(source)
                out = translator.translate([source[k] for k in keys], settings.language, lang)
                return dict(zip(keys, out, strict=True))
            except (FilmStudioError, RuntimeError, ValueError, OSError) as exc:
                warnings.append(f"no {name} ({lang}) subtitles: the offline translator failed: {exc}")
                return None
        warnings.append(
            f"no {name} ({lang}) subtitles: no translation was given and no offline translator "
            f"is installed (pass translations.{lang}, or install argostranslate with the "
            f"{settings.language}->{lang} package)"
        )
        return None


def word_timings(t: TimedLine) -> list[tuple[str, float, float]] | None:
    """The words `t`'s voice spoke, each with its start and end on the film's timeline, or None.

    The one place the subtitles and the karaoke captions read word timings from (`TimedLine.words`).
    """
    return [(w.word, w.start, w.end) for w in t.words] if t.words else None


def _word_times(spoken: list[TimedLine]) -> dict[int, list[tuple[str, float, float]]]:
    """The spoken words of each line on the film's timeline, where its voice gave word timings."""
    return {t.line.index: found for t in spoken if (found := word_timings(t))}
