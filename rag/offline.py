"""Keep every library we use off the network. Imported first by ``rag/__init__``.

setdefault, so a user who really wants a hub can still say so explicitly.
"""

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb's posthog telemetry
    "TOKENIZERS_PARALLELISM": "false",  # no fork warnings from the rust tokenizer
}

for _name, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_name, _value)
