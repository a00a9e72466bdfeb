"""Care agreements: upload type checks by content, private storage, recorded downloads, alerts."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from eldercare.models import AccessEvent
from registry.models import CareAgreement
from tests.factories import make_elder, make_guardian
from tests.registry.helpers import agreement

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def post_agreement(client, elder, upload, **extra):
    today = timezone.localdate()
    return client.post(reverse("registry:agreement_add", args=[elder.pk]), {
        "caregiver_name": "赵邻居", "caregiver_relation": "邻居", "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=365)).isoformat(), "document": upload, **extra})


@pytest.mark.parametrize(("name", "content", "ok"), [
    ("协议.pdf", PDF, True),
    ("scan.PNG", PNG, True),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, True),
    ("fake.pdf", b"MZ\x90\x00 not a pdf", False),  # extension lies
    ("scan.png", PDF, False),  # content does not match the extension
    ("agreement.docx", b"PK\x03\x04", False),
    ("page.html", b"<html><script>", False),
])
def test_upload_is_checked_by_content(client, world, name, content, ok):
    elder = make_elder(world.village)
    client.force_login(world.users["village"])
    response = post_agreement(client, elder, SimpleUploadedFile(name, content))
    assert (response.status_code == 302) is ok
    assert CareAgreement.objects.exists() is ok
    if not ok:
        assert "PDF、JPG 或 PNG" in response.content.decode()


def test_upload_over_5_mb_is_refused(client, world):
    elder = make_elder(world.village)
    client.force_login(world.users["village"])
    response = post_agreement(client, elder, SimpleUploadedFile("big.pdf", PDF + b"0" * (5 * 1024 * 1024)))
    assert "5 MB" in response.content.decode() and not CareAgreement.objects.exists()


def test_download_is_recorded_and_not_under_media_url(client, world, settings):
    elder = make_elder(world.village)
    client.force_login(world.users["village"])
    post_agreement(client, elder, SimpleUploadedFile("协议.pdf", PDF))
    item = CareAgreement.objects.get()
    response = client.get(reverse("registry:agreement_document", args=[item.pk]))
    assert b"".join(response.streaming_content) == PDF
    assert AccessEvent.objects.get().kind == "download"
    client.force_login(world.users["village2"])
    assert client.get(reverse("registry:agreement_document", args=[item.pk])).status_code == 404
    assert AccessEvent.objects.count() == 1


def test_agreement_guardian_must_be_the_elders(client, world):
    elder = make_elder(world.village)
    stranger = make_guardian(make_elder(world.village, name="别人"), name="外人")
    client.force_login(world.users["village"])
    response = post_agreement(client, elder, "", guardian=stranger.pk)
    assert response.status_code == 200 and not CareAgreement.objects.exists()


def test_alerts_list_disabled_alone_without_valid_agreement_and_expiring_ones(client, world):
    today = timezone.localdate()
    uncovered = make_elder(world.village, name="无协议", self_care="disabled", living="alone")
    covered = make_elder(world.village, name="有协议", self_care="partial", living="alone")
    agreement(covered, today - timedelta(days=300), today + timedelta(days=10), caregiver_name="快到期")
    expired = make_elder(world.village, name="协议过期", self_care="disabled", living="alone")
    agreement(expired, today - timedelta(days=400), today - timedelta(days=1))
    make_elder(world.village, name="能自理", living="alone")
    client.force_login(world.users["village"])
    page = client.get(reverse("registry:alerts")).content.decode()
    assert "无协议" in page and "协议过期" in page and "快到期" in page and "能自理" not in page
    first_section = page.split("30天内到期")[0]
    assert "有协议" not in first_section
    home = client.get(reverse("registry:elders")).content.decode()
    assert '提醒 <span class="badge">3</span>' in home  # 2 uncovered + 1 expiring
    assert uncovered.name in page
