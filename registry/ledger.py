"""The ledger export (台账): the filtered elder changelist as an .xlsx in the census layout.

Headers are the census template's (`CENSUS_COLUMNS`) and cells are written with the census
`format_row`, so an exported ledger imports back unchanged. Every cell is text, and a value
starting with = + - @ (or ＝ ＋ － ＠) is neutralised by `safe_cell_text` inside `format_row`.
Town and county staff get full ID numbers and phones; village staff get them masked
(registry.masking), with the birth year instead of the birth date (the date is the masked middle). Each export is recorded with its filters and row count.
"""

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from eldercare.audit import record_access
from eldercare.replica import replica_reads
from eldercare.spreadsheets import Sheet, safe_cell_text, xlsx_response
from registry.census.columns import CENSUS_COLUMNS
from registry.census.template import format_row
from registry.masking import EXPORT_ROLES, export_masks, has_role, mask_id_number, mask_phone
from registry.models import CareAgreement, ElderGuardian

SHEET_TITLE = "台账"


def ledger_queryset(queryset, today=None):
    """`queryset` (already scoped and filtered) with what a ledger row needs, in fixed queries."""
    today = today or timezone.localdate()
    return queryset.select_related("village__parent", "care_home").prefetch_related(
        Prefetch("guardian_links", queryset=ElderGuardian.objects.select_related("guardian").order_by("-is_primary", "id"),
                 to_attr="ledger_guardians"),
        Prefetch("agreements", queryset=CareAgreement.objects.valid_on(today).order_by("-end_date", "-id"),
                 to_attr="ledger_agreements"),
    )


def ledger_values(elder, *, masked: bool) -> dict:
    """One elder as a census values dict (field keys as in docs/shared census spec)."""
    phone = mask_phone if masked else (lambda p: p)
    agreement = elder.ledger_agreements[0] if elder.ledger_agreements else None
    return {
        "town": elder.village.parent.name if elder.village.parent else "",
        "village": elder.village.name,
        "village_group": elder.village_group,
        "name": elder.name,
        "sex": elder.sex,
        "id_number": mask_id_number(elder.id_number) if masked else elder.id_number,
        # The masked ID's hidden middle is the birth date: the masked ledger carries the year only.
        "birth_date": f"{elder.birth_date.year}年" if masked else elder.birth_date,
        "ethnicity": elder.ethnicity,
        "phones": [phone(p) for p in elder.phones],
        "address": elder.address,
        "living": elder.living or None,
        "health": elder.health or None,
        "self_care": elder.self_care or None,
        "diseases": elder.diseases,
        "income_sources": list(elder.income_sources),
        "monthly_income": elder.monthly_income,
        "dibao": elder.dibao,
        "tekun": elder.tekun,
        "poverty_monitored": elder.poverty_monitored,
        "family_doctor": elder.family_doctor,
        "difficulties": list(elder.difficulties),
        "needs": elder.needs,
        "guardians": [{"name": link.guardian.name, "relation": link.relation,
                       "phone": phone(link.guardian.phone) if link.guardian.phone else "",
                       "whereabouts": link.guardian.whereabouts} for link in elder.ledger_guardians[:2]],
        "agreement": agreement is not None,
        "agreement_caregiver": agreement.caregiver_name if agreement else "",
        "agreement_phone": (phone(agreement.caregiver_phone) if agreement and agreement.caregiver_phone else ""),
        "cadre": elder.cadre,
        "surveyed_by": elder.surveyed_by,
        "surveyed_on": elder.surveyed_on,
        "notes": elder.notes,
    }


# Columns after the census layout: the register's own facts the survey does not ask (the census
# import reads the survey's columns and passes over these, so the ledger still imports back).
REGISTER_COLUMNS = ["状态", "入住养老机构", "入住日期"]


def register_values(elder) -> list[str]:
    """The REGISTER_COLUMNS cells of one elder (the home and date only for 入住养老机构)."""
    home = elder.care_home.name if elder.care_home_id else ""
    moved_in = elder.moved_in_on.isoformat() if elder.moved_in_on else ""
    return [str(elder.get_status_display()), safe_cell_text(home), moved_in]


def ledger_sheet(queryset, *, masked: bool) -> Sheet:
    """The ledger as one sheet for `eldercare.spreadsheets.xlsx_response`, read in chunks."""
    rows = ([*format_row(ledger_values(elder, masked=masked)), *register_values(elder)]
            for elder in ledger_queryset(queryset).iterator(chunk_size=2000))
    return Sheet(SHEET_TITLE, [column.title for column in CENSUS_COLUMNS] + REGISTER_COLUMNS, rows)


def export_response(model_admin, request):
    """The admin's 导出台账 view: the changelist exactly as filtered and searched, as .xlsx."""
    user = request.user
    if not has_role(user, EXPORT_ROLES) or not model_admin.has_view_permission(request):
        raise Http404
    masked = export_masks(user)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    with replica_reads():  # a county's whole register: the replica's load, not the primary's
        queryset = model_admin.get_changelist_instance(request).get_queryset(request)
        sheet = ledger_sheet(queryset, masked=masked)
        response = xlsx_response(f"ledger-{stamp}.xlsx", [sheet])
    filters = {key: value for key, value in request.GET.items()}
    record_access(user=user, kind="export", area_code=user.jurisdiction or "",
                  detail={"what": "registry.elder.ledger", "filters": filters, "rows": sheet.count, "masked": masked})
    return response
