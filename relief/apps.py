from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("风险评估与关爱救助")
    # (label, url name, roles) entries for the menu; see eldercare.context_processors.
    nav_items = []
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {}
