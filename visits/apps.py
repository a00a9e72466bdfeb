from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = _("定期巡访")
    # (label, url name, roles[, badge]) entries for the menu; see eldercare.context_processors.
    # The rank orders the menu by how often each role opens the page (lower first).
    nav_items = [
        (_("今日待访"), "visits:today", [UserRole.VILLAGE], "visits.views.due_badge", 10),
        (_("子女答复待跟进"), "visits:followups", [UserRole.VILLAGE, UserRole.TOWN], "visits.views.followups_badge",
         {UserRole.VILLAGE: 35, UserRole.TOWN: 36}),
        (_("巡访总览"), "visits:overview", [UserRole.TOWN, UserRole.COUNTY], None, 20),
        (_("巡访周期"), "visits:policy", [UserRole.TOWN], None, 95),
        (_("调整巡访责任人"), "visits:reassign", [UserRole.TOWN], None, 85),
    ]
    elder_profile_panels = ["visits.panels.timeline"]
    # Village staff start on the day's visits (eldercare.views.home).
    landing_pages = {UserRole.VILLAGE: "visits:today"}
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {
        UserRole.COUNTY: ["view_visit", "view_visitpolicy", "view_urgentvisitrequest"],
        UserRole.TOWN: ["view_visit", "view_visitpolicy", "change_visitpolicy", "view_urgentvisitrequest",
                        "view_familynotice"],
        UserRole.VILLAGE: ["view_visit", "view_urgentvisitrequest", "view_familynotice"],
    }
