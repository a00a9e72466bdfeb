"""The form renderer writes the same HTML as Django's widget templates, for every input widget."""

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from eldercare.renderers import FormRenderer

CHOICES = [("", "未了解"), ("a&b", "甲 <乙>"), (3, gettext_lazy("一般")), ("x\"y", mark_safe("<b>粗</b>"))]


class EveryInput(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"class": "a b", "data-x": 'q"<>&', "autofocus": True,
                                                         "hidden": False, "maxlength": 5}))
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    decimal = forms.DecimalField(localize=True)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    when = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    time = forms.TimeField(required=False)
    hidden = forms.UUIDField(widget=forms.HiddenInput)
    agree = forms.BooleanField(required=False)
    color = forms.CharField(widget=forms.TextInput(attrs={"type": "color"}), required=False)
    radio = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(choices=CHOICES, widget=forms.CheckboxSelectMultiple, required=False)
    plain_radio = forms.ChoiceField(choices=CHOICES, widget=forms.RadioSelect(attrs={"id": None}), required=False)
    select = forms.ChoiceField(choices=CHOICES)
    notes = forms.CharField(widget=forms.Textarea, required=False)


INITIAL = {"text": "<王> & '李'", "number": 12, "decimal": "1234.5", "email": "a@b.cn", "date": datetime.date(2026, 1, 2),
           "when": datetime.datetime(2026, 1, 2, 3, 4), "hidden": "0a1b2c3d-0000-4000-8000-000000000000",
           "agree": True, "radio": "a&b", "boxes": ["a&b", 3], "select": "x\"y", "notes": "<p>"}
BOUND = {**{k: str(v) for k, v in INITIAL.items() if not isinstance(v, list)}, "boxes": ["a&b", "3"], "radio": "3",
         "text": mark_safe("<i>safe</i>"), "agree": "on"}


@pytest.mark.parametrize("form_kwargs", [{}, {"initial": INITIAL}, {"data": BOUND}, {"data": {}},
                                         {"prefix": "p", "auto_id": "f_%s"}, {"auto_id": False}])
def test_same_html_as_djangos_templates(form_kwargs):
    stock, fast = (EveryInput(renderer=renderer, **form_kwargs) for renderer in (DjangoTemplates(), FormRenderer()))
    for name in stock.fields:
        assert str(fast[name]) == str(stock[name]), name
        for ours, theirs in zip(fast[name], stock[name], strict=True):  # radios and checkboxes one by one
            assert ours.tag() == theirs.tag(), name
            assert str(ours) == str(theirs), name  # wrapped in its <label>
    assert fast.as_div() == stock.as_div()
