"""The API page and the embedded server: keys made in the GUI work over HTTP; HTTP jobs show in the app."""

from __future__ import annotations

import time

import httpx

from gui.conftest import SCRIPT, SMALL, Desktop


def test_key_generated_in_gui_authenticates(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    window.show_page("API")
    page = window.api
    qtbot.waitUntil(lambda: page.url.text().startswith("http://127.0.0.1:"), timeout=5_000)
    assert page.state.text().startswith("Running")
    page.generate("laptop script")
    qtbot.waitUntil(lambda: page.last_created is not None, timeout=10_000)
    created = page.last_created
    assert created is not None
    dialog = page.findChild(object, "secretDialog")
    qtbot.waitUntil(lambda: page.findChild(object, "secretDialog") is not None, timeout=5_000)
    dialog = page.findChild(object, "secretDialog")
    assert dialog.secret.text() == created.secret
    # The list shows only the prefix, never the secret.
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5_000)
    shown = [page.table.item(0, c).text() for c in range(page.table.columnCount())]
    assert created.secret not in " ".join(shown)
    assert shown[1].startswith(created.prefix)

    api = f"{page.url.text()}/api/v1"
    ok = httpx.get(f"{api}/projects", headers={"Authorization": f"Bearer {created.secret}"}, timeout=10)
    assert ok.status_code == 200, ok.text
    bad = httpx.get(f"{api}/projects", headers={"Authorization": f"Bearer {created.secret[:-1]}x"}, timeout=10)
    assert bad.status_code == 401

    # Revoke from the GUI: the same key is now refused.
    page.table.selectRow(0)
    page.confirm_revoke = lambda _key: True  # type: ignore[method-assign]  # the question is tested in test_first_hour
    page.revoke()
    qtbot.waitUntil(lambda: page.table.item(0, 5) is not None and page.table.item(0, 5).text() == "revoked",
                    timeout=5_000)
    gone = httpx.get(f"{api}/projects", headers={"Authorization": f"Bearer {created.secret}"}, timeout=10)
    assert gone.status_code == 401
    assert gone.json()["error"]["code"] == "API_KEY_REVOKED"


def test_rotate_shows_new_secret_and_keeps_old_for_overlap(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = desktop.window.api
    desktop.window.show_page("API")
    page.generate("ci")
    qtbot.waitUntil(lambda: page.last_created is not None and page.table.rowCount() == 1, timeout=10_000)
    first = page.last_created
    page.table.selectRow(0)
    page.rotate()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=10_000)
    assert page.last_created is not None and page.last_created.secret != first.secret
    states = sorted(page.table.item(r, 5).text() for r in range(2))
    assert states[0] == "active" and states[1].startswith("expires")


def test_job_created_over_http_shows_up_in_app(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    key = desktop.backend.create_key("http test").secret
    api = f"{desktop.api.url}/api/v1"
    headers = {"Authorization": f"Bearer {key}"}
    project = httpx.post(f"{api}/projects", headers=headers, timeout=10,
                         json={"title": "From HTTP", "script": SCRIPT, "settings": SMALL}).json()
    job = httpx.post(f"{api}/projects/{project['project_id']}/generate", headers=headers, timeout=10)
    assert job.status_code == 202, job.text
    job_id = job.json()["job_id"]
    started = time.monotonic()
    jobs_page = desktop.window.jobs
    qtbot.waitUntil(lambda: any(j.job_id == job_id for j in jobs_page.jobs), timeout=10_000)
    seen_after = time.monotonic() - started
    row = [j.job_id for j in jobs_page.jobs].index(job_id)
    assert jobs_page.table.item(row, 0).text() == "From HTTP"
    print(f"HTTP job visible in the app after {seen_after:.2f} s")
    # And the reverse: a project made in the app is listed over HTTP.
    made = desktop.backend.create_project("From the app", SCRIPT, SMALL)
    listed = httpx.get(f"{api}/projects", headers=headers, timeout=10).json()["projects"]
    assert made.project_id in [p["project_id"] for p in listed]
