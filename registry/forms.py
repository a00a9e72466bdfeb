"""Forms of the register: plain-Chinese errors that name the field and the fix."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.choices import AreaLevel
from eldercare.idnumbers import IDNumberError, parse_id_number
from eldercare.models import Area
from registry.choices import (
    ETHNICITIES,
    ContactEventKind,
    DutyFulfilment,
    ElderDifficulty,
    ElderIncomeSource,
    ElderStatus,
    GuardianDuty,
    GuardianRelation,
    SupervisionMethod,
    SupervisionResult,
)
from registry.models import CareAgreement, CareHome, Elder, Guardian
from registry.services import id_number_taken

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# Magic bytes of the accepted scanned-document types, keyed by the extensions allowed for them.
DOCUMENT_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PhoneInput(forms.TextInput):
    """A phone box: the phone's number pad instead of the full keyboard."""

    input_type = "tel"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "tel", "autocomplete": "off", **(attrs or {})})


class PhonesField(forms.CharField):
    """Phone numbers typed in one box, separated by spaces, commas (the number pad has both) or 、."""

    widget = PhoneInput

    def prepare_value(self, value):
        if isinstance(value, list):
            return "、".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        for sep in ",，;；/ ":
            text = text.replace(sep, "、")
        phones = [p.strip() for p in text.split("、") if p.strip()]
        for phone in phones:
            digits = phone.replace("-", "")
            if not digits.isdigit() or not 7 <= len(digits) <= 12:
                raise forms.ValidationError(_("电话号码“%(phone)s”不对：手机填 11 位数字，固定电话带区号，多个号码用顿号分隔。"),
                                            params={"phone": phone})
        return phones


class IdNumberCheckMixin:
    """The ID number check of the elder forms: valid, and not registered yet (saying where only
    when the user may see that elder)."""

    def clean_id_number(self):
        try:
            number = parse_id_number(self.cleaned_data["id_number"], today=timezone.localdate()).number
        except IDNumberError as error:
            raise forms.ValidationError(str(error)) from None
        taken = id_number_taken(number, exclude_pk=self.instance.pk, acting_user=self.user)
        if taken is not None:
            raise taken
        return number

    def _post_clean(self):
        had_id_error = "id_number" in self._errors
        super()._post_clean()
        if had_id_error:
            # Elder.clean() re-checks the (now empty) number; the field's own message says it all.
            del self._errors["id_number"][1:]

    def _get_validation_exclusions(self):
        # clean_id_number (and save_elder, when another session wins the race) already said
        # whether the number exists, without leaking where; the model's unique constraint on it
        # would say it again, in Django's words.
        exclude = super()._get_validation_exclusions()
        exclude.add("id_number")
        return exclude


