from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("督促检查")
    # (label, url name, roles) entries for the menu; see eldercare.context_processors.
    nav_items = [
        (_("督导总览"), "oversight:dashboard", [UserRole.TOWN, UserRole.COUNTY]),
        (_("督导评分"), "oversight:scorecard", [UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE]),
        (_("督导通报"), "oversight:circulars", [UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE]),
        (_("统计报表"), "oversight:report", [UserRole.TOWN, UserRole.COUNTY]),
    ]
    # Town and county staff start on the dashboard (the home view reads this; see eldercare.views.home).
    landing_pages = {UserRole.TOWN: "oversight:dashboard", UserRole.COUNTY: "oversight:dashboard"}
    # Sections of the home page: (request) -> Panel | None (see eldercare.panels).
    home_panels = ["oversight.panels.village_figures"]
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {}
