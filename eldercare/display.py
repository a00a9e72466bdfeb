"""`get_FOO_display()` from a table built once per field and language.

Django's `Model._get_FIELD_display` rebuilds a dict of every choice on each call, and building
it hashes every label — a lazy translation, so each hash is a gettext call. A list of 150
relief cases showing their type and status paid that 300 times. The project's models get the
same method reading a table made once (`install`, from EldercareConfig.ready); the labels are
the same strings (tests/eldercare/test_display.py compares the two for every choice field).
"""

from functools import partialmethod

from django.apps import apps
from django.db import models
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import get_language

_tables: dict = {}


def _get_field_display(self, field):
    """What Django's Model._get_FIELD_display returns, from a cached table of the labels."""
    key = (field, get_language())
    table = _tables.get(key)
    if table is None:
        table = _tables[key] = {value: force_str(label, strings_only=True)
                                for value, label in dict(make_hashable(field.flatchoices)).items()}
    value = getattr(self, field.attname)
    return table.get(make_hashable(value), force_str(value, strings_only=True))


def install() -> None:
    """Give the project's own models (not those of installed packages) the cached
    get_FOO_display for each field with fixed choices (callable choices may change: Django's
    method stays), unless a model defines its own."""
    for config in apps.get_app_configs():
        if "site-packages" in config.path:
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                if not getattr(field, "choices", None) or isinstance(field.choices, CallableChoiceIterator):
                    continue
                name = f"get_{field.name}_display"
                current = model.__dict__.get(name)
                if isinstance(current, partialmethod) and current.func is models.Model._get_FIELD_display:
                    setattr(model, name, partialmethod(_get_field_display, field=field))
