from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole

T, V, C, K = UserRole.TOWN, UserRole.VILLAGE, UserRole.CLINIC, UserRole.COUNTY


def _perms(*models, actions=("view", "add", "change")):
    return [f"{a}_{m}" for m in models for a in actions]


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("关爱服务与健康管理")
    # (label, url name, roles[, badge]) entries for the menu; see eldercare.context_processors.
    # The rank orders the menu by how often each role opens the page (lower first).
    nav_items = [
        (_("服务清单"), "services:catalogue", (T, V, K), None, 80),
        (_("服务申请"), "services:requests", (T, V, K), "services.views.requests_badge", {T: 35, V: 45, K: 60}),
        (_("结对帮扶"), "services:pairings", (T, V, K), None, 70),
        (_("健康管理"), "services:clinic_worklist", (C, T, K), "services.views.worklist_badge", {C: 10, T: 65, K: 40}),
    ]
    elder_profile_panels = ["services.panels.elder_services"]
    # Clinic staff start on their worklist (eldercare.views.home).
    landing_pages = {C: "services:clinic_worklist"}
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {
        T: _perms("provider", "serviceitem", "volunteer", "pairing", "servicerecord", "healthcheck",
                  "familydoctorcontract") + ["view_servicerequest"],
        V: _perms("volunteer", "pairing", "servicerecord") + ["view_provider", "view_serviceitem",
                                                               "view_familydoctorcontract"],
        C: _perms("healthcheck", "familydoctorcontract"),
        K: _perms("provider", "serviceitem", "volunteer", "pairing", "servicerecord", "healthcheck",
                  "familydoctorcontract", actions=("view",)),
    }
