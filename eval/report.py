"""report.json, report.md and PNG plots for an eval run. Written to a scratch folder and moved
into place at the end, so an interrupted run never leaves half a report in --out."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from eval.errors import EvalError

HEADLINE = [
    ("hit@5", "hit@5", "{:.3f}"),
    ("mrr@10", "MRR@10", "{:.3f}"),
    ("recall@5", "recall@5", "{:.3f}"),
    ("answer_accuracy", "answer acc.", "{:.3f}"),
    ("first_sentence_accuracy", "first sent.", "{:.3f}"),
    ("short_answer_accuracy", "short acc.", "{:.3f}"),
    ("short_answer_precision", "short prec.", "{:.3f}"),
    ("citation_accuracy", "cit. acc.", "{:.3f}"),
    ("token_f1", "token F1", "{:.3f}"),
    ("short_answer_em", "short EM", "{:.3f}"),
    ("citation_precision", "cit. precision", "{:.3f}"),
    ("citation_recall", "cit. recall", "{:.3f}"),
    ("refusal_accuracy", "refusal acc.", "{:.3f}"),
    ("false_refusal", "false refusal", "{:.3f}"),
    ("latency_p50_ms", "p50 ms", "{:.0f}"),
    ("latency_p95_ms", "p95 ms", "{:.0f}"),
]


def summary_rows(report) -> list[list[str]]:
    """Each config's headline metrics, with the delta to the first config."""
    first = report.configs[0]
    rows = []
    for name in report.configs:
        cells = [name]
        for key, _, fmt in HEADLINE:
            value = report.metrics[name][key]
            cell = fmt.format(value)
            if name != first:
                delta = value - report.metrics[first][key]
                cell += f" ({'+' if delta >= 0 else ''}{fmt.format(delta)})"
            cells.append(cell)
        rows.append(cells)
    return rows


def markdown(report, plots: list[str]) -> str:
    lines = [
        "# newsrag eval report",
        "",
        f"{report.questions} questions; library `{report.library}`. Deltas are against "
        f"`{report.configs[0]}`.",
        "",
        "| config | " + " | ".join(label for _, label, _ in HEADLINE) + " |",
        "|---" * (len(HEADLINE) + 1) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in summary_rows(report)]
    lines += ["", "## Answer accuracy by group", ""]
    groups = sorted({g for b in report.breakdowns.values() for g in b})
    lines.append("| group | " + " | ".join(report.configs) + " |")
    lines.append("|---" * (len(report.configs) + 1) + "|")
    for group in groups:
        cells = []
        for name in report.configs:
            row = report.breakdowns[name].get(group)
            cells.append(f"{row['answer_accuracy']:.2f} (n={row['n']:.0f})" if row else "-")
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Support judgement for citation precision/recall: `rag/cite.py` (a quoted sentence "
        "supports a statement when it holds at least half of the statement's content words, "
        "weighted by rarity). Answer accuracy: the normalised gold answer inside an answer of "
        "at most 60 words that is not a refusal.",
        "",
    ]
    lines += [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
    return "\n".join(lines) + "\n"


def plot(report, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    names = report.configs
    keys = ["hit@5", "answer_accuracy", "citation_precision", "citation_recall",
            "refusal_accuracy", "false_refusal"]  # fmt: skip
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ax.bar([k + i * width for k in range(len(keys))],
               [report.metrics[name][k] for k in keys], width, label=name)  # fmt: skip
    ax.set_xticks([k + width * (len(names) - 1) / 2 for k in range(len(keys))], keys, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_title("Metrics per configuration")
    ax.legend()
    fig.tight_layout()
    made.append(_save(fig, folder / "metrics.png"))

    groups = sorted({g for b in report.breakdowns.values() for g in b if g.startswith("type:")})
    if groups:
        fig, ax = plt.subplots(figsize=(9, 4))
        for i, name in enumerate(names):
            values = [report.breakdowns[name].get(g, {}).get("answer_accuracy", 0) for g in groups]
            ax.bar([k + i * width for k in range(len(groups))], values, width, label=name)
        ax.set_xticks([k + width * (len(names) - 1) / 2 for k in range(len(groups))],
                      [g.removeprefix("type:") for g in groups])  # fmt: skip
        ax.set_ylim(0, 1)
        ax.set_title("Answer accuracy by answer type")
        ax.legend()
        fig.tight_layout()
        made.append(_save(fig, folder / "accuracy_by_type.png"))

    curves = {name: points for name, points in report.tradeoff.items() if points}
    if curves:
        fig, ax = plt.subplots(figsize=(6, 5))
        for name, points in curves.items():
            ax.plot([p[2] for p in points], [p[1] for p in points], label=name)
            if report.chosen_threshold is not None:
                chosen = min(points, key=lambda p: abs(p[0] - report.chosen_threshold))
                ax.scatter([chosen[2]], [chosen[1]], zorder=3)
                ax.annotate(f"threshold {chosen[0]:.2f}", (chosen[2], chosen[1]),
                            textcoords="offset points", xytext=(-60, -15))  # fmt: skip
        ax.set_xlabel("refusal accuracy (unanswerable questions)")
        ax.set_ylabel("answer accuracy (answerable questions)")
        ax.set_title("Refusal trade-off as the threshold moves")
        ax.legend()
        fig.tight_layout()
        made.append(_save(fig, folder / "refusal_tradeoff.png"))

    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        values = [r.latency_ms for r in report.results if r.config == name]
        ax.hist(values, bins=30, alpha=0.6, label=name)
    ax.set_xlabel("latency per question (ms)")
    ax.set_title("Latency distribution")
    ax.legend()
    fig.tight_layout()
    made.append(_save(fig, folder / "latency.png"))
    return made


def _save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def write_report(report, out: Path) -> None:
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "report.json").is_file():
        raise EvalError(f"--out {out}: exists and holds something other than an eval report")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".eval-", dir=out.parent))
    try:
        plots = plot(report, scratch)
        report.plots = [str(out / Path(p).name) for p in plots]
        (scratch / "report.json").write_text(json.dumps(report.to_dict(), indent=2, default=str))
        (scratch / "report.md").write_text(markdown(report, plots), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        scratch.rename(out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
