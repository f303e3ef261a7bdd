"""What the workflow runs for a configuration: the validated config, its specs, the keys
of the work they share, the export jobs and the files each job reads.

The Snakefile builds one :class:`Plan` before any rule is defined (so a bad
configuration stops the run before any job starts) and declares the rules from it.
Everything here is plain Python, tested without Snakemake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regeval.budget.tables import BUDGET_TABLES, BUSINESS_CASE_TABLES
from regeval.errors import ConfigError
from regeval.pipeline.config import expand_sweep, load_config
from regeval.pipeline.files import EXPORT_AGGREGATES, budget_input_files, control_ids_file, relative_to
from regeval.pipeline.spec import Spec, canonical, parse_specs

SHARED = "results/_shared/inside"
"""Where the shared, person-level intermediates of a run are (relative to the working directory)."""

EXPORT_TABLES = (*EXPORT_AGGREGATES, *BUDGET_TABLES)
"""The tables of every ``results/<spec>/export/tables/`` folder (each as CSV and Parquet)."""


def export_rule_name(spec: str) -> str:
    """The name of the export rule whose first spec is ``spec``: ``export_<spec>`` with
    every character that cannot be in a rule name (``-``) as ``_``."""
    return "export_" + re.sub(r"[^A-Za-z0-9_]", "_", spec)


@dataclass(frozen=True)
class ExportGroup:
    """The specs (in run order) exported by one job: those sharing an effect table."""

    rule: str
    specs: tuple[str, ...]
    effects_key: str


@dataclass(frozen=True)
class Plan:
    """The plan of a run.

    Attributes
    ----------
    config
        The validated configuration, its defaults filled in and the sweep's specs added.
    base_dir
        The folder relative paths of repository files are taken from (budget inputs,
        business case; control ids when not in the working directory).
    run_specs
        Every spec to export, in run order (``run_specs`` and then the sweep's).
    sweep, sweep_specs
        The sweep's name and specs (base first), or ``None`` and ``()``.
    specs
        Every defined spec (:class:`regeval.pipeline.spec.Spec`), parsed once.
    keys
        Per spec its keys ``{"ps": …, "match": …, "effects": …}``.
    exports
        The export jobs.
    """

    config: dict[str, Any]
    base_dir: Path
    run_specs: tuple[str, ...]
    sweep: str | None
    sweep_specs: tuple[str, ...]
    specs: dict[str, Spec]
    keys: dict[str, dict[str, str]]
    exports: tuple[ExportGroup, ...]
    spec_of_key: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], base_dir: str | Path) -> Plan:
        """Validate ``config`` (raises :class:`ConfigError`), fill in its defaults, add
        the sweep's specs and plan."""
        config = load_config(config, base_dir)
        expanded, sweep_specs = expand_sweep(config)
        if sweep_specs:  # the sweep's specs are checked like the others (without a sweep: nothing new)
            expanded = load_config(expanded, base_dir)
        specs = parse_specs(expanded)
        keys = {name: spec.keys() for name, spec in specs.items()}
        spec_of_key: dict[str, str] = {}
        for name in sorted(keys):
            for key in keys[name].values():
                spec_of_key.setdefault(key, name)
        run_specs = tuple(dict.fromkeys([*expanded["run_specs"], *sweep_specs]))
        groups: dict[str, list[str]] = {}
        for name in run_specs:
            groups.setdefault(keys[name]["effects"], []).append(name)
        exports = tuple(ExportGroup(export_rule_name(m[0]), tuple(m), k) for k, m in groups.items())
        clash = [g.rule for g in exports if sum(h.rule == g.rule for h in exports) > 1]
        if clash:
            raise ConfigError(
                f"specs {sorted(g.specs[0] for g in exports if g.rule in clash)} give the same export rule name "
                f"{clash[0]!r} (a '-' in a spec name becomes '_'); rename one of them"
            )
        sweep = expanded["sweep"]["name"] if sweep_specs else None
        return cls(expanded, Path(base_dir), run_specs, sweep, tuple(sweep_specs), specs, keys, exports, spec_of_key)

    # ----------------------------------------------------------------------- specs
    def spec_data(self, name: str) -> dict[str, Any]:
        """The spec ``name`` as plain data (keys sorted), as params carry it."""
        return canonical(self.specs[name].to_dict())

    def spec_of(self, key: str) -> Spec:
        """A spec with the key ``key`` (every spec with it has the same choices for it)."""
        return self.specs[self.spec_of_key[key]]

    def key(self, spec: str, kind: str) -> str:
        """The key of kind ``ps``, ``match`` or ``effects`` of the spec ``spec``."""
        return self.keys[spec][kind]

    def upstream_key(self, key: str, kind: str) -> str:
        """The key of kind ``kind`` of the specs with the key ``key`` (e.g. the
        propensity fit a control group is matched on)."""
        return self.keys[self.spec_of_key[key]][kind]

    # ----------------------------------------------------------------------- files
    def aggregates(self, spec: str) -> dict[str, str]:
        """The shared aggregates the spec exports (:data:`EXPORT_AGGREGATES`, in order):
        name -> file made by the population, propensity, control-group and effects rules."""
        k = self.keys[spec]
        folder = {
            "population_means": f"{SHARED}/aggregates",
            **dict.fromkeys(("propensity_model", "propensity_overlap", "score_selection"),
                            f"{SHARED}/propensity/{k['ps']}/aggregates"),
            **dict.fromkeys(("population_flow", "matching_summary", "balance", "descriptives"),
                            f"{SHARED}/matching/{k['match']}/aggregates"),
            **dict.fromkeys(("panel_counts", "effects", "group_means", "effect_windows", "placebo_tests",
                             "confounding_sensitivity"),
                            f"{SHARED}/effects/{k['effects']}/aggregates"),
        }
        return {name: f"{folder[name]}/{name}.parquet" for name in EXPORT_AGGREGATES}

    def control_ids(self, spec: str) -> str | None:
        """The spec's control-id file (relative to the working directory, else to the
        base folder), or None."""
        ids = self.specs[spec].control_ids
        return str(control_ids_file(ids, self.base_dir)) if ids else None

    def budget_files(self, spec: str) -> dict[str, str]:
        """The budget input files of the spec."""
        return budget_input_files(self.specs[spec].budget.inputs, self.base_dir)

    def business_case_files(self) -> dict[str, str] | None:
        """The business-case table and its metadata (default: the table's name with
        ``.yaml``), relative to the base folder; None without a business case."""
        bc = self.config.get("business_case")
        if not bc:
            return None
        table = relative_to(bc["table"], self.base_dir)
        metadata = relative_to(bc["metadata"], self.base_dir) if bc.get("metadata") else table.with_suffix(".yaml")
        return {"table": str(table), "metadata": str(metadata)}


__all__ = ["BUSINESS_CASE_TABLES", "EXPORT_TABLES", "SHARED", "ExportGroup", "Plan", "export_rule_name"]
