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

from typing import TYPE_CHECKING

from regeval._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
