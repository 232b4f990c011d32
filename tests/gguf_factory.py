"""Make a tiny, loadable llama-architecture GGUF in F32 with the `gguf` package.

Random weights, a byte-level SentencePiece vocabulary: enough for llama.cpp to load,
quantize and generate from it, small enough to build in a test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter, LlamaFileType, TokenType

N_EMBD, N_FF, N_HEAD, N_LAYER, N_CTX = 64, 128, 4, 2, 256


def _vocab() -> tuple[list[bytes], list[float], list[int]]:
    tokens = [b"<unk>", b"<s>", b"</s>"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.BYTE] * 256
    words = [b"\xe2\x96\x81" + w.encode() for w in ("the", "a", "sky", "is", "blue", "hello")]
    tokens += words
    types += [TokenType.NORMAL] * len(words)
    scores = [0.0] * len(tokens)
    return tokens, scores, [int(t) for t in types]


def write_tiny_f32(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocab()
    n_vocab = len(tokens)
    w = GGUFWriter(str(path), "llama")
    w.add_name("tiny-test")
    w.add_file_type(LlamaFileType.ALL_F32)
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    def t(name: str, *shape: int) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    t("token_embd.weight", n_vocab, N_EMBD)
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    t("output.weight", n_vocab, N_EMBD)
    for i in range(N_LAYER):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", N_EMBD, N_EMBD)
        t(f"blk.{i}.ffn_gate.weight", N_FF, N_EMBD)
        t(f"blk.{i}.ffn_up.weight", N_FF, N_EMBD)
        t(f"blk.{i}.ffn_down.weight", N_EMBD, N_FF)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def write_test_projector(path: Path, text_width: int = 576, seed: int = 0) -> Path:
    """A CLIP vision projector ("mlp", LLaVA-style) with random weights whose output
    width matches the text model's embeddings (SmolLM2: 576), small enough to build in
    a test: 28x28 images in 14x14 patches, one 64-wide encoder block. It runs through
    llama.cpp's mtmd end to end; what the model then says about the image is noise."""
    width, ffn, patch, size = 64, 128, 14, 28
    rng = np.random.default_rng(seed)
    w = GGUFWriter(str(path), "clip")

    def tensor(name: str, *shape: int) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))

    w.add_string("general.name", "test-projector")
    w.add_bool("clip.has_vision_encoder", True)
    w.add_bool("clip.has_text_encoder", False)
    w.add_bool("clip.has_llava_projector", True)
    w.add_string("clip.projector_type", "mlp")
    w.add_uint32("clip.vision.image_size", size)
    w.add_uint32("clip.vision.patch_size", patch)
    w.add_uint32("clip.vision.embedding_length", width)
    w.add_uint32("clip.vision.feed_forward_length", ffn)
    w.add_uint32("clip.vision.projection_dim", text_width)
    w.add_uint32("clip.vision.attention.head_count", 4)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6)
    w.add_uint32("clip.vision.block_count", 1)
    w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    w.add_bool("clip.use_gelu", True)
    tensor("v.patch_embd.weight", width, 3, patch, patch)
    tensor("v.class_embd", width)
    tensor("v.position_embd.weight", (size // patch) ** 2 + 1, width)
    for norm in ("v.pre_ln", "v.blk.0.ln1", "v.blk.0.ln2"):
        w.add_tensor(f"{norm}.weight", np.ones(width, np.float32))
        w.add_tensor(f"{norm}.bias", np.zeros(width, np.float32))
    for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
        tensor(f"v.blk.0.{name}.weight", width, width)
        tensor(f"v.blk.0.{name}.bias", width)
    tensor("v.blk.0.ffn_up.weight", ffn, width)
    tensor("v.blk.0.ffn_up.bias", ffn)
    tensor("v.blk.0.ffn_down.weight", width, ffn)
    tensor("v.blk.0.ffn_down.bias", width)
    tensor("mm.0.weight", text_width, width)
    tensor("mm.0.bias", text_width)
    tensor("mm.2.weight", text_width, text_width)
    tensor("mm.2.bias", text_width)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def tiny_png(width: int = 28, height: int = 28, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A solid-colour PNG, written by hand (no imaging library needed)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
