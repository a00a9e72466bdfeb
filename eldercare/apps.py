from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole

ALL_ROLES = tuple(UserRole.values)


class EldercareConfig(AppConfig):
    name = "eldercare"
    verbose_name = _("基础信息与账号")
    # What each app may declare in its AppConfig, read by the core without importing the app:
    #   nav_items            menu entries (eldercare.context_processors.navigation)
    #   landing_pages        {role: url name}: the page a role lands on (eldercare.views.home)
    #   home_panels          functions (request) -> Panel | None shown on the home page
    #   elder_profile_panels functions (request, elder) -> Panel | None on the elder profile
    #   alerts_panels        functions (request) -> Panel | None on the 提醒 page (registry:alerts)
    #   role_permissions     {role: [codename, …]} for the role groups (eldercare.roles)
    # 首页 is left out of the menu of a role that lands on a page of its own (landing_pages);
    # the admin is in the menu of the roles whose work is there (accounts, catalogue, clocks).
    nav_items = [(_("首页"), "home", ALL_ROLES, None, 0),
                 (_("访问记录"), "access_log", (UserRole.TOWN, UserRole.COUNTY), None, 90),
                 (_("后台管理"), "admin:index", (UserRole.TOWN, UserRole.COUNTY), None, 99)]
    # Model permissions each role's group gets (the admin uses them; our own views check scope).
    role_permissions = {
        UserRole.COUNTY: ["view_area", "view_department", "view_user", "add_user", "change_user"],
        UserRole.TOWN: ["view_area", "view_department", "add_department", "change_department",
                        "view_user", "add_user", "change_user"],
        UserRole.VILLAGE: ["view_area"],
        UserRole.CLINIC: ["view_area"],
        UserRole.DEPARTMENT: ["view_area"],
    }

    def ready(self):
        from eldercare import display
        from eldercare.roles import sync_role_groups

        display.install()  # choice labels from a table built once, not on every call

        # Permissions of apps exist only after their migrations ran; refresh the role groups
        # then. This keeps group membership data, not business rules, so it is not a signal
        # receiver with behaviour (see DESIGN.md on signals).
        post_migrate.connect(sync_role_groups, dispatch_uid="eldercare.sync_role_groups")
