from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("留守老年人信息库")
    # (label, url name, roles) entries for the menu; see eldercare.context_processors.
    # (label, url name, roles, badge, rank) entries for the menu, rank by how often each role
    # opens the page (lower first); see eldercare.context_processors.
    nav_items = [
        (_("老人名册"), "registry:elders", ["town", "village", "clinic", "county"], None,
         {"village": 30, "town": 30, "clinic": 20, "county": 30}),
        (_("提醒"), "registry:alerts", ["town", "village"], "registry.views.alerts_badge", 50),
    ]
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    # The county reads the register (pages and admin alike, registry.masking.WRITE_ROLES).
    role_permissions = {
        "county": ["view_elder", "view_guardian", "view_elderguardian", "view_contactevent", "view_careagreement",
                   "view_supervision", "view_dutyobservation", "view_elderstatuschange", "view_carehome",
                   "add_carehome", "change_carehome"],
    } | {
        role: ["view_elder", "add_elder", "change_elder", "view_guardian", "add_guardian", "change_guardian",
               "view_elderguardian", "add_elderguardian", "change_elderguardian", "view_contactevent",
               "add_contactevent", "change_contactevent", "view_careagreement", "add_careagreement",
               "change_careagreement", "view_supervision", "view_dutyobservation", "view_elderstatuschange",
               "add_elderstatuschange", "view_carehome"]
        + (["add_carehome", "change_carehome"] if role == "town" else [])
        for role in ("town", "village")
    }
