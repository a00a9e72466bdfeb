from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole

V, T, C, D = UserRole.VILLAGE, UserRole.TOWN, UserRole.COUNTY, UserRole.DEPARTMENT


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("风险评估与关爱救助")
    # (label, url name, roles, badge) entries for the menu; see eldercare.context_processors.
    nav_items = [
        (_("救助待办"), "relief:inbox", (V, T, D), "relief.views.inbox_badge"),
        (_("救助个案"), "relief:case_list", (V, T, C)),
        (_("转办个案"), "relief:referral_list", (D,)),
        (_("上报特殊情况"), "relief:case_report", (V,)),
        (_("风险复评"), "relief:reassessment_due", (V, T, C)),
    ]
    elder_profile_panels = ["relief.panels.risk_and_cases"]
    # {role: [permission codename, …]} for the role groups; see eldercare.roles. The admin is for
    # the town office (and the county, read-only); every case step goes through the pages.
    role_permissions = {
        T: ["view_reliefcase", "view_referral", "view_caseevent", "view_riskassessment", "view_clockpolicy",
            "add_clockpolicy", "change_clockpolicy"],
        C: ["view_reliefcase", "view_referral", "view_caseevent", "view_riskassessment", "view_clockpolicy"],
    }
