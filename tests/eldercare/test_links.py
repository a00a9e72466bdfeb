"""The pk_url filter writes the same links as {% url %}."""

import pytest
from django.template import engines
from django.urls import clear_script_prefix, reverse, set_script_prefix


@pytest.mark.parametrize("name", ["visits:record", "visits:elder_visits", "registry:elder", "relief:case_detail"])
@pytest.mark.parametrize("pk", [1, 42, 123456789])
def test_same_link_as_the_url_tag(name, pk):
    render = engines["django"].from_string
    ours = render("{% load links %}{{ pk|pk_url:name }}").render({"pk": pk, "name": name})
    assert ours == render("{% url name pk %}").render({"pk": pk, "name": name}) == reverse(name, args=[pk])


def test_follows_the_script_prefix():
    set_script_prefix("/eldercare/")
    try:
        link = engines["django"].from_string("{% load links %}{{ 7|pk_url:'registry:elder' }}").render({})
        assert link == "/eldercare/registry/elders/7/"
    finally:
        clear_script_prefix()
