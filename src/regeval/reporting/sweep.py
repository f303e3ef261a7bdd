"""Cross-spec summary of a sensitivity sweep.

Reads only the specs' checked export tables (effect windows and the budget's net
result), so the summary is itself an aggregate of exportable numbers; it is checked
again with the same threshold before it is written.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from regeval.disclosure.aggregates import AggregateMeta  # noqa: E402
from regeval.disclosure.check import check_table  # noqa: E402

SUMMARY_META = AggregateMeta(
    name="sweep_summary",
    title="Key effects and net result per participant for every spec of the sweep",
    kind="regression",
    counts={"estimate": ["n_treated", "n_control"], "ci_low": ["n_treated", "n_control"], "ci_high": ["n_treated", "n_control"]},
    count_columns=("n_treated", "n_control"),
)


def summarise(spec_dirs: Mapping[str, Path], base: str, labels: Mapping[str, str]) -> pd.DataFrame:
    """One row per (spec, item): window effects with CIs and net results per actor."""
    rows = []
    for spec, tables in spec_dirs.items():
        win = pd.read_parquet(Path(tables) / "effect_windows.parquet")
        net = pd.read_parquet(Path(tables) / "budget_net.parquet")
        eff = pd.read_parquet(Path(tables) / "effects.parquet")
        n_t = int(eff["n_treated"].max()) if len(eff) else 0
        n_c = int(eff["n_control"].max()) if len(eff) else 0
        for r in win.itertuples(index=False):
            rows.append(
                {
                    "spec": spec,
                    "label": labels.get(spec, spec),
                    "base": spec == base,
                    "kind": "effect",
                    "item": f"{r.outcome}, years {int(r.year_from)}–{int(r.year_to)}",
                    "estimate": float(r.estimate),
                    "ci_low": float(r.ci_low),
                    "ci_high": float(r.ci_high),
                    "n_treated": int(r.n_treated),
                    "n_control": int(r.n_control),
                }
            )
        for r in net.itertuples(index=False):
            rows.append(
                {
                    "spec": spec,
                    "label": labels.get(spec, spec),
                    "base": spec == base,
                    "kind": "net result (PV, kr per participant)",
                    "item": str(r.actor),
                    "estimate": float(r.value_pv),
                    "ci_low": float("nan"),
                    "ci_high": float("nan"),
                    "n_treated": n_t,
                    "n_control": n_c,
                }
            )
    return pd.DataFrame(rows)


def forest_figure(summary: pd.DataFrame, base: str):
    """Forest-style figure: window effects (with CIs) and total net result per spec."""
    items = [i for i in summary.loc[summary["kind"] == "effect", "item"].unique()]
    ncol = len(items) + 1
    specs = list(dict.fromkeys(summary["spec"]))
    height = max(3.0, 0.28 * len(specs) + 1.5)
    fig, axes = plt.subplots(1, ncol, figsize=(4.2 * ncol, height), sharey=True)
    if ncol == 1:
        axes = [axes]
    ypos = {s: len(specs) - 1 - i for i, s in enumerate(specs)}
    for ax, item in zip(axes, items):
        d = summary[(summary["kind"] == "effect") & (summary["item"] == item)]
        for r in d.itertuples(index=False):
            colour = "tab:red" if r.spec == base else "tab:blue"
            y = ypos[r.spec]
            ax.errorbar(r.estimate, y, xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]], fmt="o", color=colour, capsize=2)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(f"Effect: {item}", fontsize=9)
        ax.set_xlabel("Average effect (95 % CI)")
    ax = axes[-1]
    d = summary[(summary["kind"] != "effect") & (summary["item"] == "total")]
    for r in d.itertuples(index=False):
        colour = "tab:red" if r.spec == base else "tab:blue"
        ax.barh(ypos[r.spec], r.estimate / 1000, color=colour)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_title("Net result, all public actors", fontsize=9)
    ax.set_xlabel("1,000 kr per participant (PV)")
    axes[0].set_yticks(list(ypos.values()))
    axes[0].set_yticklabels([f"{s} (base)" if s == base else s for s in ypos], fontsize=7)
    fig.suptitle("Sensitivity sweep (base spec in red)", fontsize=11)
    fig.tight_layout()
    return fig


def write_summary(
    spec_dirs: Mapping[str, Path],
    base: str,
    labels: Mapping[str, str],
    min_persons: int,
    csv: str | Path,
    parquet: str | Path,
    figure: str | Path,
    html_path: str | Path,
) -> pd.DataFrame:
    """Summarise, check and write the sweep's table, figure and a small HTML page."""
    summary = summarise(spec_dirs, base, labels)
    checked = check_table(summary, SUMMARY_META, min_persons, "sweep summary").table
    Path(csv).parent.mkdir(parents=True, exist_ok=True)
    checked.to_csv(csv, index=False, float_format="%.10g")
    checked.to_parquet(parquet, index=False)
    fig = forest_figure(checked, base)
    fig.savefig(figure, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    wide = checked[checked["kind"] != "effect"].pivot(index="spec", columns="item", values="estimate")
    rows = "".join(
        f"<tr><td>{html.escape(s)}{' (base)' if s == base else ''}</td>"
        + "".join(f"<td>{v:,.0f}</td>" for v in wide.loc[s])
        + "</tr>"
        for s in wide.index
    )
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in wide.columns)
    Path(html_path).write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Sweep summary</title></head><body>"
        "<h1>Sensitivity sweep</h1><p>Net result per participant, present value, kr.</p>"
        f"<table border='1'><tr><th>spec</th>{head}</tr>{rows}</table>"
        f"<p><img src='{Path(figure).name}' width='900'></p></body></html>\n",
        encoding="utf-8",
    )
    return checked

