"""From cells to the table: medians over repetitions, TTFT percentiles over every request,
and each system's ratio to llama-server as the median of per-repetition ratios (a
repetition's cells run minutes apart at most, so a pair shares the machine's drift).
Pure: no I/O, so the arithmetic is unit-tested."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass

from bench.compare.run import Cell

BASELINE = "llama-server"


@dataclass
class Row:
    model: str
    system: str
    streams: int
    tok_s: float
    ratio: float | None  # tok/s ÷ llama-server's, None where llama-server did not run
    ttft_p50_ms: float
    ttft_p95_ms: float
    per_stream_tok_s: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def rows(model: str, reps: list[list[Cell]]) -> list[Row]:
    """`reps` holds each repetition's cells (every system at every stream count)."""
    by_key: dict[tuple[str, int], list[Cell]] = {}
    for cells in reps:
        for c in cells:
            by_key.setdefault((c.system, c.streams), []).append(c)
    out = []
    for (system, streams), cells in by_key.items():
        ratios = []
        for cells_of_rep in reps:
            mine = [c for c in cells_of_rep if (c.system, c.streams) == (system, streams)]
            base = [c for c in cells_of_rep if (c.system, c.streams) == (BASELINE, streams)]
            if mine and base:
                ratios.append(mine[0].tok_s / base[0].tok_s)
        ttfts = [t for c in cells for t in c.ttfts_ms]
        out.append(
            Row(
                model=model,
                system=system,
                streams=streams,
                tok_s=statistics.median(c.tok_s for c in cells),
                ratio=statistics.median(ratios) if ratios else None,
                ttft_p50_ms=percentile(ttfts, 50),
                ttft_p95_ms=percentile(ttfts, 95),
                per_stream_tok_s=statistics.median(c.per_stream_tok_s for c in cells),
            )
        )
    return sorted(out, key=lambda r: (r.streams, r.system))


def markdown(rows_: list[Row], memory: dict[str, int]) -> str:
    """One model's table, then resident memory per system."""
    lines = [
        "| streams | system | tok/s | ÷ llama-server | TTFT p50 ms | TTFT p95 ms | per-stream tok/s |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows_:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "–"
        lines.append(
            f"| {r.streams} | {r.system} | {r.tok_s:.1f} | {ratio} | {r.ttft_p50_ms:.1f} | "
            f"{r.ttft_p95_ms:.1f} | {r.per_stream_tok_s:.1f} |"
        )
    lines += ["", "| system | resident memory, one model loaded |", "|---|---:|"]
    lines += [f"| {name} | {size / 2**20:.0f} MiB |" for name, size in memory.items()]
    return "\n".join(lines) + "\n"


def as_json(rows_: list[Row]) -> list[dict]:
    return [asdict(r) for r in rows_]
