"""Specs (control-group specifications) and the keys of the work they share.

A :class:`Spec` is parsed once from the validated configuration: the defaults of a
spec (the schema's, :func:`regeval.pipeline.schema.spec_defaults`), deep-merged with
``spec_defaults`` and then ``specs.<name>``; a spec without its own ``control_rule``
takes ``population.control_rule``. Its parts are typed: :class:`MatchingSpec`,
:class:`EffectsSpec`, :class:`BudgetSpec`. Values keep the types the configuration
gives them (a caliper of ``1`` stays an integer), so that a spec's plain data and its
keys are those of the configuration as written.

The keys of shared artifacts (:meth:`Spec.propensity_key`, :meth:`Spec.match_key`,
:meth:`Spec.effects_key`) are digests of exactly the choices that matter for each
artifact (:meth:`Spec.propensity_choices` …), so specs that agree on them share the
work, and the job that makes an artifact gets exactly these choices as params (plain
data: Snakemake compares params by their ``repr``, and only for plain data).

Dependencies: :mod:`regeval.errors` and the schema's defaults only. The rules import
this module, and what it imports counts as code they run (:mod:`regeval.pipeline.code`).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from regeval.errors import ConfigError
from regeval.pipeline.schema import spec_defaults


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base`` (lists are replaced)."""
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def canonical(obj: Any) -> Any:
    """``obj`` as plain JSON data with every mapping's keys sorted, so that its ``repr``
    (what Snakemake compares to decide whether a job's params changed) does not depend
    on the order of keys in the config files."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


Vcov = Literal["iid", "HC1", "HC3", "CR1", "CR1-SATT"]
"""The standard errors a spec may choose (the schema's enum of ``effects.vcov``)."""


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _get(data: Mapping[str, Any], key: str, where: str) -> Any:
    try:
        return data[key]
    except KeyError:
        raise ConfigError(f"{where}.{key}: missing (give it, or parse the spec with Spec.from_config)") from None
    except TypeError:
        raise ConfigError(f"{where}: must be a mapping, found {type(data).__name__}") from None


@dataclass(frozen=True)
class MatchingSpec:
    """Nearest-neighbour matching on the propensity score (docs/matching.md)."""

    k: int
    replace: bool
    exact: tuple[str, ...]
    caliper: float | None
    distance: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "matching") -> MatchingSpec:
        return cls(
            k=_get(data, "k", where),
            replace=_get(data, "replace", where),
            exact=tuple(_get(data, "exact", where) or ()),
            caliper=_get(data, "caliper", where),
            distance=_get(data, "distance", where),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, "replace": self.replace, "exact": list(self.exact), "caliper": self.caliper,
                "distance": self.distance}


@dataclass(frozen=True)
class PropensitySpec:
    """Which propensity-score model (docs/matching.md, "Flexible propensity scores"):
    ``logit`` (the report's), ``logit_flex``, ``gbm``, or ``auto`` (the one of these
    whose matched sample balances best); ``seed`` seeds the random draws of ``gbm``."""

    model: str
    seed: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "propensity") -> PropensitySpec:
        return cls(model=_get(data, "model", where), seed=_get(data, "seed", where))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "seed": self.seed}


@dataclass(frozen=True)
class Window:
    """Average effect on ``outcome`` over the relative years ``first`` … ``last``
    (config keys ``from`` and ``to``)."""

    outcome: str
    first: int
    last: int

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "from": self.first, "to": self.last}


