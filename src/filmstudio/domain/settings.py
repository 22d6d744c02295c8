"""Render settings: the one validated model shared by the CLI, the API and the desktop."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from filmstudio.domain.errors import InvalidSettings

STYLES: tuple[str, ...] = ("cinematic", "documentary", "minimal", "retro")
CAPTION_STYLES: tuple[str, ...] = ("standard", "karaoke")
# Which storyboard shots a video model animates: none, the key shots (establishing, a scene's first,
# action that moves), or all. Without a video model every shot is a still with its camera move.
MOTION_BUDGETS: tuple[str, ...] = ("none", "key", "all")
# Subtitle reading speed, characters a second: 17 for adults (Netflix timed-text style guide), 20 for
# short formats (a vertical film of three minutes or less), which viewers read in bursts.
ADULT_CPS, SHORT_CPS = 17, 20
MIN_CPS, MAX_CPS = 10, 25
SHORT_FORMAT_SECONDS = 180
MUSIC_GENRES: tuple[str, ...] = ("epic", "ambient", "upbeat", "dramatic", "calm", "lofi", "none")
# Public sizes first; the small ones are draft/preview sizes (fast renders, tests).
RESOLUTIONS: tuple[str, ...] = (
    "1920x1080",
    "1280x720",
    "1080x1920",
    "1080x1080",
    "854x480",
    "640x360",
    "320x180",
    "180x320",
    "320x320",
)
ASPECTS: dict[str, str] = {"16:9": "1920x1080", "9:16": "1080x1920", "1:1": "1080x1080"}
FPS_VALUES: tuple[int, ...] = (12, 15, 24, 25, 30, 50, 60)
AGES: tuple[str, ...] = ("child", "teen", "young", "adult", "middle-aged", "senior", "elderly")
GENDERS: tuple[str, ...] = ("male", "female", "neutral")
VOICE_QUALITIES: tuple[str, ...] = ("default", "deep", "high", "soft", "bright", "raspy", "warm", "whisper")
MIN_DURATION, MAX_DURATION = 5, 600
# Bounds on the list-like settings: a language list names each language once at most, and a cast
# far past any script's is a mistake (or an attack), refused rather than deduplicated.
MAX_LANGUAGE_ITEMS = 20
MAX_LANGUAGE_TEXT = 100  # characters of the comma-separated form ("en, es, fr")
MAX_CHARACTERS = 50


def _too_long(field: str, size: int, limit: int, unit: str = "items") -> PydanticCustomError:
    return PydanticCustomError("LIST_TOO_LONG", "{field} has {size} {unit}; at most {limit}",
                               {"field": field, "size": size, "limit": limit, "unit": unit})


class Language(BaseModel):
    """A language FilmStudio can speak and subtitle."""

    model_config = ConfigDict(frozen=True)

    code: str  # ISO 639-1
    iso639_2: str  # for MP4 subtitle track tags
    name: str
    espeak: str  # espeak-ng voice id
    rtl: bool = False


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language(code="en", iso639_2="eng", name="English", espeak="gmw/en-US"),
        Language(code="es", iso639_2="spa", name="Spanish", espeak="roa/es"),
        Language(code="fr", iso639_2="fra", name="French", espeak="roa/fr"),
        Language(code="de", iso639_2="deu", name="German", espeak="gmw/de"),
        Language(code="it", iso639_2="ita", name="Italian", espeak="roa/it"),
        Language(code="pt", iso639_2="por", name="Portuguese", espeak="roa/pt-BR"),
        Language(code="nl", iso639_2="nld", name="Dutch", espeak="gmw/nl"),
        Language(code="sv", iso639_2="swe", name="Swedish", espeak="gmq/sv"),
        Language(code="pl", iso639_2="pol", name="Polish", espeak="zlw/pl"),
        Language(code="ru", iso639_2="rus", name="Russian", espeak="zle/ru"),
        Language(code="uk", iso639_2="ukr", name="Ukrainian", espeak="zle/uk"),
        Language(code="tr", iso639_2="tur", name="Turkish", espeak="trk/tr"),
        Language(code="ar", iso639_2="ara", name="Arabic", espeak="sem/ar", rtl=True),
        Language(code="he", iso639_2="heb", name="Hebrew", espeak="sem/he", rtl=True),
        Language(code="hi", iso639_2="hin", name="Hindi", espeak="inc/hi"),
        Language(code="ja", iso639_2="jpn", name="Japanese", espeak="jpx/ja"),
        Language(code="zh", iso639_2="zho", name="Chinese", espeak="sit/cmn"),
        Language(code="ko", iso639_2="kor", name="Korean", espeak="ko"),
        Language(code="el", iso639_2="ell", name="Greek", espeak="grk/el"),
        Language(code="fi", iso639_2="fin", name="Finnish", espeak="urj/fi"),
    )
}


def _one_of(field: str, value: object, allowed: tuple[str, ...] | list[str], code: str) -> PydanticCustomError:
    shown = ", ".join(str(a) for a in allowed)
    return PydanticCustomError(
        code,
        "{field} '{value}' is not supported; choose one of: {allowed}",
        {"field": field, "value": value, "allowed": shown},
    )


def _enum(values: tuple[Any, ...] | list[Any]) -> Any:
    """Publish the accepted values in the JSON schema (the validators below still do the checking)."""
    return Field(json_schema_extra={"enum": list(values)})


LanguageCode = Annotated[str, _enum(sorted(LANGUAGES))]
_CODE = "(" + "|".join(sorted(LANGUAGES)) + ")"
# The comma-separated form ("en, es"): up to 20 parts (empty ones count), spaces around each.
SubtitleLanguages = Annotated[tuple[LanguageCode, ...] | None, WithJsonSchema({"anyOf": [
    {"type": "array", "items": {"type": "string", "enum": sorted(LANGUAGES)}, "maxItems": MAX_LANGUAGE_ITEMS},
    {"type": "string", "maxLength": MAX_LANGUAGE_TEXT,
     "pattern": f"^ *{_CODE}? *(, *{_CODE}? *){{0,{MAX_LANGUAGE_ITEMS - 1}}}$"},
    {"type": "null"},
], "default": None, "title": "Subtitle Languages"})]


class CharacterSpec(BaseModel):
    """How one character should sound. Unlisted characters are cast automatically."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    age: Annotated[str, _enum(AGES)] = "adult"
    gender: Annotated[str, _enum(GENDERS)] = "neutral"
    voice: Annotated[str, _enum(VOICE_QUALITIES)] = "default"
    # How the character looks, used word for word in every storyboard shot with them (AI pictures).
    description: str | None = Field(default=None, max_length=300)

    @field_validator("age")
    @classmethod
    def _age(cls, v: str) -> str:
        if v not in AGES:
            raise _one_of("age", v, AGES, "UNKNOWN_AGE")
        return v

    @field_validator("gender")
    @classmethod
    def _gender(cls, v: str) -> str:
        if v not in GENDERS:
            raise _one_of("gender", v, GENDERS, "UNKNOWN_GENDER")
        return v

    @field_validator("voice")
    @classmethod
    def _voice(cls, v: str) -> str:
        if v not in VOICE_QUALITIES:
            raise _one_of("voice", v, VOICE_QUALITIES, "UNKNOWN_VOICE")
        return v


