"""Every error the retrieval library raises, in one place.

QabotError
├── CorpusError          the corpus directory is missing or not a directory
├── DocumentError        one file cannot be used (binary, not UTF-8, empty, unreadable, too big)
├── StoreError           the SQLite database cannot be opened, read or migrated
└── IndexNotReadyError   a question was asked before any index was built
"""

from __future__ import annotations


class QabotError(Exception):
    """Base class of every error raised by :mod:`retrieval`."""


class CorpusError(QabotError):
    """The corpus directory cannot be used."""


class DocumentError(QabotError):
    """A single document cannot be used; ``reason`` says why in a few words."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(QabotError):
    """The index database cannot be opened, read or migrated."""


class IndexNotReadyError(QabotError):
    """No index has been built yet."""
