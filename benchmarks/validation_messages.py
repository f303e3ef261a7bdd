"""Every message of the register validation, for every malformed-input case of the tests:
a check that a change of the validation code left its messages and reports unchanged.

Runs :func:`regeval.registers.validate.validate_registers` on each case of
``tests/test_malformed_inputs.py`` (errors and warnings), a valid extract, all error
cases at once, string person ids and keys too wide to combine (the dense key coder),
and writes the messages, violations and reports as JSON. Run it on the code before and
after a change and compare::

    PYTHONPATH=/path/to/old/src python benchmarks/validation_messages.py --out /tmp/before.json
    python benchmarks/validation_messages.py --out /tmp/after.json
    cmp /tmp/before.json /tmp/after.json && echo identical
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import test_malformed_inputs as tm  # noqa: E402

from regeval.errors import DataContractError  # noqa: E402
from regeval.registers.read import resolve_sources  # noqa: E402
from regeval.registers.validate import validate_registers  # noqa: E402


def one(case: tm.DataCase, tmp: Path) -> dict[str, object]:
    """Validate the extract of one case; its error message, violations, report and warnings."""
    cfg = tm._write_case(case, tmp)
    d = cfg["data"]
    src = resolve_sources(d["registers"]["directory"], d["registers"].get("tables"))
    pop = cfg["population"]
    out: dict[str, object] = {}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            rep = validate_registers(src, tuple(d["years"]), education_levels=pop["education_levels"],
                                     diagnosis_groups=pop["diagnosis_groups"], max_examples=3)
            r = rep.to_dict()
            for t in r["tables"].values():
                t["path"] = Path(t["path"]).name
            out["report"] = r
        except DataContractError as e:
            out["error"] = str(e).replace(str(tmp), "TMP")
            out["violations"] = [json.loads(json.dumps(v.to_dict()).replace(str(tmp), "TMP")) for v in e.violations]
        out["warnings"] = [str(x.message).replace(str(tmp), "TMP") for x in w]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="file to write the messages to (JSON)")
    args = ap.parse_args()
    res = run_cases()
    Path(args.out).write_text(json.dumps(res, indent=1, sort_keys=True, default=str))
    print(len(res), "cases;", sum("error" in v for v in res.values()), "with errors ->", args.out)


def wide(df: pd.DataFrame) -> pd.DataFrame:
    """One duplicated row, and person ids spread so wide that the key coder ranks them."""
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    p = df["pnr"].astype("Int64")
    df["pnr"] = p.where(p % 2 == 1, p * 10**13)
    return df


def run_cases() -> dict[str, object]:
    res: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as t:
        for i, case in enumerate(tm.PROBLEM_CASES + tm.WARNING_CASES + [tm.DataCase("valid", [])]):
            res[case.id] = one(case, Path(t) / f"c{i}")
        # every error case at once (but those that make the others' edits impossible)
        skip = {"participant file empty", "person id of another kind", "year as text", "birth date as text",
                "diagnosis without D"}
        edits: dict[str, object] = {}
        for case in tm.PROBLEM_CASES:
            if case.id in skip:
                continue
            for k, f in case.edit.items():
                prev = edits.get(k)
                edits[k] = lambda df, f=f, prev=prev: f(prev(df)) if prev else f(df)
        res["combined"] = one(tm.DataCase("combined", [], edit=edits), Path(t) / "comb")
        text_ids = {k: tm.as_text("pnr") for k in tm.FRAMES if k != "deltagere"}
        text_ids["deltagere"] = lambda df: df.assign(pnr=[None if pd.isna(x) else str(x) for x in df["pnr"]])
        res["string ids"] = one(tm.DataCase("s", [], edit=text_ids), Path(t) / "str")
        res["wide keys"] = one(tm.DataCase("w", [], edit={k: wide for k in tm.FRAMES}), Path(t) / "wide")
    return res


if __name__ == "__main__":
    main()
