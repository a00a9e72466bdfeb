"""Sections that apps add to a page of a lower layer, without that layer importing them.

An app lists dotted paths in an AppConfig attribute named by the page: `home_panels` for the home
page, `elder_profile_panels` for the elder profile, `alerts_panels` for the 提醒 page. Each is a function returning a `Panel`, or None
when there is nothing to show this user. A panel runs a fixed number of queries, whatever the data.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.template.loader import render_to_string
from django.utils.module_loading import import_string


@dataclass
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100  # lower comes first
    html: str = ""  # filled by collect_panels: the rendered template


def collect_panels(hook: str, request, *args, **template_context) -> list[Panel]:
    """The panels the apps declare under `hook`, called with (request, *args), rendered, in order."""
    panels = []
    for config in apps.get_app_configs():
        for path in getattr(config, hook, ()):
            panel = import_string(path)(request, *args)
            if panel is not None:
                panel.html = render_to_string(panel.template, {**template_context, **panel.context}, request=request)
                panels.append(panel)
    return sorted(panels, key=lambda p: p.order)
