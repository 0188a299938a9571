"""Jinja2 templates of the outputs (``territorial_geo/templates``): the report pages and
the web map's script.

Autoescaping is on for every template: a value from a data or study file is written as
text unless it went through a filter that made it safe on purpose:

* ``js``: a value as JSON inside a ``<script>`` element (``</`` written ``<\\/``, so a name
  holding ``</script>`` cannot close it);
* ``ident``: a JavaScript identifier (a Folium element's name), refused unless it is one.

HTML built and escaped by the caller (pandas tables, sections) is passed as
:class:`markupsafe.Markup`.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    import jinja2

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def js_json(value) -> Markup:
    """``value`` as JSON safe inside a ``<script>`` element (non-ASCII kept)."""
    return Markup(json.dumps(value, ensure_ascii=False).replace("</", "<\\/"))


def js_ident(name: str) -> Markup:
    """``name`` as a JavaScript identifier.

    Raises
    ------
    ValueError
        ``name`` is not an identifier.
    """
    if not _IDENT.fullmatch(str(name)):
        raise ValueError(f"not a JavaScript identifier: {name!r}")
    return Markup(name)


def _escaped(value) -> Markup:
    """A value as the page shows it: :class:`~markupsafe.Markup` as it is, anything else as
    text escaped by :func:`html.escape`."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value)))


@cache
def environment() -> jinja2.Environment:
    """The templates' environment (built once: the templates compile on first use).

    Autoescape on, with :func:`html.escape` (the escaping of the rest of the outputs, quotes
    included) for every value not marked safe; a line holding only a block tag leaves
    nothing in the page (``trim_blocks``, ``lstrip_blocks``), nor does the template's last
    newline; an undefined name is an error.
    """
    import jinja2  # on first render: importing the study does not pay for it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("territorial_geo", "templates"),
        autoescape=True, finalize=_escaped, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    env.filters["js"] = js_json
    env.filters["ident"] = js_ident
    return env


def render(name: str, **values) -> str:
    """Render the template ``name`` (in ``territorial_geo/templates``) with ``values``."""
    return environment().get_template(name).render(**values)
