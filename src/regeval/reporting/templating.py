"""The Jinja2 templates of the report and the sweep summary (package data in
``templates/``), rendered with the translation catalogue's ``t()``."""

from __future__ import annotations

import functools
from typing import Any

import jinja2

from regeval.reporting.labels import t


@functools.cache
def environment() -> jinja2.Environment:
    """The templates of the report and the sweep summary (package data)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("regeval.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, language: str, **context: Any) -> str:
    """Render ``template`` with ``t()`` bound to ``language``."""
    def tr(key: str, section: str = "text", **fields: Any) -> str:
        return t(key, language, section, **fields)

    return environment().get_template(template).render(language=language, t=tr, **context)


__all__ = ["environment", "render"]
