"""The shipped defaults agree: every outcome the budget mapping prices is estimated by
the default spec and every default outcome is in the mapping (no warning on the default
run), and budget warnings name the spec whose budget it is."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from regeval.budget.examples import published_shape_effects
from regeval.disclosure.aggregates import write_aggregate
from regeval.disclosure.meta import AggregateMeta
from regeval.errors import RegevalWarning
from regeval.pipeline.config import load_yaml, resolve_spec
from regeval.pipeline.files import BUDGET_INPUT_FILES
from regeval.pipeline.rules.export import budget
from regeval.pipeline.spec import Spec
from regeval.population.panel import YEARLY_OUTCOMES
from regeval.reporting.labels import OUTCOME_LABELS

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "config" / "budget" / "outcome_consequences.csv"


def _default_spec() -> dict:
    return resolve_spec(load_yaml(REPO / "config" / "config.yaml"), "default")


def test_the_shipped_mapping_and_outcome_list_agree():
    outcomes = set(_default_spec()["effects"]["outcomes"])
    mapping = pd.read_csv(MAPPING, keep_default_na=False)
    priced = set(mapping.loc[mapping["consequence"] != "", "outcome"])
    assert priced - outcomes == set(), "priced outcomes the default run does not estimate"
    assert outcomes - set(mapping["outcome"]) == set(), "default outcomes missing from the mapping"
    assert set(mapping["outcome"]) <= set(YEARLY_OUTCOMES), "mapped outcomes the panel cannot deliver"
    assert outcomes <= set(OUTCOME_LABELS), "default outcomes without a label"


def _budget(tmp_path: Path, spec_name: str, effects: pd.DataFrame) -> list[str]:
    spec = _default_spec()
    spec["name"] = spec_name
    typed = Spec.from_mapping(spec)
    meta = AggregateMeta(name="effects", title="effects", kind="regression",
                         counts={"estimate": ["n_treated", "n_control"]}, count_columns=("n_treated", "n_control"))
    path = tmp_path / "effects.parquet"
    write_aggregate(effects.assign(n_treated=500, n_control=2000), path, meta)
    files = {n: str(REPO / "config" / "budget" / f) for n, f in BUDGET_INPUT_FILES.items()}
    out = {name: str(tmp_path / f"{name}.parquet") for name in
           ("budget_net", "budget_by_actor", "budget_by_year", "budget_by_group", "budget_by_item",
            "budget_sensitivity")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        budget(path, files, typed, out)
    assert pd.read_parquet(out["budget_net"])["spec"].unique().tolist() == [spec_name]
    return [str(w.message) for w in caught if issubclass(w.category, RegevalWarning)]


def test_the_default_outcomes_give_a_budget_without_warnings(tmp_path):
    eff = published_shape_effects("default")
    assert _budget(tmp_path, "default", eff) == []


def test_a_budget_warning_names_the_spec_whose_budget_it_is(tmp_path):
    """A sweep's budget variant reads the effect table of the spec it shares it with."""
    eff = published_shape_effects("default")
    eff = eff[eff["outcome"] != "support_su"]
    messages = _budget(tmp_path, "sweep-k5-rulepessimistic", eff)
    assert len(messages) == 1 and messages[0].startswith("spec 'sweep-k5-rulepessimistic'")
    assert "support_su" in messages[0]


@pytest.mark.parametrize("n_chunks", [2])
def test_the_generator_reports_progress(tmp_path, caplog, n_chunks):
    from regeval.synthetic import SyntheticConfig, generate

    with caplog.at_level("INFO", logger="regeval"):
        generate(SyntheticConfig(seed=1, n_persons=4000, n_participants=60, chunk_size=2000), tmp_path)
    lines = [r.getMessage() for r in caplog.records if "chunk" in r.getMessage()]
    assert [line.split(" simulated")[0] for line in lines] == [
        f"synthetic registers: chunk {i} of {n_chunks}" for i in range(1, n_chunks + 1)]
