"""Checked by mypy --strict in make lint, never run: the types a user's checker sees."""

from __future__ import annotations

import tokenwire_client as ollama


def sync_usage(client: ollama.Client) -> str:
    whole: ollama.GenerateResponse = client.generate("m", "p")
    text = whole.response or ""
    for part in client.generate("m", "p", stream=True):
        text += part.response or ""
    reply: ollama.ChatResponse = client.chat("m", [{"role": "user", "content": "hi"}])
    for chunk in client.chat("m", [reply.message], stream=True):
        text += chunk.message.content or ""
    for progress in client.pull("m", stream=True):
        text += progress.status or ""
    dims: int = len(client.embed("m", "x").embeddings[0])
    return text + str(dims)


async def async_usage(client: ollama.AsyncClient) -> str:
    text = (await client.generate("m", "p")).response or ""
    async for part in await client.generate("m", "p", stream=True):
        text += part.response or ""
    async for chunk in await client.chat("m", [{"role": "user", "content": "hi"}], stream=True):
        text += chunk.message.content or ""
    return text
