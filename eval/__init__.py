"""Score newsrag against gold answers. Uses only the public APIs of ``rag`` and ``ingest``."""
