"""Fixtures shared by the retrieval and bot tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.corpus import iter_corpus_files, load_document
from retrieval.index import Index

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"


@pytest.fixture
def shipped_corpus() -> Path:
    """The two news analyses that ship with qabot (never ../shared: users' clones lack it)."""
    return SHIPPED_CORPUS


@pytest.fixture
def index_of() -> Callable[[Path], Index]:
    """Builds an in-memory index of a corpus folder, as the loader reads it."""

    def build(corpus: Path) -> Index:
        return Index([load_document(name, path) for name, path in iter_corpus_files(corpus)])

    return build


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A small corpus of three documents in a temporary directory."""
    root = tmp_path / "corpus"
    (root / "history").mkdir(parents=True)
    (root / "bridges.md").write_text(
        "---\n"
        "title: Bridges of Lisbon\n"
        "author: Ana Silva\n"
        "date: 2021-05-01\n"
        "url: https://example.org/bridges\n"
        "---\n"
        "The 25 de Abril Bridge is a suspension bridge connecting Lisbon to Almada.\n"
        "It was inaugurated on 6 August 1966.\n\n"
        "The Vasco da Gama Bridge spans the Tagus estuary for 12 kilometres.\n",
        encoding="utf-8",
    )
    (root / "history" / "trams.txt").write_text(
        "Lisbon trams\n\n"
        "Lisbon trams\n\n"
        "The first electric tram ran in Lisbon in 1901. Tram 28 climbs through the Alfama district.\n\n"
        "Many tourists ride the yellow trams every summer.\n",
        encoding="utf-8",
    )
    (root / "pastry.txt").write_text(
        "Custard tarts\n\n"
        "Pastel de nata is a custard tart first made by monks in Belém before the 18th century.\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(autouse=True)
def private_data_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """qabot's default data folder (database, chat history) inside the test's temporary
    folders, never the user's ~/.local/share/qabot."""
    home = tmp_path_factory.mktemp("data_home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home
