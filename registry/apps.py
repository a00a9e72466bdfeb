from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("留守老年人信息库")
    # (label, url name, roles) entries for the menu; see eldercare.context_processors.
    nav_items = []
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {}
