"""bench/compare's arithmetic: medians over repetitions, ratios to llama-server paired
within a repetition, nearest-rank TTFT percentiles over every request, the table."""

from __future__ import annotations

from bench.compare.report import markdown, percentile, rows
from bench.compare.run import Cell
from bench.compare.systems import Stream


def cell(system: str, streams: int, wall_s: float, ttfts_ms: list[float], tokens: int = 100) -> Cell:
    return Cell(system, streams, wall_s, [Stream(t / 1000, tokens, 1.0 + t / 1000, "") for t in ttfts_ms])


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (10.0, 19.0, 20.0)
    assert percentile([7.0], 95) == 7.0


def test_ratios_pair_within_a_repetition_and_medians_span_them():
    reps = [
        # A slow repetition (the machine drifted): both systems slow, the ratio holds.
        [cell("llama-server", 1, 2.0, [10]), cell("tokenwire gRPC", 1, 2.5, [20])],
        [cell("llama-server", 1, 1.0, [12]), cell("tokenwire gRPC", 1, 1.25, [22])],
        [cell("llama-server", 1, 1.0, [14]), cell("tokenwire gRPC", 1, 1.0, [24])],
    ]
    by_system = {r.system: r for r in rows("m", reps)}
    base, ours = by_system["llama-server"], by_system["tokenwire gRPC"]
    assert (base.tok_s, base.ratio) == (100.0, 1.0)
    assert ours.tok_s == 80.0  # median of 40, 80, 100
    assert ours.ratio == 0.8  # median of 0.8, 0.8, 1.0: not 80 / 100 from the medians' drift
    assert (ours.ttft_p50_ms, ours.ttft_p95_ms) == (22.0, 24.0)
    assert ours.per_stream_tok_s == 99.0  # 99 tokens after the first in one second


def test_the_table_shows_every_row_and_the_memory():
    four = [[cell("llama-server", 4, 1.0, [10, 20, 30, 40])]]
    table = markdown(rows("m", four), {"llama-server": 300 << 20})
    assert "| 4 | llama-server | 400.0 | 1.00 | 20.0 | 40.0 | 99.0 |" in table
    assert "| llama-server | 300 MiB |" in table
