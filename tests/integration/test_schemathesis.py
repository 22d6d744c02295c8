"""Property tests over our own OpenAPI schema against the live server: no 5xx, every answer documented.

schemathesis' pytest plugin does not run on pytest 9 (it sets `Function._nodeid`), so one test drives
its strategies with hypothesis directly (every operation, positive and negative data), and one runs
`schemathesis run --checks all` itself: every phase (examples, coverage, fuzzing, stateful), every
check, with the findings we accept listed in DOCUMENTED_FINDINGS (and tests/integration/schemathesis/).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import positive_data_acceptance

from integration.conftest_server import LiveServer, live_server, server_settings

# Bounded for CI; raise it with FILMSTUDIO_SCHEMATHESIS_EXAMPLES for a deeper run.
MAX_EXAMPLES = int(os.environ.get("FILMSTUDIO_SCHEMATHESIS_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # No worker: generated jobs stay queued, so their event streams would stay open for the default ten
    # minutes; a second is enough to see the stream start and end.
    with live_server(server_settings(tmp_path_factory.mktemp("fuzz"), workers=0, event_stream_seconds=1.0)) as server:
        yield server


def _checker(strategy: Any, mode: GenerationMode, base: str, auth: dict[str, str],
             excluded: list[Any], refusal: tuple[str, ...] | None = None) -> Callable[[], None]:
    """A hypothesis test calling the live server with each generated case and validating the answer."""

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        headers = dict(auth)
        if mode is GenerationMode.POSITIVE and case.headers and any(h.lower() == "idempotency-key"
                                                                    for h in case.headers):
            # Generated keys repeat across different bodies, which is rightly a 422; a fresh key per
            # request keeps the other checks meaningful.
            headers["Idempotency-Key"] = uuid.uuid4().hex
        response = case.call(base_url=base, headers=headers)
        case.validate_response(response, excluded_checks=excluded)
        if refusal is not None and mode is GenerationMode.POSITIVE and response.status_code == 400:
            # Where "every schema-valid request is accepted" is excused, only for the documented reason.
            assert response.json()["error"]["code"] in refusal, response.text

    result: Callable[[], None] = check
    return result


@pytest.mark.slow
def test_every_operation_conforms_to_the_schema(live: LiveServer) -> None:
    key = live.new_key("fuzzer", credits=1_000_000, scopes=["admin"])
    schema = schemathesis.openapi.from_url(f"{live.api}/openapi.json")
    # We send the Authorization header ourselves; generating (invalid) ones would only test our override.
    schema.config.generation.update(with_security_parameters=False)
    # An oversized negative body (a 200,000-character script) is refused by the body limit first: 413.
    schema.config.checks.negative_data_rejection.expected_statuses = [
        *schema.config.checks.negative_data_rejection.expected_statuses, "413",
    ]
    auth = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"invalid schema: {result.err()}")
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            # Only where DOCUMENTED_FINDINGS says "every schema-valid request is accepted" cannot hold.
            refusal = DOCUMENTED_FINDINGS.get((operation.label, "ST202"))
            excluded = [positive_data_acceptance] if refusal else []
            check = _checker(operation.as_strategy(generation_mode=mode), mode, live.base, auth, excluded, refusal)
            try:
                check()
            except Unsatisfiable:  # nothing to make negative (e.g. /health has no parameters)
                pass
            except BaseException as exc:  # collect every operation's failure (a FailureGroup), then report all
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {exc}")
            ran += 1
    assert ran >= 2 * 15
    assert not failures, "\n\n".join(failures)


HERE = Path(__file__).resolve().parent / "schemathesis"
# (operation, schemathesis code) pairs that are accepted, each with why:
DOCUMENTED_FINDINGS = {
    # Whether a webhook URL is accepted depends on the target policy (no private, link-local or
    # non-canonical numeric addresses; loopback only while the studio is loopback-only), which a
    # schema cannot state: schema-valid URLs are rightly refused 400 WEBHOOK_TARGET_REFUSED.
    # An account holds at most 20 webhooks: past that a schema-valid one is 400 TOO_MANY_WEBHOOKS.
    ("POST /api/v1/webhooks", "ST202"): ("WEBHOOK_TARGET_REFUSED", "TOO_MANY_WEBHOOKS"),
    # A picture upload is any binary body by schema; bytes that do not decode as a PNG, JPEG, WebP or
    # BMP are rightly refused 400 INVALID_IMAGE (and a name outside the pattern is a 400 too).
    ("PUT /api/v1/projects/{project_id}/images/{name}", "ST202"): ("INVALID_IMAGE",),
    # Whether a project's script fits the duration asked (down to 5 s) depends on the script and the
    # voices installed, not on the body's shape: a schema-valid generate can be refused 400
    # SCRIPT_TOO_LONG (with `required_seconds`) before any credit moves.
    ("POST /api/v1/projects/{project_id}/generate", "ST202"): ("SCRIPT_TOO_LONG",),
    # Whether a script has anything to speak is the render's own analysis (only blanks, notes, boneyard
    # or a heading with nothing under it is empty), which no schema can state: a schema-valid script
    # can be refused 400 SCRIPT_EMPTY where it is written.
    ("POST /api/v1/projects", "ST202"): ("SCRIPT_EMPTY",),
    # Whether an If-Match names the project's current version is the server's state: a schema-valid
    # If-Match (any string) naming another version is rightly 412 PRECONDITION_FAILED.
    ("PATCH /api/v1/projects/{project_id}", "ST202"): ("SCRIPT_EMPTY", "PRECONDITION_FAILED"),
    ("DELETE /api/v1/projects/{project_id}", "ST202"): ("PRECONDITION_FAILED",),
    # An audition needs a script with something to speak and one of its characters: which those are
    # is the script analysis' call, not the body's shape (SCRIPT_EMPTY, CHARACTER_NOT_FOUND).
    ("POST /api/v1/scripts/audition", "ST202"): ("SCRIPT_EMPTY", "CHARACTER_NOT_FOUND"),
    # Publish options are the target's own (`options` is any object by schema; the target validates
    # it), the target a name from the studio's registry, and `youtube` with `target` is ambiguous:
    # schema-valid bodies are rightly refused 400 / 422 with these codes.
    ("POST /api/v1/projects/{project_id}/publish", "ST202"): (
        "PUBLISH_OPTIONS_CONFLICT", "UNKNOWN_PUBLISH_TARGET", "INVALID_PUBLISH_OPTIONS", "YOUTUBE_METADATA_INVALID"),
    # The stateful phase makes the same calls in sequences: only the reasons above.
    ("Stateful tests", "ST202"): ("SCRIPT_EMPTY", "SCRIPT_TOO_LONG", "WEBHOOK_TARGET_REFUSED", "TOO_MANY_WEBHOOKS",
                                  "PRECONDITION_FAILED", "CHARACTER_NOT_FOUND",
                                  "INVALID_IMAGE", "PUBLISH_OPTIONS_CONFLICT", "UNKNOWN_PUBLISH_TARGET",
                                  "INVALID_PUBLISH_OPTIONS", "YOUTUBE_METADATA_INVALID"),
}
_ERROR_CODE = re.compile(r'\{"error":\{"code":"([A-Z_]+)"')
_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$", re.MULTILINE)
_FINDING = re.compile(r"^- (ST\d+) ", re.MULTILINE)


def findings(output: str) -> dict[tuple[str, str], str]:
    """{(operation, code): that section's text} from `schemathesis run`'s failure report."""
    found: dict[tuple[str, str], str] = {}
    heads = list(_SECTION.finditer(output))
    for head, nxt in zip(heads, [*heads[1:], None], strict=True):
        text = output[head.end(): nxt.start() if nxt else len(output)]
        if head.group(1) in ("WARNINGS", "SUMMARY"):
            continue
        for code in _FINDING.findall(text):
            found[(head.group(1), code)] = text
    return found


@pytest.mark.slow
def test_schemathesis_run_checks_all_finds_only_documented_findings(live: LiveServer, tmp_path: Path) -> None:
    key = live.new_key("cli-fuzzer", credits=1_000_000, scopes=["admin"])
    env = {**os.environ, "FILMSTUDIO_FUZZ_KEY": key, "SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"),
           "NO_COLOR": "1", "COLUMNS": "120"}
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "run",
         f"{live.api}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES), "--seed", "1",
         "--workers", "1", "--no-color"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,  # its cache goes there
    )
    output = run.stdout + run.stderr
    assert "Test cases:" in output, output[-3000:]
    found = findings(output)
    unexpected = {k: v for k, v in found.items() if k not in DOCUMENTED_FINDINGS}
    assert not unexpected, "\n".join(f"{op} {code}:{text[:1500]}" for (op, code), text in unexpected.items())
    for finding, text in found.items():
        # Every refusal in a documented finding's section is one of its documented reasons.
        codes = set(_ERROR_CODE.findall(text))
        assert codes and codes <= set(DOCUMENTED_FINDINGS[finding]), (finding, codes, text[:1500])
    assert run.returncode in (0, 1) and (run.returncode == 0) == (not found), output[-2000:]