@dataclass(frozen=True)
class EffectsSpec:
    """The outcome model (docs/effects.md)."""

    outcomes: tuple[str, ...]
    rel_years: tuple[int, int]
    covariates: tuple[str, ...]
    adjust_for_baseline: bool
    vcov: Vcov
    alpha: float
    windows: tuple[Window, ...]
    min_events: int = 0
    dr_covariates: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "effects") -> EffectsSpec:
        lo, hi = _get(data, "rel_years", where)
        windows = tuple(
            Window(_get(w, "outcome", f"{where}.windows.{i}"), _get(w, "from", f"{where}.windows.{i}"),
                   _get(w, "to", f"{where}.windows.{i}"))
            for i, w in enumerate(_get(data, "windows", where) or ())
        )
        return cls(
            outcomes=tuple(_get(data, "outcomes", where)),
            rel_years=(lo, hi),
            covariates=tuple(_get(data, "covariates", where) or ()),
            adjust_for_baseline=_get(data, "adjust_for_baseline", where),
            vcov=_get(data, "vcov", where),
            alpha=_get(data, "alpha", where),
            windows=windows,
            min_events=_get(data, "min_events", where),
            dr_covariates=tuple(_get(data, "doubly_robust_covariates", where) or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"outcomes": list(self.outcomes), "rel_years": list(self.rel_years), "covariates": list(self.covariates),
                "adjust_for_baseline": self.adjust_for_baseline, "vcov": self.vcov, "alpha": self.alpha,
                "windows": [w.to_dict() for w in self.windows], "min_events": self.min_events,
                "doubly_robust_covariates": list(self.dr_covariates)}

    def placebo_years(self) -> list[int]:
        """The years of the joint placebo test: the first year of the panel to two years
        before start (the year before start is the baseline)."""
        return list(range(self.rel_years[0], -1))

    def windows_of_outcomes(self) -> list[tuple[str, int, int]]:
        """The windows ``(outcome, first, last)`` whose outcome is estimated."""
        return [(w.outcome, w.first, w.last) for w in self.windows if w.outcome in self.outcomes]


BUDGET_ASSUMPTIONS = ("price_year", "discount_rate", "horizon", "effects_rule", "cost_multiplier")
"""The keys of a spec's budget section that are the budget's assumptions
(:class:`regeval.budget.BudgetAssumptions`); ``inputs`` names the input files' folder."""


@dataclass(frozen=True)
class BudgetSpec:
    """The budget economics of a spec (docs/budget.md)."""

    inputs: str
    price_year: int
    discount_rate: float
    horizon: int
    effects_rule: str
    cost_multiplier: float

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "budget") -> BudgetSpec:
        return cls(**{k: _get(data, k, where) for k in ("inputs", *BUDGET_ASSUMPTIONS)})

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, **self.assumptions()}

    def assumptions(self) -> dict[str, Any]:
        """The assumptions, as :meth:`regeval.budget.BudgetAssumptions.from_mapping` takes them."""
        return {k: getattr(self, k) for k in BUDGET_ASSUMPTIONS}


POOL_RULE = {"never": "never_participated", "not_yet": "not_yet_participated"}
"""The control rule that stands for a control pool: the rules censor_at_start and
not_yet_participated share the pool ``not_yet`` (everyone not started by then), so
either stands for it when only the pool matters (propensity fit, matching)."""


def pool_rule(pool: str) -> str:
    """A control rule whose potential controls are the pool ``pool`` (``never`` or ``not_yet``)."""
    return POOL_RULE[pool]


