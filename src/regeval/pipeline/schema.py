"""The configuration's JSON schema (package data) and the defaults it declares.

Every default of the configuration is the ``default:`` of its key in
``regeval/pipeline/config.schema.yaml``, and nowhere else: :func:`fill_defaults` adds
the missing keys of a configuration, and :data:`SPEC_DEFAULTS` (the defaults of a
spec) is the base every spec is merged onto, under ``spec_defaults`` and
``specs.<name>``. ``config/config.yaml`` holds only what the default run sets.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

SCHEMA_RESOURCE = ("regeval.pipeline", "config.schema.yaml")
"""Package and file name of the schema (read with :mod:`importlib.resources`, so it is
found in an installed package as in a source checkout)."""


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    package, name = SCHEMA_RESOURCE
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def shared_schema() -> dict[str, Any]:
    """The schema, parsed once per process and shared: read it, never change it
    (:func:`load_schema` gives a copy). Every Snakemake start, also in each cluster job,
    validates the configuration, so it is parsed with libyaml when PyYAML has it."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    schema = yaml.load(_schema_text(), Loader=loader)  # noqa: S506 (a safe loader)
    if not isinstance(schema, dict):
        raise TypeError("config.schema.yaml: the top level must be a mapping")
    return schema


def load_schema() -> dict[str, Any]:
    """The configuration's JSON schema (a fresh copy)."""
    return copy.deepcopy(shared_schema())


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """``node`` with a ``$ref`` (or an ``allOf`` of one schema, which keeps a ``default``
    beside a reference valid) replaced by the schema it refers to."""
    if "allOf" in node and len(node["allOf"]) == 1 and "properties" not in node:
        return _resolve(node["allOf"][0], root)
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target, root)


def defaults_of(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults under the schema ``node`` (an object schema): for every property
    with a ``default``, that value with the defaults of its own properties filled in."""
    out: dict[str, Any] = {}
    for key, sub in _resolve(node, root).get("properties", {}).items():
        if "default" in sub or "default" in _resolve(sub, root):
            value = copy.deepcopy(sub["default"] if "default" in sub else _resolve(sub, root)["default"])
            out[key] = fill(value, sub, root) if isinstance(value, dict) else value
    return out


def fill(config: dict[str, Any], node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the missing keys that have a default under ``node`` added, in
    place and recursively (through ``properties``, not through ``additionalProperties``:
    a spec under ``specs`` is not filled, it is merged onto the defaults)."""
    node = _resolve(node, root)
    for key, sub in node.get("properties", {}).items():
        default = sub["default"] if "default" in sub else _resolve(sub, root).get("default", _NONE)
        if key not in config and default is not _NONE:
            config[key] = copy.deepcopy(default)
        if isinstance(config.get(key), dict) and _resolve(sub, root).get("properties"):
            fill(config[key], sub, root)
    return config


_NONE = object()


def fill_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with every missing key that has a default in the schema."""
    schema = shared_schema()  # fill copies every default it adds
    return fill(copy.deepcopy(dict(config)), schema, schema)


@functools.lru_cache(maxsize=1)
def _spec_defaults() -> dict[str, Any]:
    schema = shared_schema()  # defaults_of copies every default
    return defaults_of(schema["definitions"]["spec"], schema)


def spec_defaults() -> dict[str, Any]:
    """The defaults of a spec (from ``definitions.spec`` of the schema; a fresh copy)."""
    return copy.deepcopy(_spec_defaults())


__all__ = ["SCHEMA_RESOURCE", "defaults_of", "fill", "fill_defaults", "load_schema", "shared_schema", "spec_defaults"]
