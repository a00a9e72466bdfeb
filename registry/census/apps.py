"""The census import as a Django app: its pages and menu entry (the model lives in `registry`)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole


class CensusConfig(AppConfig):
    """The census import's pages and menu entry. Its model (CensusImport) belongs to the
    `registry` app (Meta.app_label), so this config holds no models of its own."""

    name = "registry.census"
    label = "census"
    verbose_name = _("调查表导入")
    # (label, url name, roles, badge, rank) entries for the menu; see eldercare.context_processors.
    # Imports are a few times a year: after the daily pages.
    nav_items = [(_("导入调查表"), "census:imports", [UserRole.TOWN, UserRole.VILLAGE], None, 90)]