@dataclass(frozen=True)
class Spec:
    """One control-group specification: what the control group is made of, how the
    effects are estimated and valued. ``name`` is the key under ``specs``."""

    name: str
    characteristics: tuple[str, ...]
    control_rule: str
    matching: MatchingSpec
    effects: EffectsSpec
    budget: BudgetSpec
    propensity: PropensitySpec = PropensitySpec("logit", 0)
    control_ids: str | None = None
    label: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str) -> Spec:
        """The spec ``name`` of a (schema-valid) configuration."""
        return cls.from_mapping(resolve_spec(config, name))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], name: str | None = None) -> Spec:
        """A spec from its plain data (as :meth:`to_dict` or :func:`resolve_spec` give it)."""
        name = name or _get(data, "name", "spec")
        where = f"specs.{name}"
        return cls(
            name=name,
            characteristics=tuple(_get(data, "characteristics", where)),
            control_rule=_get(data, "control_rule", where),
            matching=MatchingSpec.from_mapping(_get(data, "matching", where), f"{where}.matching"),
            effects=EffectsSpec.from_mapping(_get(data, "effects", where), f"{where}.effects"),
            budget=BudgetSpec.from_mapping(_get(data, "budget", where), f"{where}.budget"),
            propensity=PropensitySpec.from_mapping(_get(data, "propensity", where), f"{where}.propensity"),
            control_ids=data.get("control_ids"),
            label=data.get("label"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (what the reports and the export params take)."""
        out = {
            "name": self.name, "characteristics": list(self.characteristics), "control_rule": self.control_rule,
            "control_ids": self.control_ids, "matching": self.matching.to_dict(), "effects": self.effects.to_dict(),
            "budget": self.budget.to_dict(), "propensity": self.propensity.to_dict(),
        }
        if self.label is not None:
            out["label"] = self.label
        return out

    # The choices each shared artifact depends on. The key of an artifact is a digest of
    # its choices and the job that makes it gets exactly these choices as params, so that
    # specs sharing a key always share identical params (the job does not depend on which
    # of them Snakemake looks at) and a change outside them (e.g. the budget) reruns
    # nothing upstream. Lists keep their order: the order of the characteristics is the
    # order of the model's terms and of the balance table's rows.

    @property
    def pool(self) -> str:
        """Which potential controls the spec uses (the rules censor_at_start and
        not_yet_participated share one pool, hence one propensity fit and one matching)."""
        return "never" if self.control_rule == "never_participated" else "not_yet"

    def score_choices(self) -> dict[str, Any]:
        """The score model; empty for the report's logit, so that its keys are those of a
        configuration without the ``propensity`` section."""
        if self.propensity.model == "logit":
            return {}
        return {"score": self.propensity.to_dict()}

    def propensity_choices(self) -> dict[str, Any]:
        """What the propensity fit depends on: the characteristic list, the control pool
        and the score model (:meth:`score_choices`)."""
        return canonical({"characteristics": list(self.characteristics), "pool": self.pool, **self.score_choices()})

    def match_choices(self) -> dict[str, Any]:
        """What the control group (matching, balance) depends on: characteristics,
        matching options, user-supplied controls, the control pool and the score model."""
        return canonical({"characteristics": list(self.characteristics), "matching": self.matching.to_dict(),
                          "control_ids": self.control_ids, "pool": self.pool, **self.score_choices()})

    def effects_choices(self) -> dict[str, Any]:
        """What the outcome panel and effects depend on besides the control group: the
        effects section and the control rule (it decides the censoring)."""
        return canonical({"effects": self.effects.to_dict(), "control_rule": self.control_rule})

    @property
    def propensity_key(self) -> str:
        """Key of the propensity fit: ``ps-`` and the digest of :meth:`propensity_choices`."""
        return "ps-" + _digest(self.propensity_choices())

    @property
    def match_key(self) -> str:
        """Key of the control group: ``m-`` and the digest of :meth:`match_choices`."""
        return "m-" + _digest(self.match_choices())

    @property
    def effects_key(self) -> str:
        """Key of the outcome panel and effects: the control group's key and :meth:`effects_choices`."""
        return "e-" + _digest({"match": self.match_key, **self.effects_choices()})

    def keys(self) -> dict[str, str]:
        """``{"ps": …, "match": …, "effects": …}``."""
        return {"ps": self.propensity_key, "match": self.match_key, "effects": self.effects_key}


def as_spec(spec: Spec | Mapping[str, Any]) -> Spec:
    """``spec`` as a :class:`Spec` (plain data is parsed; a missing key is an error naming it)."""
    return spec if isinstance(spec, Spec) else Spec.from_mapping(spec)


def resolve_spec(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The spec ``name`` as plain data: the schema's spec defaults, deep-merged with
    ``spec_defaults`` and then ``specs.<name>``; ``control_rule`` defaults to
    ``population.control_rule``."""
    specs = config.get("specs", {}) or {}
    if name not in specs:
        raise ConfigError(f"unknown spec {name!r}; defined: {sorted(specs)}")
    spec = deep_merge(deep_merge(spec_defaults(), config.get("spec_defaults") or {}), specs[name] or {})
    spec["name"] = name
    if "control_rule" not in spec:
        population = config.get("population") or {}
        spec["control_rule"] = population["control_rule"] if "control_rule" in population else _default_control_rule()
    return spec


def _default_control_rule() -> str:
    from regeval.pipeline.schema import shared_schema

    return str(shared_schema()["properties"]["population"]["properties"]["control_rule"]["default"])


def propensity_choices(spec: Spec | Mapping[str, Any]) -> dict[str, Any]:
    """:meth:`Spec.propensity_choices` of a spec or its plain data."""
    return as_spec(spec).propensity_choices()


def match_choices(spec: Spec | Mapping[str, Any]) -> dict[str, Any]:
    """:meth:`Spec.match_choices` of a spec or its plain data."""
    return as_spec(spec).match_choices()


def effects_choices(spec: Spec | Mapping[str, Any]) -> dict[str, Any]:
    """:meth:`Spec.effects_choices` of a spec or its plain data."""
    return as_spec(spec).effects_choices()


def propensity_key(spec: Spec | Mapping[str, Any]) -> str:
    return as_spec(spec).propensity_key


def match_key(spec: Spec | Mapping[str, Any]) -> str:
    return as_spec(spec).match_key


def effects_key(spec: Spec | Mapping[str, Any]) -> str:
    return as_spec(spec).effects_key


def spec_keys(config: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Shared-artifact keys of every defined spec: ``{spec: {ps, match, effects}}``."""
    return {name: Spec.from_config(config, name).keys() for name in config.get("specs", {}) or {}}


def parse_specs(config: Mapping[str, Any], names: Sequence[str] | None = None) -> dict[str, Spec]:
    """The specs ``names`` (default: every defined spec) of a validated configuration."""
    names = list(names if names is not None else config.get("specs") or {})
    return {name: Spec.from_config(config, name) for name in names}


__all__ = [
    "BUDGET_ASSUMPTIONS", "POOL_RULE", "BudgetSpec", "EffectsSpec", "MatchingSpec", "PropensitySpec", "Spec",
    "Window", "as_spec",
    "canonical", "deep_merge", "effects_choices", "effects_key", "match_choices", "match_key", "parse_specs",
    "pool_rule", "propensity_choices", "propensity_key", "resolve_spec", "spec_keys",
]
