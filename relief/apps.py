from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole

V, T, C, D = UserRole.VILLAGE, UserRole.TOWN, UserRole.COUNTY, UserRole.DEPARTMENT
CL = UserRole.CLINIC  # clinic staff work the cases referred to their 卫生院, like a department


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("风险评估与关爱救助")
    # (label, url name, roles, badge) entries for the menu; see eldercare.context_processors.
    # The rank orders the menu by how often each role opens the page (lower first).
    nav_items = [
        (_("救助待办"), "relief:inbox", (V, T, D, CL), "relief.views.inbox_badge", {V: 20, T: 10, D: 20, CL: 25}),
        (_("救助个案"), "relief:case_list", (V, T, C), None, {V: 80, T: 40, C: 10}),
        (_("转办个案"), "relief:referral_list", (D, CL), None, {D: 10, CL: 30}),
        (_("上报特殊情况"), "relief:case_report", (V,), None, 40),
        (_("风险复评"), "relief:reassessment_due", (V, T, C), None, 60),
    ]
    elder_profile_panels = ["relief.panels.risk_and_cases"]
    # Department officers start on the cases referred to them (eldercare.views.home).
    landing_pages = {D: "relief:referral_list"}
    # {role: [permission codename, …]} for the role groups; see eldercare.roles. The admin is for
    # the town office (and the county, read-only); every case step goes through the pages.
    role_permissions = {
        T: ["view_reliefcase", "view_referral", "view_caseevent", "view_riskassessment", "view_clockpolicy",
            "add_clockpolicy", "change_clockpolicy"],
        C: ["view_reliefcase", "view_referral", "view_caseevent", "view_riskassessment", "view_clockpolicy"],
    }
