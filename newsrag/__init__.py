"""The ``newsrag`` command: the composition root over ``rag``, ``ingest``, ``ui`` and ``eval``.

Nothing imports this package; it imports the others (see docs/architecture.md).
"""
