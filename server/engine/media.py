"""Images through llama.cpp's mtmd: a model's projector turns each image into
embeddings that take their place in the prompt.

The prompt carries Ollama's `[img-N]` tags where the template put the images (N in
request order); each becomes mtmd's media marker, and mtmd tokenizes the text around
them and encodes the images. Evaluation runs in the engine thread, for one sequence.
"""

from __future__ import annotations

import ctypes
import logging
import re
from pathlib import Path

import llama_cpp as lc
from llama_cpp import mtmd_cpp as mt

from server.errors import Internal, InvalidArgument

_LOG = logging.getLogger(__name__)
IMG_TAG = re.compile(r"\[img-(\d+)\]")


@lc.llama_log_callback
def _mtmd_log(level, text, user_data):  # pragma: no cover - called from C
    _LOG.debug("%s", text.decode(errors="replace").rstrip())


class Media:
    """One projector over one text model's weights."""

    def __init__(self, projector: Path, model, threads: int):
        mt.mtmd_log_set(_mtmd_log, ctypes.c_void_p())
        params = mt.mtmd_context_params_default()
        params.use_gpu = False
        params.print_timings = False
        params.n_threads = threads
        self._ctx = mt.mtmd_init_from_file(str(projector).encode(), model, params)
        if not self._ctx:
            raise Internal(f"failed to load the projector {projector.name}")
        self._marker = mt.mtmd_default_marker()

    def tokenize(self, prompt: str, images: list[bytes]):
        """The prompt's text and image chunks, and the positions they take."""
        order = [int(m.group(1)) for m in IMG_TAG.finditer(prompt)]
        if sorted(order) != list(range(len(images))):
            # Images no tag placed (a template without them): in front, as Ollama does.
            prompt = "".join(f"[img-{i}]" for i in range(len(images)) if i not in order) + prompt
            order = [int(m.group(1)) for m in IMG_TAG.finditer(prompt)]
        text = IMG_TAG.sub(self._marker.decode(), prompt).encode()
        bitmaps = []
        try:
            for i in order:
                data = images[i]
                buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
                bitmap = mt.mtmd_helper_bitmap_init_from_buf(self._ctx, buf, len(data), False)
                if not bitmap:
                    raise InvalidArgument("image: unknown format")  # Ollama's words for an undecodable image
                bitmaps.append(bitmap)
            chunks = mt.mtmd_input_chunks_init()
            inp = mt.mtmd_input_text(text=text, text_len=len(text), add_special=True, parse_special=True)
            arr = (mt.mtmd_bitmap_p_ctypes * len(bitmaps))(*bitmaps)
            rc = mt.mtmd_tokenize(self._ctx, chunks, ctypes.byref(inp), arr, len(bitmaps))
            if rc != 0:
                mt.mtmd_input_chunks_free(chunks)
                raise InvalidArgument(f"the images do not match the prompt (mtmd_tokenize {rc})")
            return chunks, int(mt.mtmd_helper_get_n_pos(chunks))
        finally:
            for bitmap in bitmaps:
                mt.mtmd_bitmap_free(bitmap)

    def evaluate(self, lctx, chunks, seq_id: int, n_batch: int) -> int:
        """Decode the chunks into seq_id's KV from position 0; the positions filled. The
        last token's logits are left for sampling."""
        n_past = lc.llama_pos(0)
        rc = mt.mtmd_helper_eval_chunks(
            self._ctx, lctx, chunks, 0, seq_id, n_batch, True, ctypes.byref(n_past)
        )
        if rc != 0:
            raise Internal(f"evaluating the images failed (mtmd {rc})")
        return int(n_past.value)

    @staticmethod
    def free(chunks) -> None:
        mt.mtmd_input_chunks_free(chunks)

    def close(self) -> None:
        mt.mtmd_free(self._ctx)
