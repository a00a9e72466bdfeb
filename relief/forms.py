"""Forms of the relief pages. They only collect input; relief.services makes the changes."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from eldercare.models import Department
from registry.choices import ElderRiskLevel
from registry.models import Elder
from relief.choices import ReliefCaseType, ReliefCaseUrgency


class ElderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        group = f" · {obj.village_group}" if obj.village_group else ""
        return f"{obj.name}（{obj.age} 岁{group}）"


class ReportForm(forms.Form):
    """Report a special situation (phone-first: few fields, big choices)."""

    elder = ElderChoiceField(label=_("老人"), queryset=Elder.objects.none(),
                             error_messages={"required": _("请选择是哪位老人。"),
                                             "invalid_choice": _("请从列表中选择老人。")})
    case_type = forms.ChoiceField(label=_("情况类型"), choices=ReliefCaseType.choices,
                                  error_messages={"required": _("请选择情况类型。")})
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=ReliefCaseUrgency.choices, widget=forms.RadioSelect,
                                initial=ReliefCaseUrgency.NORMAL,
                                error_messages={"required": _("请选择紧急程度：紧急或一般。")})
    narrative = forms.CharField(label=_("情况说明"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000,
                                help_text=_("发生了什么、什么时候、老人现在在哪里、已经采取了什么措施。"),
                                error_messages={"required": _("请填写情况说明：发生了什么、老人现在怎么样。")})
    # The one-time key: the same report sent twice (a retry, the phone's outbox) is one case.
    # Optional, so a form posted without it still reports (without the protection).
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, elders=None, fixed_elder=None, fixed_type=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("submission_key", uuid.uuid4())
        if fixed_elder is not None:
            # Raised from a visit or a supervision record: the elder is the record's, not a choice.
            del self.fields["elder"]
            self.fixed_elder = fixed_elder
        else:
            self.fields["elder"].queryset = elders
        if fixed_type is not None:
            self.fields["case_type"].choices = [(fixed_type, ReliefCaseType(fixed_type).label)]
            self.fields["case_type"].initial = fixed_type
        else:
            self.fields["case_type"].choices = [("", _("请选择…")), *ReliefCaseType.choices]


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明（可不填）"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("退回理由"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("请填写退回理由：需要村里补充什么。")})


class ResubmitForm(forms.Form):
    supplement = forms.CharField(label=_("补充说明"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                                 error_messages={"required": _("请填写补充说明：按退回理由补充情况。")})


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("办理结果"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": _("请填写办理结果：做了什么、老人现在怎么样。")})


class ReferForm(forms.Form):
    departments = forms.ModelMultipleChoiceField(
        label=_("转办部门"), queryset=Department.objects.none(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个转办部门。")})
    note = forms.CharField(label=_("转办说明（可不填）"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = departments if departments is not None else Department.objects.none()


class AssessmentForm(forms.Form):
    level = forms.ChoiceField(label=_("确认风险等级"), choices=ElderRiskLevel.choices, widget=forms.RadioSelect,
                              error_messages={"required": _("请选择风险等级。")})
    adjusted_reason = forms.CharField(label=_("调整理由"), required=False, max_length=300,
                                      widget=forms.Textarea(attrs={"rows": 2}),
                                      help_text=_("确认等级与系统建议不同时必填。"))
