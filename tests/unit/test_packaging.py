"""pyproject.toml's metadata in the form today's setuptools reads without deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_licence_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert data["project"]["license"] == "MIT"  # a table ({text = ...}) warns on every build since setuptools 77
    assert not any(c.startswith("License ::") for c in data["project"].get("classifiers", []))  # PEP 639 forbids both
    bound = next(r for r in data["build-system"]["requires"] if r.startswith("setuptools"))
    found = re.search(r">=\s*(\d+)", bound)
    assert found is not None and int(found.group(1)) >= 77
