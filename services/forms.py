"""Forms of the services pages; choices always come from the user's scoped querysets."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import Elder
from services.models import HealthCheck, Provider, ServiceItem, Volunteer


class DateInput(forms.DateInput):
    """A native date picker; its value must be ISO (the zh-hans input format 2026/11/29 is not)."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs, format)


class GroupServiceForm(forms.Form):
    """Quick entry for a group activity: one item, one date, the attending elders ticked."""

    item = forms.ModelChoiceField(label=_("服务项目"), queryset=ServiceItem.objects.none(),
                                  error_messages={"required": _("请选择服务项目。")})
    served_on = forms.DateField(label=_("服务日期"), widget=DateInput, initial=timezone.localdate,
                                error_messages={"required": _("请填写服务日期。"), "invalid": _("服务日期格式不对，请选择日期。")})
    duration_minutes = forms.IntegerField(label=_("服务时长(分钟)"), min_value=1, max_value=1440, initial=60,
                                          error_messages={"min_value": _("服务时长至少 1 分钟。"),
                                                          "max_value": _("服务时长不能超过 1440 分钟(一天)。")})
    provider = forms.ModelChoiceField(label=_("服务提供方"), queryset=Provider.objects.none(), required=False)
    volunteer = forms.ModelChoiceField(label=_("志愿者"), queryset=Volunteer.objects.none(), required=False)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)
    elders = forms.ModelMultipleChoiceField(label=_("参加的老人"), queryset=Elder.objects.none(),
                                            widget=forms.CheckboxSelectMultiple,
                                            error_messages={"required": _("请至少勾选一位参加的老人。")})

    def __init__(self, *args, user, elders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = ServiceItem.objects.for_user(user).published()
        self.fields["provider"].queryset = Provider.objects.for_user(user).active()
        self.fields["volunteer"].queryset = Volunteer.objects.for_user(user).filter(active=True)
        self.fields["elders"].queryset = elders

    def clean_served_on(self):
        day = self.cleaned_data["served_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("服务日期不能晚于今天。"))
        return day


class HealthCheckForm(forms.ModelForm):
    """The four parts of the annual check; plausibility is checked by HealthCheck.clean()."""

    class Meta:
        model = HealthCheck
        fields = ["checked_on", "clinic_name", "lifestyle_assessment", "systolic", "diastolic", "glucose",
                  "height_cm", "weight_kg", "auxiliary_exams", "guidance", "summary", "follow_up_needed"]
        widgets = {
            "checked_on": DateInput,
            "lifestyle_assessment": forms.Textarea(attrs={"rows": 3}),
            "auxiliary_exams": forms.Textarea(attrs={"rows": 2}),
            "guidance": forms.Textarea(attrs={"rows": 2}),
            "systolic": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "diastolic": forms.NumberInput(attrs={"inputmode": "numeric"}),
            "glucose": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
            "height_cm": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
            "weight_kg": forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
        }


class AssignRequestForm(forms.Form):
    """Match a service request to a catalogue item the elder is eligible for, and a provider of it."""

    item = forms.ModelChoiceField(label=_("服务项目(老人符合条件的)"), queryset=ServiceItem.objects.none(),
                                  error_messages={"required": _("请选择服务项目。")})
    provider = forms.ModelChoiceField(label=_("服务提供方"), queryset=Provider.objects.none(),
                                      error_messages={"required": _("请选择服务提供方。")})

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = ServiceItem.objects.filter(pk__in=[i.pk for i in items])
        self.fields["provider"].queryset = Provider.objects.filter(items__in=[i.pk for i in items], active=True).distinct()


class CloseRequestForm(forms.Form):
    served_on = forms.DateField(label=_("服务日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    duration_minutes = forms.IntegerField(label=_("服务时长(分钟)"), min_value=1, max_value=1440, initial=60,
                                          widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    note = forms.CharField(label=_("服务情况"), max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["served_on"].initial = timezone.localdate()


class DeclineRequestForm(forms.Form):
    reason = forms.CharField(label=_("不予服务的原因"), max_length=300,
                             error_messages={"required": _("请写明不予服务的原因。")})
