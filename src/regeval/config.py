"""Configuration: validation against the JSON schema and resolution of specs.

The configuration is ``config/config.yaml`` deep-merged with any ``--configfile``
(Snakemake does the merge). :func:`validate_config` checks it against
``workflow/schemas/config.schema.yaml`` (``additionalProperties: false``
everywhere, so a typo fails and names its key path). A *spec* (control-group
specification) is ``spec_defaults`` deep-merged with ``specs.<name>``;
:func:`resolve_spec` returns it as plain data, and the keys of shared artifacts
(:func:`propensity_key`) encode only the choices that matter for them, so specs
that agree share them.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ConfigError

PACKAGE_ROOT = Path(__file__).resolve().parent
SCHEMA_PATH = PACKAGE_ROOT.parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def load_yaml(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base`` (lists are replaced)."""
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def validate_config(config: Mapping[str, Any], schema_path: str | Path | None = None) -> None:
    """Validate ``config`` against the schema; the error names every offending key.

    Also checks what a schema cannot: every spec in ``run_specs`` exists, the
    years are ordered, and characteristic/outcome names are known.
    """
    schema = load_yaml(schema_path or SCHEMA_PATH)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = []
        for err in errors:
            if err.validator == "additionalProperties":
                lines.append(f"{_key_path(err)}: {err.message} (not a known key: check the spelling)")
            else:
                lines.append(f"{_key_path(err)}: {err.message}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    years = config["data"]["years"]
    if years[0] > years[1]:
        raise ConfigError(f"data.years: first year {years[0]} is after last year {years[1]}")
    missing = [s for s in config["run_specs"] if s not in config.get("specs", {})]
    if missing:
        raise ConfigError(
            f"run_specs: spec(s) {missing} are not defined under specs "
            f"(defined: {sorted(config.get('specs', {}))})"
        )
    if config["data"]["source"] == "registers" and not (config["data"].get("registers") or {}).get("directory"):
        raise ConfigError("data.registers.directory: must be set when data.source is 'registers'")
    from .panel import YEARLY_OUTCOMES  # local import: panel imports pandas

    for name in config.get("specs", {}):
        spec = resolve_spec(config, name)
        bad = [o for o in spec["effects"]["outcomes"] if o not in YEARLY_OUTCOMES]
        if bad:
            raise ConfigError(
                f"specs.{name}.effects.outcomes: unknown outcome(s) {bad}; valid: {list(YEARLY_OUTCOMES)}"
            )
        lo, hi = spec["effects"]["rel_years"]
        if lo > -1 or hi < 0:
            raise ConfigError(
                f"specs.{name}.effects.rel_years: {[lo, hi]} must include -1 and 0 (the year before and the start year)"
            )


def resolve_spec(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The spec ``name``: ``spec_defaults`` deep-merged with ``specs.<name>``."""
    specs = config.get("specs", {}) or {}
    if name not in specs:
        raise ConfigError(f"unknown spec {name!r}; defined: {sorted(specs)}")
    spec = deep_merge(config["spec_defaults"], specs[name] or {})
    spec["name"] = name
    spec.setdefault("control_rule", (config.get("population") or {}).get("control_rule", "censor_at_start"))
    return spec


def _pool(spec: Mapping[str, Any]) -> str:
    """Which potential controls a spec uses (the rules censor_at_start and
    not_yet_participated share one pool, hence one propensity fit and one matching)."""
    return "never" if spec.get("control_rule") == "never_participated" else "not_yet"


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:10]


def canonical(obj: Any) -> Any:
    """``obj`` as plain JSON data with every mapping's keys sorted, so that its ``repr``
    (what Snakemake compares to decide whether a job's params changed) does not depend
    on the order of keys in the config files."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


# The choices each shared artifact depends on. The key of an artifact is a digest of
# its choices and the job that makes it gets exactly these choices as params, so that
# specs sharing a key always share identical params (the job does not depend on which
# of them Snakemake looks at) and a change outside them (e.g. the budget) reruns nothing
# upstream. Lists keep their order: the order of the characteristics is the order of
# the model's terms and of the balance table's rows.


def propensity_choices(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the propensity fit depends on: the characteristic list and the control pool."""
    return canonical({"characteristics": list(spec["characteristics"]), "pool": _pool(spec)})


def match_choices(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the control group (matching, balance) depends on: characteristics,
    matching options, user-supplied controls and the control pool."""
    return canonical(
        {
            "characteristics": list(spec["characteristics"]),
            "matching": spec["matching"],
            "control_ids": spec.get("control_ids"),
            "pool": _pool(spec),
        }
    )


def effects_choices(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What the outcome panel and effects depend on besides the control group: the
    effects section and the control rule (it decides the censoring)."""
    return canonical({"effects": spec["effects"], "control_rule": spec.get("control_rule")})


def propensity_key(spec: Mapping[str, Any]) -> str:
    """Key of the propensity fit: digest of :func:`propensity_choices`."""
    return "ps-" + _digest(propensity_choices(spec))


def match_key(spec: Mapping[str, Any]) -> str:
    """Key of the control group: digest of :func:`match_choices`."""
    return "m-" + _digest(match_choices(spec))


def effects_key(spec: Mapping[str, Any]) -> str:
    """Key of the outcome panel and effects: the control group's key and
    :func:`effects_choices`."""
    return "e-" + _digest({"match": match_key(spec), **effects_choices(spec)})


def spec_keys(config: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Shared-artifact keys of every defined spec: {spec: {ps, match, effects}}."""
    out = {}
    for name in config.get("specs", {}) or {}:
        spec = resolve_spec(config, name)
        out[name] = {"ps": propensity_key(spec), "match": match_key(spec), "effects": effects_key(spec)}
    return out


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return str(len(value))
    if value is None:
        return "none"
    return str(value).replace(" ", "").replace(".", "p")


def expand_sweep(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Add the specs of the configured sweep (if any) to the config.

    ``sweep.grid`` maps dotted spec keys (``matching.k``, ``budget.discount_rate``,
    ``characteristics`` …) to lists of values; every combination becomes a spec named
    ``<sweep.name>-<key><value>-…`` built on ``sweep.base`` (default ``default``).
    The sweep's specs, with the base spec first, are added to ``run_specs``.
    Returns the new config and the sweep's spec names (empty without a sweep).
    """
    sweep = config.get("sweep")
    if not sweep:
        return dict(config), []
    cfg = copy.deepcopy(dict(config))
    name = sweep.get("name", "sweep")
    base = sweep.get("base", "default")
    if base not in cfg.get("specs", {}):
        raise ConfigError(f"sweep.base: spec {base!r} is not defined under specs")
    grid = sweep.get("grid") or {}
    keys = list(grid)
    names = [base]
    for combo in itertools.product(*(grid[k] for k in keys)):
        override = copy.deepcopy(cfg["specs"][base] or {})
        parts = []
        for key, value in zip(keys, combo):
            _set_path(override, key, value)
            parts.append(f"{key.split('.')[-1]}{_label(value)}")
        spec_name = "-".join([name, *parts])
        override["label"] = ", ".join(f"{k} = {v}" for k, v in zip(keys, combo))
        cfg["specs"][spec_name] = override
        names.append(spec_name)
    cfg["run_specs"] = list(dict.fromkeys([*cfg["run_specs"], *names]))
    return cfg, names
