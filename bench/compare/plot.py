"""The PNGs under docs/bench/: tok/s and TTFT p50 against streams (one line per system,
one panel per model), and resident memory per system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.compare.report import Row


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only backend (no display here or in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _lines(rows: list[Row], field: str, ylabel: str, title: str, path: Path) -> None:
    plt = _pyplot()
    models = sorted({r.model for r in rows})
    fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        mine = [r for r in rows if r.model == model]
        for system in sorted({r.system for r in mine}):
            points = sorted((r.streams, getattr(r, field)) for r in mine if r.system == system)
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=system)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({r.streams for r in mine}), [str(s) for s in sorted({r.streams for r in mine})])
        ax.set_xlabel("concurrent streams")
        ax.set_ylabel(ylabel)
        ax.set_title(model)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def memory(memory_by_model: dict[str, dict[str, int]], path: Path) -> None:
    plt = _pyplot()
    models = sorted(memory_by_model)
    systems = sorted({s for m in memory_by_model.values() for s in m})
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        values = [memory_by_model[m].get(system, 0) / 2**20 for m in models]
        ax.bar([j + i * width for j in range(len(models))], values, width, label=system)
    ax.set_xticks([j + width * (len(systems) - 1) / 2 for j in range(len(models))], models)
    ax.set_ylabel("resident memory, MiB")
    ax.set_title("Resident memory with one model loaded")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def all_plots(rows: list[Row], memory_by_model: dict[str, dict[str, int]], out: Path) -> list[Path]:
    paths = [out / "throughput.png", out / "ttft.png", out / "memory.png"]
    _lines(rows, "tok_s", "aggregate tok/s", "Aggregate throughput (greedy, closed loop)", paths[0])
    _lines(rows, "ttft_p50_ms", "TTFT p50, ms", "Time to first token", paths[1])
    memory(memory_by_model, paths[2])
    return paths
