"""YouTube pieces without a server: error codes, the quota reset time, pasted codes, video metadata."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filmstudio.domain.models import YouTubeOptions
from filmstudio.services.youtube.auth import code_from
from filmstudio.services.youtube.client import error_for, quota_resets_at
from filmstudio.services.youtube.steps import FilmFiles, metadata
from filmstudio.services.youtube.upload import ResumableUpload, _acked


def _body(reason: str, message: str = "m") -> bytes:
    return json.dumps({"error": {"code": 403, "message": message, "errors": [{"reason": reason}]}}).encode()


@pytest.mark.parametrize(("status", "body", "code"), [
    (403, _body("quotaExceeded"), "YOUTUBE_QUOTA_EXCEEDED"),
    (403, _body("uploadLimitExceeded"), "YOUTUBE_QUOTA_EXCEEDED"),
    (400, _body("uploadLimitExceeded"), "YOUTUBE_QUOTA_EXCEEDED"),  # how Google really sends it (issue 24)
    (401, _body("authError"), "YOUTUBE_AUTH_EXPIRED"),
    (400, _body("invalidTitle", "bad title"), "YOUTUBE_UPLOAD_REJECTED"),
    (403, _body("forbidden"), "YOUTUBE_UPLOAD_REJECTED"),
    (400, b"<html>not json</html>", "YOUTUBE_UPLOAD_REJECTED"),
])
def test_refusals_map_to_stable_codes(status: int, body: bytes, code: str) -> None:
    err = error_for(status, body, action="the upload")
    assert err.code == code
    if code == "YOUTUBE_UPLOAD_REJECTED" and body.startswith(b"{"):
        assert err.details["reason"] in ("invalidTitle", "forbidden")


def test_quota_resets_at_the_next_pacific_midnight() -> None:
    # 2026-07-01 06:30 UTC is 23:30 on June 30 in Los Angeles (PDT, -07:00)
    assert quota_resets_at(datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == "2026-07-01T00:00:00-07:00"
    assert quota_resets_at(datetime(2026, 1, 15, 9, 0, tzinfo=UTC)) == "2026-01-16T00:00:00-08:00"


def test_the_pasted_address_or_the_bare_code() -> None:
    assert code_from("http://127.0.0.1:1/?state=x&code=4/abc&scope=s") == "4/abc"
    assert code_from("  4/xyz \n") == "4/xyz"


def test_range_header() -> None:
    import httpx

    assert _acked(httpx.Response(308, headers={"Range": "bytes=0-262143"})) == 262144
    assert _acked(httpx.Response(308)) == 0


def test_chunks_must_be_multiples_of_256_kib(tmp_path: Path) -> None:
    from filmstudio.services.youtube.client import Endpoint

    film = tmp_path / "f.mp4"
    film.write_bytes(b"x")
    with pytest.raises(ValueError, match="multiple"):
        ResumableUpload(film, {}, Endpoint("https://example.invalid/"), lambda f: "t", lambda s: None,
                        chunk_bytes=100_000)


def test_metadata_private_by_default_and_scheduled_stays_private(tmp_path: Path) -> None:
    film = FilmFiles(tmp_path / "my-film.mp4", title="The Key")
    meta = metadata(film, YouTubeOptions())
    assert meta["status"] == {"privacyStatus": "private", "selfDeclaredMadeForKids": False}
    assert meta["snippet"]["title"] == "The Key" and "tags" not in meta["snippet"]
    later = metadata(film, YouTubeOptions(privacy="public", publish_at="2026-12-24T18:00:00Z", made_for_kids=True))
    assert later["status"] == {"privacyStatus": "private", "publishAt": "2026-12-24T18:00:00Z",
                               "selfDeclaredMadeForKids": True}


def test_tags_are_counted_as_google_documents() -> None:
    from filmstudio.services.youtube.rules import tags_length

    assert tags_length(["Foo-Baz"]) == 7 and tags_length(["Foo Baz"]) == 9  # Google's own example
    assert tags_length(["a", "b c"]) == 1 + 1 + 5 and tags_length([]) == 0


def test_every_rule_names_its_field_and_limit(tmp_path: Path) -> None:
    from filmstudio.domain.errors import YouTubeMetadataInvalid
    from filmstudio.services.youtube.rules import check

    def body(**snippet: object) -> dict[str, object]:
        return {"snippet": {"title": "T", "description": "", "categoryId": "1", **snippet},
                "status": {"privacyStatus": "private"}}

    for bad, field, limit in ((body(title="x" * 101), "snippet.title", 100),
                              (body(description="\u00e9" * 2501), "snippet.description", 5000),
                              (body(tags=["t" * 501]), "snippet.tags", 500)):
        with pytest.raises(YouTubeMetadataInvalid) as info:
            check(bad)
        assert (info.value.details["field"], info.value.details["limit"]) == (field, limit)
    check(body(description="\u00e9" * 2500))  # 5,000 bytes exactly: accepted
    with pytest.raises(YouTubeMetadataInvalid, match="private"):
        check({"snippet": body()["snippet"], "status": {"privacyStatus": "public", "publishAt": "2099-01-01T00:00:00Z"}})
    with pytest.raises(YouTubeMetadataInvalid) as info:
        check(body(categoryId="film"))
    assert info.value.details["field"] == "snippet.categoryId"


def test_a_long_film_title_is_cut_but_a_long_given_title_is_refused_by_the_model(tmp_path: Path) -> None:
    film = FilmFiles(tmp_path / "f.mp4", title="T" * 140)
    assert metadata(film, YouTubeOptions())["snippet"]["title"] == "T" * 99 + "\u2026"
    with pytest.raises(ValueError):
        YouTubeOptions(title="T" * 101)
