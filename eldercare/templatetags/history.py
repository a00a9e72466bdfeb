"""Showing audit events: field labels instead of column names, identifiers masked.

The change history is for town staff checking who changed what; it must not become a way
around masking, so resident ID numbers and phone numbers appear masked here as on lists.
"""

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from eldercare.idnumbers import mask_id_number, mask_phone

register = template.Library()

MASKERS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "caregiver_phone": mask_phone,
    "agreement_phone": mask_phone,
    "phones": lambda phones: "、".join(mask_phone(p) for p in phones or []),
    # The masked ID's hidden middle is the birth date: the year is all the history shows of it.
    "birth_date": lambda value: f"{str(value)[:4]}年",
}


# pghistory's event labels (eldercare.audit.tracked, and the bulk copies it writes) in Chinese.
ACTIONS = {"insert": _("新建"), "update": _("修改"), "delete": _("删除")}


@register.filter
def history_action(label):
    """The event's label ('insert' / 'update' / 'delete') as the page says it."""
    return ACTIONS.get(label, label)


@register.filter
def history_value(value, field):
    """`value` of column `field` as the history table shows it ('—' for empty, identifiers masked)."""
    if value in (None, "", []):
        return "—"
    masker = MASKERS.get(field)
    return masker(value) if masker else value


@register.filter
def history_field(event, field):
    """The verbose name of `field` on the model the event tracks, falling back to the column name."""
    try:
        model = apps.get_model(event.pgh_obj_model)
        return model._meta.get_field(field.removesuffix("_id")).verbose_name
    except (LookupError, ValueError, FieldDoesNotExist):
        return field
