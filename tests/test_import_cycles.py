"""Modules that once imported each other (issue 21) stay one-way.

import-linter (``lint-imports`` in CI) keeps the package direction and the app's layers; this
checks the pairs whose circle was cut, by reading every import statement (also those inside
functions) with grimp, the library import-linter is built on.
"""

from __future__ import annotations

import grimp
import pytest

# (a, b): b must not import a, directly or through other modules, while a imports b.
CUT = [
    # the release rules and released cells' wording live in survey.services.released
    ("survey.services.reporting", "survey.services.programme"),
    # the catalogue helpers live in survey.catalogues, not in the CLI
    ("survey.cli", "survey.translations_check"),
    # the child's session lives in survey.child_session
    ("survey.services.participants", "survey.access"),
    # the content hash lives next to the serialiser (instruments.serialise), not in the model
    ("instruments.native", "instruments.model"),
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # no on-disk cache: two test workers writing grimp's cache at once made this fixture fail now and then
    return grimp.build_graph("survey", "consent", "instruments", "analysis", cache_dir=None)


@pytest.mark.parametrize(("importer", "imported"), CUT)
def test_the_cut_circle_stays_cut(graph: grimp.ImportGraph, importer: str, imported: str) -> None:
    # as packages: survey.cli is a package of one module per command group
    chains = graph.find_shortest_chains(importer=imported, imported=importer, as_packages=True)
    assert not chains, [" -> ".join(chain) for chain in chains]
