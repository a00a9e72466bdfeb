"""Sections that other apps add to the elder profile page, without the register importing them.

An app lists dotted paths in its AppConfig: `elder_profile_panels = ["visits.panels.timeline"]`.
Each is a function `(request, elder) -> ElderPanel | None` (None: nothing to show for this
user). A panel must run a fixed number of queries, whatever the elder's history holds.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.template.loader import render_to_string
from django.utils.module_loading import import_string


@dataclass
class ElderPanel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100  # lower comes first
    html: str = ""  # filled by panels_for: the rendered template


def panels_for(request, elder) -> list[ElderPanel]:
    """The panels other apps contribute for this elder and user, rendered, in order."""
    panels = []
    for config in apps.get_app_configs():
        for path in getattr(config, "elder_profile_panels", ()):
            panel = import_string(path)(request, elder)
            if panel is not None:
                panel.html = render_to_string(panel.template, {"elder": elder, **panel.context}, request=request)
                panels.append(panel)
    return sorted(panels, key=lambda p: p.order)
