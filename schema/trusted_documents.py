"""Trusted documents (persisted operations): the operations of ``graphql/operations/*.graphql``,
each identified by the SHA-256 of its text, so clients may send ``documentId`` instead of a query
and production may refuse documents nobody reviewed.

* **Document** of a named operation = the operation, then every fragment it spreads (transitively,
  by AST, in name order), each printed by graphql-core's ``print_ast`` and joined by a blank line.
  Its **id** is ``sha256:<hex digest of the UTF-8 text>`` (the GraphQL-over-HTTP "trusted documents"
  convention).
* **Manifest**: ``manage.py build_trusted_documents`` writes ``{"sha256:<hex>": "<document>"}``
  (JSON, sorted) to ``GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST`` (default ``var/trusted-documents.json``;
  ``make run`` and the Docker image build it). When the file does not exist the store builds the
  same mapping from ``GRAPHQL_OPERATIONS_DIR`` in memory, so a fresh checkout works.
* **Mode** ``GRAPHQL_TRUSTED_DOCUMENTS``: ``off`` (any document), ``audit`` (any document; unknown
  ones are logged as a warning with their id and operation name, never their text) or ``enforce``
  (unknown documents are refused with ``TRUSTED_DOCUMENT_REQUIRED``). A ``documentId`` is honoured
  in every mode. The HTTP view (``schema/http_view.py``) and the WebSocket consumer apply it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from django.conf import settings
from graphql.language import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    print_ast,
    visit,
)

from graphql import parse

from .gateway_schema import safe_operation_name

logger = logging.getLogger("gpubroker.graphql.trusted")

MODES = ("off", "audit", "enforce")
ID_PREFIX = "sha256:"


def document_id(text: str) -> str:
    return ID_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def _spreads(node: OperationDefinitionNode | FragmentDefinitionNode) -> set[str]:
    visitor = _Spreads()
    visit(node, visitor)
    return visitor.names


def operation_documents(documents: list[DocumentNode]) -> dict[str, str]:
    """Operation name → its self-contained document text (operation + needed fragments)."""
    operations: dict[str, OperationDefinitionNode] = {}
    fragments: dict[str, FragmentDefinitionNode] = {}
    for document in documents:
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and definition.name:
                operations[definition.name.value] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
    texts: dict[str, str] = {}
    for name, operation in sorted(operations.items()):
        needed: set[str] = set()
        pending = list(_spreads(operation))
        while pending:
            fragment = pending.pop()
            if fragment in needed or fragment not in fragments:
                continue
            needed.add(fragment)
            pending.extend(_spreads(fragments[fragment]))
        parts = [print_ast(operation), *(print_ast(fragments[f]) for f in sorted(needed))]
        texts[name] = "\n\n".join(parts)
    return texts


def build_manifest(operations_dir: Path) -> dict[str, str]:
    """``{"sha256:<hex>": document}`` for every named operation under ``operations_dir``."""
    documents = [parse(path.read_text()) for path in sorted(operations_dir.glob("*.graphql"))]
    return {document_id(text): text for text in operation_documents(documents).values()}


def write_manifest(operations_dir: Path, manifest_path: Path) -> dict[str, str]:
    manifest = build_manifest(operations_dir)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


class TrustedDocumentStore:
    """The manifest, loaded once per (path, modification time) and shared by every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, float | None, str] | None = None
        self._documents: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        manifest = Path(settings.GRAPHQL_TRUSTED_DOCUMENTS_MANIFEST)
        operations = Path(settings.GRAPHQL_OPERATIONS_DIR)
        try:
            mtime: float | None = manifest.stat().st_mtime
        except OSError:
            mtime = None
        key = (str(manifest), mtime, str(operations))
        if key == self._key:
            return self._documents
        with self._lock:
            if key != self._key:
                if mtime is None:
                    self._documents = build_manifest(operations)
                else:
                    loaded = json.loads(manifest.read_text())
                    self._documents = {str(k): str(v) for k, v in loaded.items()}
                self._key = key
        return self._documents

    def get(self, doc_id: str) -> str | None:
        return self._load().get(doc_id)

    def is_trusted(self, text: str) -> bool:
        return document_id(text) in self._load()

    def __len__(self) -> int:
        return len(self._load())


store = TrustedDocumentStore()


def mode() -> str:
    value = str(getattr(settings, "GRAPHQL_TRUSTED_DOCUMENTS", "off")).lower()
    return value if value in MODES else "enforce"  # an unknown value fails closed


def check_document(text: str, operation_name: str | None) -> bool:
    """Apply the mode to a document sent as text: True when it may run (``off``, ``audit``, or
    trusted), False when ``enforce`` refuses it. ``audit`` logs unknown documents."""
    current = mode()
    if current == "off" or store.is_trusted(text):
        return True
    if current == "audit":
        logger.warning(
            "untrusted GraphQL document",
            extra={
                "document_id": document_id(text),
                "operation_name": safe_operation_name(operation_name),
            },
        )
        return True
    return False
