"""Forms of the field pages: the phone-first visit form, the policy, the reassignment."""

import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eldercare.choices import UserRole
from eldercare.models import User
from registry.choices import DutyFulfilment, GuardianDuty, SupervisionMethod, SupervisionResult
from registry.models import Guardian
from visits.choices import FamilyNoticeMethod
from visits.models import CHECKLIST, Visit, VisitPolicy
from visits.services import validate_visited_at

PHOTO_MAX_BYTES = 15 * 1024 * 1024
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class VisitForm(forms.ModelForm):
    """One visit. Defaults make the common case (a phone call, all well) a few taps:
    method 电话, time now, every checklist item 正常, outcome 正常."""

    visited_at = forms.DateTimeField(
        label=_("巡访时间"), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"required": _("请填写巡访时间。"), "invalid": _("巡访时间格式不对，请用日期时间选择器重新选择。")},
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    duty_guardian = forms.ModelChoiceField(label=_("赡养人"), queryset=None, required=False,
                                           empty_label=_("（不记录）"))
    # 通知子女: who was told, how and what was asked (a FamilyNotice; visits.services.notify_family)
    notice_guardian = forms.ModelChoiceField(label=_("通知了哪位赡养人"), queryset=None, required=False,
                                             empty_label=_("（未登记的家人）"))
    notice_method = forms.ChoiceField(label=_("通知方式"), choices=FamilyNoticeMethod.choices,
                                      initial=FamilyNoticeMethod.PHONE, required=False, widget=forms.RadioSelect)
    notice_asked = forms.CharField(label=_("请子女做什么"), max_length=300, required=False,
                                   widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text=_("不填则按巡访发现的问题写“请子女予以照顾”。"))

    class Meta:
        model = Visit
        fields = ["visited_at", "method", "met_with", *[name for name, _label in CHECKLIST], "checklist_note",
                  "outcome", "needs_raised", "notes", "photo", "notify_family", "report_to_town", "request_service"]
        widgets = {
            "method": forms.RadioSelect,
            "outcome": forms.RadioSelect,
            **{name: forms.RadioSelect for name, _label in CHECKLIST},
            "needs_raised": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
            "photo": forms.ClearableFileInput(attrs={"accept": "image/*"}),
        }

    def __init__(self, *args, elder, with_key=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.elder = elder
        if not with_key:
            del self.fields["submission_key"]
        elif not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        if not self.instance.pk:
            self.initial.setdefault("visited_at", timezone.localtime().replace(second=0, microsecond=0))
        for name in ("method", "outcome", *[n for n, _label in CHECKLIST]):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0] != ""]
        # Guardian duties are observed when a visit is first recorded, not when it is corrected.
        elder_guardians = Guardian.objects.filter(elder_links__elder=elder)
        guardians = elder_guardians if with_key else Guardian.objects.none()
        self.fields["duty_guardian"].queryset = guardians
        self.fields["duty_guardian"].label_from_instance = lambda g: g.name
        # Who was told and how: when recording, and when correcting a visit whose family was not
        # yet notified (ticking 通知子女 then makes the notice, visits.services.update_visit).
        if with_key or not self.instance.family_notices.exists():
            self.fields["notice_guardian"].queryset = elder_guardians
            self.fields["notice_guardian"].label_from_instance = lambda g: g.name
        else:  # the notice already made is followed up on its own page
            for name in ("notice_guardian", "notice_method", "notice_asked"):
                del self.fields[name]
        self.duty_fields = []
        for duty in GuardianDuty:
            name = f"duty_{duty.value}"
            self.fields[name] = forms.ChoiceField(
                label=duty.label, required=False,
                choices=[("", _("未了解")), *DutyFulfilment.choices], widget=forms.RadioSelect)
            self.duty_fields.append(name)
        if not with_key or not guardians.exists():
            for name in ("duty_guardian", *self.duty_fields):
                del self.fields[name]
            self.duty_fields = []

    @property
    def checklist_fields(self):
        return [self[name] for name, _label in CHECKLIST]

    def clean_visited_at(self):
        value = self.cleaned_data["visited_at"]
        if self.instance.pk and value == self.instance.visited_at:
            return value
        try:
            validate_visited_at(value)
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["visited_at"]) from None
        return value

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and getattr(photo, "size", 0) > PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("照片太大（超过 15 MB），请重新拍一张或选小一点的图片。"))
        return photo

    def clean(self):
        cleaned = super().clean()
        if self.duty_fields and any(cleaned.get(n) for n in self.duty_fields) and not cleaned.get("duty_guardian"):
            self.add_error("duty_guardian", _("记录赡养义务履行情况时，请选择是哪一位赡养人。"))
        return cleaned

    def duties(self):
        """(guardian, duty, fulfilment) for each duty observed at the visit."""
        guardian = self.cleaned_data.get("duty_guardian")
        if guardian is None:
            return []
        return [(guardian, name.removeprefix("duty_"), self.cleaned_data[name])
                for name in self.duty_fields if self.cleaned_data.get(name)]

    def family_notice(self):
        """Who was told, how and what was asked, for notify_family (when 通知子女 is ticked)."""
        if not self.cleaned_data.get("notify_family") or "notice_method" not in self.fields:
            return None
        return {"guardian": self.cleaned_data.get("notice_guardian"),
                "method": self.cleaned_data.get("notice_method") or FamilyNoticeMethod.PHONE,
                "asked": self.cleaned_data.get("notice_asked", "")}

    def visit_fields(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class FamilyResponseForm(forms.Form):
    response = forms.CharField(label=_("子女答复"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                               error_messages={"required": _("请填写子女的答复：谁回复的、答应做什么。")})
    responded_on = forms.DateField(label=_("答复日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responded_on"].initial = timezone.localdate()


class FamilyEscalationForm(forms.Form):
    """督促: the family did not answer or refused (a registry supervision record)."""

    guardian = forms.ModelChoiceField(label=_("督促的赡养人"), queryset=None,
                                      error_messages={"required": _("请选择督促的是哪一位赡养人。")})
    method = forms.ChoiceField(label=_("督促方式"), choices=SupervisionMethod.choices, widget=forms.RadioSelect)
    result = forms.ChoiceField(label=_("督促结果"), choices=SupervisionResult.choices, widget=forms.RadioSelect,
                               help_text=_("选“拒不履行”后，接着上报乡镇(赡养人不履行义务)。"))
    guardian_response = forms.CharField(label=_("赡养人表态"), max_length=500, required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = Guardian.objects.filter(elder_links__elder=elder)
        self.fields["guardian"].label_from_instance = lambda g: g.name


class VisitPolicyForm(forms.ModelForm):
    class Meta:
        model = VisitPolicy
        fields = ["high_days", "medium_days", "low_days", "key_target_max_days", "home_visit_days", "urgent_hours",
                  "family_followup_days"]
        widgets = {name: forms.NumberInput(attrs={"inputmode": "numeric"}) for name in fields}


class ReassignForm(forms.Form):
    """Choose elders of one village and a village worker of that same village."""

    elders = forms.ModelMultipleChoiceField(label=_("老人"), queryset=None, widget=forms.CheckboxSelectMultiple,
                                            error_messages={"required": _("请至少勾选一位老人。"),
                                                            "invalid_choice": _("勾选的老人不在这个村，请刷新页面后重新勾选。")})
    worker = forms.ModelChoiceField(label=_("巡访责任人"), queryset=None,
                                    error_messages={"required": _("请选择巡访责任人。"),
                                                    "invalid_choice": _("巡访责任人必须是本村(居)委会的工作人员，请重新选择。")})

    def __init__(self, *args, elders, village, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["elders"].queryset = elders
        self.fields["elders"].label_from_instance = lambda e: e.name
        self.fields["worker"].queryset = User.objects.for_user(user).filter(
            role=UserRole.VILLAGE, area=village, is_active=True).order_by("real_name", "username")
