"""Template filters of the register (masking, shared with the admin)."""

from django import template

from registry.masking import mask_id_number, mask_phone
from registry.masking import masked_phones as _masked_phones

register = template.Library()


@register.filter
def masked_phones(phones) -> str:
    return _masked_phones(phones)


@register.filter
def masked_id(number) -> str:
    return mask_id_number(number or "")


@register.filter
def masked_phone(phone) -> str:
    return mask_phone(phone or "")
