"""The desktop pages depend on the backend contract only, so they run over a remote studio too."""

from __future__ import annotations

import tomllib
from pathlib import Path

import filmstudio.desktop

# The in-process backend and the entry point that chooses a backend may reach services/ and the store.
ALLOWED = {"backend", "app", "__init__"}
CONTRACT = "Desktop pages reach a studio only through the backend contract"


def _contract() -> dict[str, object]:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    contracts = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]["contracts"]
    found = [c for c in contracts if c["name"] == CONTRACT]
    assert len(found) == 1, f"pyproject.toml has no import-linter contract named {CONTRACT!r}"
    return found[0]


def test_every_desktop_module_is_held_to_the_contract() -> None:
    folder = Path(filmstudio.desktop.__file__).parent
    modules = {f"filmstudio.desktop.{p.stem}" for p in folder.glob("*.py") if p.stem not in ALLOWED}
    held = set(_contract()["source_modules"])  # type: ignore[arg-type]
    assert modules - held == set(), "add these desktop modules to the contract in pyproject.toml"
    assert held - modules == set(), "the contract names desktop modules that do not exist"


def test_the_contract_forbids_services_and_the_store() -> None:
    assert {"filmstudio.services", "filmstudio.store", "filmstudio.desktop.backend"} <= set(
        _contract()["forbidden_modules"])  # type: ignore[arg-type]


def test_a_page_that_imports_services_breaks_the_contract(tmp_path: Path) -> None:
    """The contract really is checked: a graph with a page importing services/ fails it (grimp, as lint-imports)."""
    import grimp

    graph = grimp.build_graph("filmstudio")
    graph.add_import(importer="filmstudio.desktop.editor", imported="filmstudio.services.projects")
    chains = graph.find_shortest_chains(importer="filmstudio.desktop.editor", imported="filmstudio.services")
    assert chains, "grimp found no chain for an import just added"
    real = grimp.build_graph("filmstudio")
    for module in _contract()["source_modules"]:  # type: ignore[attr-defined]
        for forbidden in ("filmstudio.services", "filmstudio.store"):
            assert not real.find_shortest_chains(importer=module, imported=forbidden), (module, forbidden)
