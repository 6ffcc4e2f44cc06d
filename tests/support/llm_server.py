"""A real OpenAI-compatible server process: xllamacpp's built-in llama.cpp server on 127.0.0.1.

python tests/support/llm_server.py MODEL.gguf PORT
"""

import sys
import time

import xllamacpp

params = xllamacpp.CommonParams()
params.model.path = sys.argv[1]
params.port = int(sys.argv[2])
params.hostnames = ["127.0.0.1"]
params.n_ctx = 4096
params.n_predict = 256
params.cpuparams.n_threads = 2
params.cpuparams_batch.n_threads = 2
params.warmup = False
server = xllamacpp.Server(params)
print(f"listening on {server.listening_address}", flush=True)
while True:
    time.sleep(3600)
