"""Synthetic registers with known true effects (a Danish-like population and a
KLAPjob-like programme), written in the register data contract.

* :mod:`~regeval.synthetic.config` — :class:`SyntheticConfig` (size, seed, knobs) and
  :class:`EffectShape` (the true effect paths);
* :mod:`~regeval.synthetic.generator` — :func:`generate`: the chunks (in parallel) and
  the files;
* :mod:`~regeval.synthetic.simulate` — one chunk, in steps (persons, untreated years,
  programme, tables), each in its own module.

The names below load their module on first use (the generator imports pandas and pyarrow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the modules that define the public names (loaded on first use below)
    from regeval.synthetic.config import EffectShape, SyntheticConfig
    from regeval.synthetic.generator import generate

_MODULES = {
    "regeval.synthetic.config": ("EffectShape", "SyntheticConfig"),
    "regeval.synthetic.generator": ("generate",),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "EffectShape",
    "SyntheticConfig",
    "generate",
]


def __getattr__(name: str) -> Any:
    """A public name, its module imported on first use (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the public names not loaded yet included."""
    return sorted(set(globals()) | set(__all__))