class RenderSettings(BaseModel):
    """Everything that shapes a film besides its script. Field names follow the public API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration: Annotated[int, Field(json_schema_extra={"minimum": MIN_DURATION, "maximum": MAX_DURATION})] = 60
    style: Annotated[str, _enum(STYLES)] = "cinematic"
    language: LanguageCode = "en"
    subtitle_languages: SubtitleLanguages = None
    # Strict: JSON true/false only (lax mode would take 0, 1, "yes" where the schema says boolean).
    include_subtitles: StrictBool = True
    burn_subtitles: StrictBool = False
    # "karaoke": big burned-in captions a few words at a time, the spoken word lit (vertical shorts).
    captions: Annotated[str, _enum(CAPTION_STYLES)] = "standard"
    motion: Annotated[str, _enum(MOTION_BUDGETS)] = "key"
    # Subtitle reading speed in characters a second; None: 20 for a short format, else 17 (`max_cps`).
    reading_speed: Annotated[int, Field(json_schema_extra={"minimum": MIN_CPS, "maximum": MAX_CPS})] | None = None
    characters: tuple[CharacterSpec, ...] = Field(default=(), json_schema_extra={"maxItems": MAX_CHARACTERS})
    music_genre: Annotated[str, _enum(MUSIC_GENRES)] = "ambient"
    resolution: Annotated[str, _enum(RESOLUTIONS)] = "1920x1080"
    aspect_ratio: Annotated[str, _enum(tuple(ASPECTS))] | None = None
    fps: Annotated[int, _enum(FPS_VALUES)] = 30
    translations: dict[LanguageCode, str] = Field(default_factory=dict,
                                                  json_schema_extra={"maxProperties": MAX_LANGUAGE_ITEMS})
    # Publish when the render completes; generate answers YOUTUBE_NOT_CONNECTED while no channel is.
    youtube_upload: StrictBool = False
    title: str | None = None

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise PydanticCustomError(
                "INVALID_DURATION", "duration must be a whole number of seconds, got '{value}'", {"value": v}
            )
        if isinstance(v, float):
            if not math.isfinite(v) or v != int(v):
                raise PydanticCustomError(
                    "INVALID_DURATION", "duration must be a whole number of seconds, got '{value}'", {"value": v}
                )
            v = int(v)
        if not MIN_DURATION <= v <= MAX_DURATION:
            raise PydanticCustomError(
                "DURATION_OUT_OF_RANGE",
                "duration must be between {min} and {max} seconds, got {value}",
                {"min": MIN_DURATION, "max": MAX_DURATION, "value": v},
            )
        return v

    @field_validator("style")
    @classmethod
    def _style(cls, v: str) -> str:
        if v not in STYLES:
            raise _one_of("style", v, STYLES, "UNKNOWN_STYLE")
        return v

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        if v not in LANGUAGES:
            raise _one_of("language", v, sorted(LANGUAGES), "UNKNOWN_LANGUAGE")
        return v

    @field_validator("subtitle_languages", mode="before")
    @classmethod
    def _subtitle_languages(cls, v: Any) -> Any:
        if v is None:
            return v
        from_text = isinstance(v, str)
        if isinstance(v, str):
            if len(v) > MAX_LANGUAGE_TEXT:
                raise _too_long("subtitle_languages", len(v), MAX_LANGUAGE_TEXT, "characters")
            v = v.split(",")
            if len(v) > MAX_LANGUAGE_ITEMS:
                raise _too_long("subtitle_languages", len(v), MAX_LANGUAGE_ITEMS)
            v = [part for part in v if part.strip(" ")]
        elif not isinstance(v, list | tuple):
            raise PydanticCustomError("INVALID_SUBTITLE_LANGUAGES", "subtitle_languages must be a list of codes", {})
        if len(v) > MAX_LANGUAGE_ITEMS:
            raise _too_long("subtitle_languages", len(v), MAX_LANGUAGE_ITEMS)
        out: list[str] = []
        for item in v:
            code = item.strip(" ") if isinstance(item, str) and from_text else item
            if not isinstance(code, str) or code not in LANGUAGES:
                raise _one_of("subtitle language", code, sorted(LANGUAGES), "UNKNOWN_LANGUAGE")
            if code not in out:
                out.append(code)
        return tuple(out)

    @field_validator("translations", mode="before")
    @classmethod
    def _translations(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            raise PydanticCustomError("INVALID_TRANSLATIONS", "translations must map a language code to text", {})
        if len(v) > MAX_LANGUAGE_ITEMS:
            raise _too_long("translations", len(v), MAX_LANGUAGE_ITEMS)
        out: dict[str, str] = {}
        for code, text in v.items():
            if code not in LANGUAGES:
                raise _one_of("translation language", code, sorted(LANGUAGES), "UNKNOWN_LANGUAGE")
            if not isinstance(text, str):
                raise PydanticCustomError(
                    "INVALID_TRANSLATIONS", "translation for {lang} must be text", {"lang": code}
                )
            out[code] = text
        return out

    @field_validator("characters", mode="before")
    @classmethod
    def _characters(cls, v: Any) -> Any:
        if isinstance(v, list | tuple) and len(v) > MAX_CHARACTERS:
            raise _too_long("characters", len(v), MAX_CHARACTERS)
        return v

    @field_validator("captions")
    @classmethod
    def _captions(cls, v: str) -> str:
        if v not in CAPTION_STYLES:
            raise _one_of("captions", v, CAPTION_STYLES, "UNKNOWN_CAPTION_STYLE")
        return v

    @field_validator("reading_speed", mode="before")
    @classmethod
    def _reading_speed(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # 12.0 is the JSON number 12
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_CPS <= v <= MAX_CPS:
            raise PydanticCustomError(
                "INVALID_READING_SPEED",
                "reading_speed must be a whole number of characters a second from {min} to {max}, got '{value}'",
                {"min": MIN_CPS, "max": MAX_CPS, "value": v},
            )
        return v

    @field_validator("motion")
    @classmethod
    def _motion(cls, v: str) -> str:
        if v not in MOTION_BUDGETS:
            raise _one_of("motion", v, MOTION_BUDGETS, "UNKNOWN_MOTION")
        return v

    @field_validator("music_genre")
    @classmethod
    def _music(cls, v: str) -> str:
        if v not in MUSIC_GENRES:
            raise _one_of("music_genre", v, MUSIC_GENRES, "UNKNOWN_MUSIC_GENRE")
        return v

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v: str) -> str:
        if v not in RESOLUTIONS:
            raise _one_of("resolution", v, RESOLUTIONS, "UNSUPPORTED_RESOLUTION")
        return v

    @field_validator("aspect_ratio")
    @classmethod
    def _aspect(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v not in ASPECTS:
            raise _one_of("aspect_ratio", v, tuple(ASPECTS), "UNSUPPORTED_ASPECT_RATIO")
        return v

    @field_validator("fps", mode="before")
    @classmethod
    def _fps(cls, v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # 60.0 is the JSON number 60
        if isinstance(v, bool) or not isinstance(v, int) or v not in FPS_VALUES:
            raise _one_of("fps", v, tuple(str(f) for f in FPS_VALUES), "UNSUPPORTED_FPS")
        return v

    @model_validator(mode="after")
    def _aspect_sets_resolution(self) -> RenderSettings:
        if self.aspect_ratio is not None and "resolution" not in self.model_fields_set:
            object.__setattr__(self, "resolution", ASPECTS[self.aspect_ratio])
        return self

    # -- derived values -------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        w, h = self.resolution.split("x")
        return int(w), int(h)

    @property
    def short_format(self) -> bool:
        """A vertical film of three minutes or less (a "short"): subtitles may be read faster."""
        width, height = self.size
        return height > width and self.duration <= SHORT_FORMAT_SECONDS

    @property
    def max_cps(self) -> int:
        """The subtitles' reading speed: the setting, else 20 for a short format and 17 for any other."""
        if self.reading_speed is not None:
            return self.reading_speed
        return SHORT_CPS if self.short_format else ADULT_CPS

    @property
    def subtitle_langs(self) -> tuple[str, ...]:
        """The languages to write subtitles for (none when subtitles are off)."""
        if not self.include_subtitles:
            return ()
        return self.subtitle_languages if self.subtitle_languages is not None else (self.language,)

    @property
    def estimated_credits(self) -> int:
        return estimated_credits(self.duration)


