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


def alert_panels(request) -> list[Panel]:
    """The sections other apps add to the 提醒 page (`alerts_panels`; the 高-risk elders without an
    intervention come from oversight, which alone may read visits, cases and services together)."""
    return collect_panels("alerts_panels", request)
