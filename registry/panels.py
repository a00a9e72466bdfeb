"""Sections that other apps add to the elder profile page, without the register importing them.

An app lists dotted paths in its AppConfig: `elder_profile_panels = ["visits.panels.timeline"]`.
Each is a function `(request, elder) -> ElderPanel | None` (None: nothing to show for this
user). A panel must run a fixed number of queries, whatever the elder's history holds.
"""

from eldercare.panels import Panel, collect_panels

ElderPanel = Panel


def panels_for(request, elder) -> list[Panel]:
    """The panels other apps contribute for this elder and user, rendered, in order."""
    return collect_panels("elder_profile_panels", request, elder, elder=elder)