def estimated_credits(duration: int) -> int:
    """Credits a film of `duration` seconds costs: one per started 20 seconds (60 s -> 3)."""
    return max(1, math.ceil(duration / 20))


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "settings"


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Flatten a pydantic error into `[{field, code, message, allowed?}]` with stable codes."""
    out: list[dict[str, Any]] = []
    for err in exc.errors(include_url=False):
        kind = str(err["type"])
        code = kind if kind.isupper() else _PYDANTIC_CODES.get(kind, "INVALID_VALUE")
        item: dict[str, Any] = {"field": _field_path(err["loc"]), "code": code, "message": err["msg"]}
        ctx = err.get("ctx") or {}
        if "allowed" in ctx:
            item["allowed"] = [a.strip() for a in str(ctx["allowed"]).split(",")]
        out.append(item)
    return out


_PYDANTIC_CODES = {
    "extra_forbidden": "UNKNOWN_FIELD",
    "missing": "MISSING_FIELD",
    "bool_type": "INVALID_TYPE",
    "bool_parsing": "INVALID_TYPE",
    "int_type": "INVALID_TYPE",
    "int_parsing": "INVALID_TYPE",
    "string_type": "INVALID_TYPE",
    "dict_type": "INVALID_TYPE",
    "list_type": "INVALID_TYPE",
    "tuple_type": "INVALID_TYPE",
    "model_type": "INVALID_TYPE",
    "string_too_short": "INVALID_VALUE",
    "string_too_long": "INVALID_VALUE",
}


def parse_settings(data: dict[str, Any] | None = None, **overrides: Any) -> RenderSettings:
    """Validate settings from a dict, raising `InvalidSettings` with per-field stable codes."""
    merged = {**(data or {}), **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return RenderSettings.model_validate(merged)
    except ValidationError as exc:
        errors = validation_details(exc)
        first = errors[0]
        code = first["code"] if len(errors) == 1 else "INVALID_SETTINGS"
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidSettings(message, code=code, details={"errors": errors}) from None

