"""Versions reported by the server."""

# The Ollama API version tokenwire speaks (GET /api/version). Clients such as Open
# WebUI gate features on it, so we report the Ollama release whose API we follow
# (reference: ollama fb30760, v0.33.0-rc2) rather than tokenwire's own version.
OLLAMA_API_VERSION = "0.33.0"
TOKENWIRE_VERSION = "0.1.0"
