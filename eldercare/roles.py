"""One auth group per staff role, holding the model permissions that role needs in the admin.

Each app's AppConfig declares `role_permissions = {role: [codename, …]}` for its own models.
"""

from django.apps import apps as global_apps

from eldercare.choices import UserRole


def group_name(role) -> str:
    return f"role:{role}"


def sync_role_groups(sender=None, apps=global_apps, **kwargs):
    """Create the role groups and give each exactly the permissions the apps declare."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in UserRole.values:
        group, _ = Group.objects.get_or_create(name=group_name(role))
        wanted = []
        for config in global_apps.get_app_configs():
            for codename in getattr(config, "role_permissions", {}).get(role, []):
                wanted.append((config.label, codename))
        perms = [
            p for p in Permission.objects.filter(codename__in=[c for _, c in wanted]).select_related("content_type")
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(perms)
