"""Issue 14, hole 8, for real: two sessions in two threads (two database connections) save at the
same moment. Both have passed the form's checks before either writes; the one that loses the
race gets the form again with a plain Chinese message and what it typed, never a 500."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from registry import services
from registry.models import Elder, ElderGuardian, Guardian
from tests.factories import make_elder, make_id_number, make_world

pytestmark = pytest.mark.django_db(transaction=True)


def at_the_same_moment(posts):
    """Run each (client, url, data) in its own thread (the test patches a barrier into the write
    path, so every thread waits there until all have arrived). Returns the responses."""
    responses = [None] * len(posts)

    def run(n, client, url, data):
        try:
            responses[n] = client.post(url, data)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, *post)) for n, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return responses


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_two_sessions_registering_the_same_id_one_saves_the_other_gets_a_form_error(monkeypatch):
    world = make_world()
    number = make_id_number()
    barrier = threading.Barrier(2, timeout=30)
    real = services.id_number_taken

    def checked_together(number, **kwargs):
        taken = real(number, **kwargs)
        if not hasattr(threading.current_thread(), "checked"):
            threading.current_thread().checked = True
            barrier.wait()  # both sessions have found the number free; now both insert
        return taken

    monkeypatch.setattr("registry.services.id_number_taken", checked_together)
    url = reverse("registry:elder_add")
    responses = at_the_same_moment([
        (logged_in(world.users["village"]), url, {"village": world.village.code, "name": "王秀英", "id_number": number}),
        (logged_in(world.users["village2"]), url, {"village": world.village2.code, "name": "李桂兰",
                                                   "id_number": number}),
    ])
    assert sorted(r.status_code for r in responses) == [200, 302]
    loser = next(r for r in responses if r.status_code == 200).content.decode()
    assert "该身份证号已" in loser and ("王秀英" in loser or "李桂兰" in loser)
    assert Elder.objects.filter(id_number=number).count() == 1


def test_two_sessions_adding_a_primary_guardian_take_turns_and_one_stays_primary(monkeypatch):
    world = make_world()
    elder = make_elder(world.village, name="王秀英")
    barrier = threading.Barrier(2, timeout=30)
    real = services._check_reach

    def reached_together(elder, user):
        real(elder, user)
        barrier.wait()  # both sessions are inside the write, neither has locked the elder yet

    monkeypatch.setattr("registry.services._check_reach", reached_together)
    url = reverse("registry:guardian_add", args=[elder.pk])
    responses = at_the_same_moment([
        (logged_in(world.users["village"]), url, {"name": "张建华", "relation": "son", "is_primary": "on"}),
        (logged_in(world.users["town"]), url, {"name": "张小红", "relation": "daughter", "is_primary": "on"}),
    ])
    assert [r.status_code for r in responses] == [302, 302]
    links = list(ElderGuardian.objects.filter(elder=elder).values_list("guardian__name", "is_primary"))
    assert sorted(name for name, _ in links) == ["张小红", "张建华"]
    assert [primary for _, primary in links].count(True) == 1
    assert Guardian.objects.count() == 2
