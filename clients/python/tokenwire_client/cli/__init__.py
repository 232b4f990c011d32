"""`tokenwire`: a command line for people, shaped like `ollama`'s, talking gRPC."""
