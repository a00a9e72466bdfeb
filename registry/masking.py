"""Who sees which personal identifiers in full (docs/registry.md, "Masking").

- Lists (the phone list page and the admin changelist): the resident ID and phones are always
  masked (`511529********0012`, `138****1234`), for every role.
- The profile page: phones are shown in full with call links (calling is what the page is for);
  the resident ID is masked until the user presses 显示, which is recorded as an access event
  (`record_access(kind="reveal")`). The admin's 显示完整号码 action does the same for one row.
- The ledger export: town and county staff get full IDs and phones (the ledger must import back
  unchanged); village staff get them masked. Clinic staff and departments cannot export.
"""

from eldercare.choices import UserRole
from eldercare.idnumbers import mask_id_number, mask_phone

STAFF_ROLES = (UserRole.TOWN, UserRole.VILLAGE, UserRole.COUNTY)  # may read all of the register
WRITE_ROLES = (UserRole.TOWN, UserRole.VILLAGE)  # may change it (the county reads, pages and admin alike)
READ_ROLES = (*STAFF_ROLES, UserRole.CLINIC)  # may read the register
HISTORY_ROLES = (UserRole.TOWN, UserRole.COUNTY)
EXPORT_ROLES = STAFF_ROLES
FULL_EXPORT_ROLES = (UserRole.TOWN, UserRole.COUNTY)


def has_role(user, roles) -> bool:
    return user.is_superuser or user.role in roles


def is_clinic(user) -> bool:
    """Clinic staff see health facts and guardians' contacts only (no income, agreements …)."""
    return not user.is_superuser and user.role == UserRole.CLINIC


def masked_phones(phones) -> str:
    return "、".join(mask_phone(p) for p in phones or [])


def export_masks(user) -> bool:
    return not has_role(user, FULL_EXPORT_ROLES)


__all__ = ["WRITE_ROLES", "mask_id_number", "mask_phone", "masked_phones", "has_role", "is_clinic", "export_masks"]
