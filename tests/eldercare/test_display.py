"""get_FOO_display() of the project's models says what Django's own method says, in every language."""

from functools import partialmethod

import pytest
from django.apps import apps
from django.db import models
from django.utils import translation

from eldercare import display


def choice_fields():
    for config in apps.get_app_configs():
        if "site-packages" not in config.path:
            for model in config.get_models():
                for field in model._meta.get_fields():
                    method = model.__dict__.get(f"get_{getattr(field, 'name', '')}_display")
                    if isinstance(method, partialmethod) and method.func is display._get_field_display:
                        yield model, field


def test_the_models_of_every_app_use_the_cached_labels():
    patched = {(model._meta.label, field.name) for model, field in choice_fields()}
    assert {("relief.ReliefCase", "status"), ("relief.ReliefCase", "case_type"), ("visits.Visit", "outcome"),
            ("registry.Elder", "living"), ("eldercare.User", "role")} <= patched


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_same_labels_as_django(language):
    with translation.override(language):
        for model, field in choice_fields():
            for value in [*(v for v, _label in field.flatchoices), "no-such-value", None]:
                obj = model(**{field.attname: value})
                ours = getattr(obj, f"get_{field.name}_display")()
                assert ours == models.Model._get_FIELD_display(obj, field), (model, field.name, value)
                assert type(ours) is type(models.Model._get_FIELD_display(obj, field))
