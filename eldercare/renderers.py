"""The form renderer: Django's, with the `<input>` widgets written out in Python.

Django renders every input, and every radio button and checkbox of a choice field, through two
or three templates (text.html → input.html → attrs.html; radio_option.html → input_option.html →
input.html → attrs.html). The phone visit form has some forty radio buttons, and those template
renders were a large share of the page's server time. `FormRenderer` produces the very same HTML
as those templates (tests/eldercare/test_renderers.py compares the two on every input widget)
and leaves every other template (select, textarea, file, admin widgets …) to Django.
"""

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeData, mark_safe

_CONTEXT = Context()  # what a widget template renders in: autoescape on, default l10n and time zone


def _out(value) -> str:
    """`{{ value }}` in a template."""
    return render_value_in_context(value, _CONTEXT)


def _out_s(value) -> str:
    """`{{ value|stringformat:'s' }}` in a template (the filter keeps a safe string safe)."""
    text = str(value)
    return _out(mark_safe(text) if isinstance(value, SafeData) else text)


# Templates that are exactly django/forms/widgets/input.html (they include it and nothing else).
INPUT_TEMPLATES = {
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "email", "url", "tel", "search", "color", "date", "datetime", "time",
                 "hidden", "checkbox")
}
# Templates that are exactly django/forms/widgets/input_option.html.
OPTION_TEMPLATES = {f"django/forms/widgets/{name}.html" for name in ("input_option", "radio_option", "checkbox_option")}


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_out(name)}" + ("" if value is True else f'="{_out_s(value)}"')
        for name, value in attrs.items() if value is not False
    )


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (the template file ends with a newline)."""
    value = "" if widget["value"] is None else f' value="{_out_s(widget["value"])}"'
    return f'<input type="{_out(widget["type"])}" name="{_out(widget["name"])}"{value}{_attrs(widget["attrs"])}>\n'


def _option(widget: dict) -> str:
    """django/forms/widgets/input_option.html."""
    if not widget.get("wrap_label"):
        return _input(widget)
    label_for = f' for="{_out(widget["attrs"]["id"])}"' if widget["attrs"].get("id") else ""
    return f"<label{label_for}>{_input(widget)} {_out(widget['label'])}</label>"


class FormRenderer(DjangoTemplates):
    """Django's default renderer; inputs and radio/checkbox options rendered without templates."""

    def render(self, template_name, context, request=None):
        if template_name in INPUT_TEMPLATES:
            return _input(context["widget"]).strip()
        if template_name in OPTION_TEMPLATES:
            return _option(context["widget"]).strip()
        return super().render(template_name, context, request)
