"""`{% figure_cell cell %}`: one figure of the dashboard (a count, a share or a median) as its link.

The dashboard shows ~260 of these (the tiles, and 16 columns × up to 14 villages); written as an
{% include %} each cost a template lookup and a context push, a fifth of the page's Python.
Values are localized as the template engine would ({{ value }}).
"""

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def figure_cell(cell):
    """The cell built by oversight.views._cell: median (hours, with the count of cases), share
    (with count/denominator) or count, each a link to the rows behind it."""
    metric, link, count = cell["metric"], cell["link"], localize(cell["count"])
    if metric.is_median:
        median = "—" if cell["median"] is None else f"{localize(cell['median'])} {_('小时')}"
        return format_html('<a href="{}">{}</a> <span class="muted small">({} {})</span>', link, median, count, _("件"))
    if metric.denominator:
        rate = "—" if cell["rate"] is None else f"{localize(cell['rate'])}%"
        return format_html('<a href="{}">{}</a> <span class="muted small">{}/{}</span>', link, rate, count,
                           localize(cell["denominator"]))
    return format_html('<a href="{}">{}</a>', link, count)