class ElderForm(IdNumberCheckMixin, forms.ModelForm):
    """Register or edit an elder; the ID number is checked and must not exist yet.

    Editing leaves the ID number out: the page shows it masked, and changing it is a step of its
    own (ElderIdNumberForm), recorded in the access log.
    """

    phones = PhonesField(label=_("联系电话"), required=False, help_text=_("多个号码用空格或逗号分隔"))
    income_sources = forms.MultipleChoiceField(label=_("经济来源"), choices=ElderIncomeSource.choices, required=False,
                                               widget=forms.CheckboxSelectMultiple)
    difficulties = forms.MultipleChoiceField(label=_("主要困难"), choices=ElderDifficulty.choices, required=False,
                                             widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Elder
        fields = ["village", "village_group", "name", "id_number", "ethnicity", "phones", "address", "living",
                  "health", "self_care", "diseases", "income_sources", "monthly_income", "dibao", "tekun",
                  "poverty_monitored", "difficulties", "needs", "family_doctor", "cadre", "surveyed_by",
                  "surveyed_on", "notes"]
        widgets = {"surveyed_on": DateInput(),
                   "monthly_income": forms.NumberInput(attrs={"inputmode": "decimal", "step": "1"})}

    # The form in sections (the page shows the first open, the others folded unless they hold an
    # error): on a phone one column of 22 fields is 2,600 px long.
    sections = [
        (_("基本信息"), ["village", "village_group", "name", "id_number", "ethnicity", "phones", "address"]),
        (_("居住与健康"), ["living", "health", "self_care", "diseases", "family_doctor"]),
        (_("经济状况"), ["income_sources", "monthly_income", "dibao", "tekun", "poverty_monitored"]),
        (_("困难与需求"), ["difficulties", "needs"]),
        (_("调查信息"), ["cadre", "surveyed_by", "surveyed_on", "notes"]),
    ]

    def fieldsets(self):
        """(title, bound fields, open) per section: the first open, any other holding an error too."""
        sections = [(title, [name for name in names if name in self.fields]) for title, names in self.sections]
        return [(title, [self[name] for name in names], n == 0 or any(self[name].errors for name in names))
                for n, (title, names) in enumerate(sections)]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # 民族 from the census template's list (GB 3304); a name an import kept as written stays
        # selectable on this elder, so saving the form never changes it silently.
        # (The admin builds this form with fewer fields: read-only ones, or none for a view-only user.)
        current = self.instance.ethnicity if self.instance.pk else ""
        names = list(ETHNICITIES) + ([current] if current and current not in ETHNICITIES else [])
        if "ethnicity" in self.fields:
            self.fields["ethnicity"] = forms.ChoiceField(label=_("民族"), required=False,
                                                         choices=[("", "---------"), *((n, n) for n in names)])
        if "village" in self.fields:
            villages = Area.objects.for_user(user).filter(level=AreaLevel.VILLAGE).order_by("code")
            self.fields["village"].queryset = villages
            self.fields["village"].empty_label = None if villages.count() == 1 else "---------"
        if self.instance.pk:
            self.fields.pop("id_number", None)  # shown masked; changed only through 修改身份证号
        elif "id_number" in self.fields:
            id_number_widget(self.fields["id_number"])


def id_number_widget(field):
    field.help_text = _("18 位，最后一位可以是 X；15 位老号码会自动转换")
    field.widget.attrs.update(autocomplete="off", inputmode="text")


class ElderIdNumberForm(IdNumberCheckMixin, forms.ModelForm):
    """修改身份证号: the corrected number typed in full (the old one is never shown) and why."""

    reason = forms.CharField(label=_("修改原因"), max_length=200,
                             help_text=_("例如：登记时录错一位，已对照身份证原件更正"))

    class Meta:
        model = Elder
        fields = ["id_number"]
        labels = {"id_number": _("新的身份证号")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.initial["id_number"] = ""  # the current number is not put in the page
        id_number_widget(self.fields["id_number"])


CARE_HOME_NOT_OFFERED = _("所选养老机构不在您辖区可选的养老机构中（或已停办），请从列表中选择。")


class StatusChangeForm(forms.Form):
    """变更状态; 入住养老机构 also names the home (one within reach), and the date is the move-in
    date. The rules are registry.services.change_status's (the admin's status change calls it too)."""

    to_status = forms.ChoiceField(label=_("新状态"), choices=ElderStatus.choices)
    care_home = forms.ModelChoiceField(
        label=_("入住的养老机构"), queryset=CareHome.objects.none(), required=False,
        empty_label=_("（不是入住养老机构，不用选）"),
        help_text=_("新状态为“入住养老机构”时必选；变更日期就是入住日期。列表里没有的机构请乡镇民政办在后台登记。"),
        error_messages={"invalid_choice": CARE_HOME_NOT_OFFERED})
    changed_on = forms.DateField(label=_("变更日期（入住日期）"), widget=DateInput(), initial=timezone.localdate,
                                 error_messages={"required": _("请填写变更日期。"),
                                                 "invalid": _("日期格式不对，请用日期选择器重新选择。")})
    reason = forms.CharField(label=_("原因"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("请填写状态变更的原因。")})

    def __init__(self, *args, elder, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["care_home"].queryset = CareHome.objects.for_user(user).active().select_related("area")
        self.fields["care_home"].label_from_instance = lambda home: f"{home.name}（{home.area.name}）"


class GuardianLinkForm(forms.Form):
    """Link an already registered guardian, or register a new one, to an elder."""

    existing = forms.ModelChoiceField(label=_("已登记的赡养人"), queryset=Guardian.objects.none(), required=False,
                                      help_text=_("同一位子女赡养父母二人时，选择已登记的人，不要重复登记"))
    name = forms.CharField(label=_("新赡养人姓名"), max_length=30, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False, widget=PhoneInput)
    id_number = forms.CharField(label=_("身份证号（可不填）"), max_length=20, required=False)
    whereabouts = forms.CharField(label=_("务工地/居住地"), max_length=100, required=False)
    relation = forms.ChoiceField(label=_("与老人关系"), choices=GuardianRelation.choices)
    is_primary = forms.BooleanField(label=_("主要赡养人"), required=False)

    def __init__(self, *args, elder, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["existing"].queryset = (Guardian.objects.for_user(user).filter(village_id=elder.village_id)
                                            .exclude(elder_links__elder=elder))

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        if not raw:
            return ""
        try:
            return parse_id_number(raw, today=timezone.localdate()).number
        except IDNumberError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("existing") and not cleaned.get("name"):
            self.add_error("name", _("请选择已登记的赡养人，或填写新赡养人的姓名。"))
        return cleaned


class ElderGuardianChoiceMixin:
    """A `guardian` field offering only the elder's own guardians."""

    def limit_guardians(self, elder, required=True):
        field = self.fields["guardian"]
        field.queryset = Guardian.objects.filter(elder_links__elder=elder).order_by("name")
        field.required = required


class ContactEventForm(ElderGuardianChoiceMixin, forms.Form):
    guardian = forms.ModelChoiceField(label=_("赡养人"), queryset=Guardian.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("方式"), choices=ContactEventKind.choices)
    occurred_on = forms.DateField(label=_("日期"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_guardians(elder, required=False)


class DutyObservationForm(ElderGuardianChoiceMixin, forms.Form):
    guardian = forms.ModelChoiceField(label=_("赡养人"), queryset=Guardian.objects.none())
    duty = forms.ChoiceField(label=_("义务"), choices=GuardianDuty.choices)
    fulfilment = forms.ChoiceField(label=_("履行情况"), choices=DutyFulfilment.choices)
    observed_on = forms.DateField(label=_("观察日期"), widget=DateInput(), initial=timezone.localdate)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_guardians(elder)


class SupervisionForm(ElderGuardianChoiceMixin, forms.Form):
    guardian = forms.ModelChoiceField(label=_("赡养人"), queryset=Guardian.objects.none())
    supervised_on = forms.DateField(label=_("督促日期"), widget=DateInput(), initial=timezone.localdate)
    method = forms.ChoiceField(label=_("督促方式"), choices=SupervisionMethod.choices)
    guardian_response = forms.CharField(label=_("赡养人表态"), max_length=500, required=False,
                                        widget=forms.Textarea(attrs={"rows": 3}))
    result = forms.ChoiceField(label=_("结果"), choices=SupervisionResult.choices)

    def __init__(self, *args, elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_guardians(elder)


def sniff_document_type(upload) -> str | None:
    """The document type its first bytes prove (pdf/jpg/png), or None."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind, signatures in DOCUMENT_SIGNATURES.items():
        if any(head.startswith(sig) for sig in signatures):
            return kind
    return None


class CareAgreementForm(ElderGuardianChoiceMixin, forms.ModelForm):
    """An entrusted-care agreement; the scan must really be a PDF, JPG or PNG of at most 5 MB."""

    class Meta:
        model = CareAgreement
        fields = ["guardian", "caregiver_name", "caregiver_relation", "caregiver_phone", "start_date", "end_date",
                  "filed_on", "document"]
        widgets = {"start_date": DateInput(), "end_date": DateInput(), "filed_on": DateInput(),
                   "caregiver_phone": PhoneInput()}

    def __init__(self, *args, elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_guardians(elder, required=False)
        self.fields["document"].help_text = _("PDF、JPG 或 PNG，不超过 5 MB")
        self.fields["document"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

    def clean_document(self):
        upload = self.cleaned_data.get("document")
        if not upload or not hasattr(upload, "content_type"):
            return upload
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(_("协议扫描件太大（%(size).1f MB），请压缩到 5 MB 以内再上传。"),
                                        params={"size": upload.size / 1024 / 1024})
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        sniffed = sniff_document_type(upload)
        if sniffed is None or extension not in DOCUMENT_SIGNATURES or \
                DOCUMENT_SIGNATURES[extension] != DOCUMENT_SIGNATURES[sniffed]:
            raise forms.ValidationError(_("协议扫描件只能是 PDF、JPG 或 PNG 文件，请用手机拍照或扫描后重新上传。"))
        return upload
