"""The storyboard over the API: GET the shot list, redo or lock one shot, replace one with a picture."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from integration.conftest_server import SMALL, FakeRenderer, live_server, server_settings

SAMPLE = (Path(__file__).parents[1] / "data" / "samples" / "night-market.fountain").read_text(encoding="utf-8")


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 36), (10, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_storyboard_redo_lock_and_replace(tmp_path: Path) -> None:
    with live_server(server_settings(tmp_path / "studio"), renderer=FakeRenderer()) as live:
        key = live.new_key("boarder")
        with live.client(key) as c:
            settings = {**SMALL, "duration": 60}
            pid = c.post("/projects", json={"title": "Night", "script": SAMPLE, "settings": settings}).json()["project_id"]
            board = c.get(f"/projects/{pid}/storyboard").json()
            assert board["pictures"]["model"] is None and "models pull" in board["pictures"]["advice"][0]
            shots = board["shots"]
            assert len(shots) >= 6 and shots[0]["camera"] == "establishing"
            assert {c["name"] for c in board["characters"]} == {"LENA", "OLD VENDOR", "KAI"}

            redo = c.post(f"/projects/{pid}/storyboard/shots/2/regenerate", json={}).json()["shot"]
            assert redo["seed"] != shots[1]["seed"] and redo["prompt"] == shots[1]["prompt"]
            edited = c.post(f"/projects/{pid}/storyboard/shots/3/regenerate",
                            json={"prompt": "a lantern in the rain", "seed": 9}).json()["shot"]
            assert edited["prompt"] == "a lantern in the rain" and edited["seed"] == 9
            locked = c.post(f"/projects/{pid}/storyboard/shots/4/regenerate", json={"locked": True}).json()["shot"]
            assert locked["locked"] and locked["seed"] == shots[3]["seed"]

            again = c.get(f"/projects/{pid}/storyboard").json()["shots"]
            assert again[1]["seed"] == redo["seed"] and again[2]["prompt"] == "a lantern in the rain"
            assert again[0] == shots[0]  # the others are untouched

            assert c.put(f"/projects/{pid}/images/shot-5.png", content=_png(),
                         headers={"Content-Type": "image/png"}).status_code == 201
            assert c.get(f"/projects/{pid}/storyboard").json()["shots"][4]["image"] == "shot-5.png"
            missing = c.post(f"/projects/{pid}/storyboard/shots/999/regenerate", json={})
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "SHOT_NOT_FOUND"


def test_character_looks_are_edited_and_stills_404_before_a_render(tmp_path: Path) -> None:
    with live_server(server_settings(tmp_path / "studio"), renderer=FakeRenderer()) as live:
        key = live.new_key("boarder")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "Night", "script": SAMPLE,
                                            "settings": {**SMALL, "duration": 60}}).json()["project_id"]
            board = c.get(f"/projects/{pid}/storyboard").json()
            assert all(s["still"] is None for s in board["shots"])
            none = c.get(f"/projects/{pid}/storyboard/shots/1/still")
            assert none.status_code == 404 and none.json()["error"]["code"] == "STILL_NOT_FOUND"

            lena = c.patch(f"/projects/{pid}/storyboard/characters/LENA",
                           json={"description": "a woman in her thirties in a red coat", "seed": 77})
            assert lena.status_code == 200, lena.text
            assert lena.json()["character"] == {"name": "LENA", "description": "a woman in her thirties in a red coat",
                                                "seed": 77, "source": "edited"}
            again = c.get(f"/projects/{pid}/storyboard").json()
            theirs = [s for s in again["shots"] if s["characters"][:1] == ["LENA"]]
            assert theirs and all(s["seed"] == 77 and "in a red coat" in s["prompt"] for s in theirs)
            # Only the seed: the edited description stays.
            kai = c.patch(f"/projects/{pid}/storyboard/characters/kai", json={"seed": 5}).json()["character"]
            assert kai["seed"] == 5 and kai["source"] != "edited"
            assert c.get(f"/projects/{pid}/storyboard").json()["characters"][0]["description"].endswith("red coat")

            unknown = c.patch(f"/projects/{pid}/storyboard/characters/NOBODY", json={"seed": 1})
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "CHARACTER_NOT_FOUND"
            assert set(unknown.json()["error"]["details"]["characters"]) == {"LENA", "OLD VENDOR", "KAI"}
            for bad in ({"seed": -1}, {"seed": 2**32}, {"description": "   "}, {"colour": "red"}):
                answer = c.patch(f"/projects/{pid}/storyboard/characters/LENA", json=bad)
                assert answer.status_code in (400, 422) and "error" in answer.json(), (bad, answer.text)
