"""Closed-loop load on one system: N streams, each sending its requests back to back,
all released together. A cell is one (system, streams) run; the runner interleaves
cells of different systems so that they share this machine's drift."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

from bench.compare.systems import Stream, System


@dataclass
class Cell:
    system: str
    streams: int
    wall_s: float
    results: list[Stream]

    @property
    def tok_s(self) -> float:
        return sum(r.tokens for r in self.results) / self.wall_s

    @property
    def ttfts_ms(self) -> list[float]:
        return [r.ttft_s * 1000 for r in self.results]

    @property
    def per_stream_tok_s(self) -> float:
        return statistics.median(r.per_stream_tok_s for r in self.results)


def run_cell(system: System, prompts: list[str], streams: int, rounds: int, tokens: int) -> Cell:
    """`streams` threads each send `rounds` requests in turn (prompts spread over them)."""
    results: list[list[Stream]] = [[] for _ in range(streams)]
    barrier = threading.Barrier(streams + 1)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            for k in range(rounds):
                results[i].append(system.stream(prompts[(i + k * streams) % len(prompts)], tokens))
        except BaseException as e:  # reported after the join, with the system's name
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(streams)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{system.name} at {streams} streams: {errors[0]!r}") from errors[0]
    return Cell(system.name, streams, wall, [r for rs in results for r in rs])
