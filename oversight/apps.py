from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole

T, C, V = UserRole.TOWN, UserRole.COUNTY, UserRole.VILLAGE


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("督促检查")
    # (label, url name, roles, badge, rank) entries for the menu; see eldercare.context_processors.
    # Town and county start on the dashboard (rank 5: first); the village's own figures come after
    # its day's work (今日待访, 救助待办).
    nav_items = [
        (_("督导总览"), "oversight:dashboard", [T, C], None, 5),
        (_("本村情况"), "oversight:dashboard", [V], None, 30),
        (_("督导评分"), "oversight:scorecard", [T, C, V], None, {T: 45, C: 30, V: 70}),
        (_("督导通报"), "oversight:circulars", [T, C, V], None, {T: 46, C: 31, V: 71}),
        (_("统计报表"), "oversight:report", [T, C], None, {T: 47, C: 32}),
        # 二(五) 对风险等级高的及时进行干预: the badge counts 高-risk elders without an intervention.
        (_("高风险跟进"), "oversight:high_risk", [T, V, C], "oversight.followthrough.without_intervention_badge",
         {T: 32, V: 65, C: 35}),
    ]
    # The 提醒 page (registry:alerts) lists the 高-risk elders without an intervention too.
    alerts_panels = ["oversight.followthrough.high_risk_alert"]
    # Town and county staff land on the dashboard (eldercare.views.home reads this).
    landing_pages = {T: "oversight:dashboard", C: "oversight:dashboard"}
    # {role: [permission codename, …]} for the role groups; see eldercare.roles.
    role_permissions = {}
