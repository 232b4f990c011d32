"""The inference engine: the only package that imports llama_cpp.

`types` holds the engine interface (what the scheduler and services see);
`llama` implements it over llama.cpp's low-level API.
"""
