"""A program written for ollama-python. test_ollama_port.py runs it unchanged against
the REST shim, then against the gRPC server with two lines changed: the import and
the host. It prints what it saw as one JSON line."""

import json
import sys

import ollama

HOST = "http://localhost:11434"
MODEL = "smollm2:135m"

client = ollama.Client(host=HOST)
seen = {}

# Generate, streamed.
pieces = []
options = {"num_predict": 8, "temperature": 0}
for part in client.generate(model=MODEL, prompt="Why is the sky blue?", stream=True, options=options):
    pieces.append(part["response"])
    last = part
seen["generate"] = {"chunks": len(pieces), "done": last.done, "done_reason": last.done_reason}

# Chat with history.
messages = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "My name is Ada."},
]
reply = client.chat(model=MODEL, messages=messages, options={"num_predict": 6})
messages.append(reply.message)
messages.append({"role": "user", "content": "What is my name?"})
again = client.chat(model=MODEL, messages=messages, options={"num_predict": 6})
seen["chat"] = {"role": again["message"]["role"], "content_type": type(again.message.content).__name__}

# Embed.
vectors = client.embed(model=MODEL, input=["first", "second"]).embeddings
seen["embed"] = {"count": len(vectors), "dimension": len(vectors[0])}

# List and show.
seen["list"] = sorted(m.model for m in client.list().models)
info = client.show(MODEL)
seen["show"] = {"family": info.details.family, "architecture": info.modelinfo["general.architecture"]}

# Create, copy, delete.
created = client.create(model="ported", from_=MODEL, system="You are a pirate.")
client.copy("ported", "ported-copy")
names = [m.model for m in client.list().models]
client.delete("ported")
client.delete("ported-copy")
seen["create"] = {
    "status": created.status,
    "listed": "ported:latest" in names and "ported-copy:latest" in names,
    "gone": "ported:latest" not in [m.model for m in client.list().models],
}

# A missing model, caught as ollama-python documents.
try:
    client.chat(model="does-not-exist", messages=[{"role": "user", "content": "hi"}])
except ollama.ResponseError as e:
    seen["missing"] = {"status_code": e.status_code, "error": e.error}

json.dump(seen, sys.stdout)
print()
