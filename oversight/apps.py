from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("督促检查")
    # (label, url name, roles) entries for the menu; see eldercare.context_processors.
    nav_items = []
    # Town and county staff start on the dashboard; until it exists, on the relief queue (the
    # county reads the town's cases, it has no 待办 of its own). Declared here, not in relief,
    # because the first app naming a role wins and the dashboard replaces these.
    landing_pages = {UserRole.TOWN: "relief:inbox", UserRole.COUNTY: "relief:case_list"}
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {}
