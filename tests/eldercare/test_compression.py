"""Every text response is compressed (brotli where accepted, else gzip); downloads are not;
the favicon and development static URLs."""

import gzip

import brotli
import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import reverse

from eldercare.compression import CompressionMiddleware

PAGE = ("<html><body>" + "<p>留守老人关爱 巡访记录</p>" * 200 + "</body></html>").encode()


def respond(response, accept):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    return CompressionMiddleware(lambda r: response)(request)


def test_brotli_when_the_browser_accepts_it_else_gzip_else_plain():
    br = respond(HttpResponse(PAGE), "gzip, deflate, br")
    assert br["Content-Encoding"] == "br" and brotli.decompress(br.content) == PAGE
    assert int(br["Content-Length"]) == len(br.content) < len(PAGE) / 5 and "Accept-Encoding" in br["Vary"]
    gz = respond(HttpResponse(PAGE), "gzip")
    assert gz["Content-Encoding"] == "gzip" and gzip.decompress(gz.content) == PAGE
    plain = respond(HttpResponse(PAGE), "identity")
    assert not plain.has_header("Content-Encoding") and plain.content == PAGE


def test_streamed_text_is_compressed_and_downloads_are_left_alone():
    streamed = respond(StreamingHttpResponse(iter([PAGE[:1000], PAGE[1000:]]), content_type="text/csv"), "br")
    assert streamed["Content-Encoding"] == "br" and brotli.decompress(b"".join(streamed.streaming_content)) == PAGE
    workbook = HttpResponse(PAGE, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert not respond(workbook, "br").has_header("Content-Encoding")
    tiny = respond(HttpResponse(b"<p>ok</p>"), "br")
    assert not tiny.has_header("Content-Encoding")


@pytest.mark.django_db
def test_pages_come_compressed_through_the_whole_stack(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_ENCODING="br")
    assert response["Content-Encoding"] == "br" and "登录".encode() in brotli.decompress(response.content)


@pytest.mark.django_db
def test_favicon_at_the_root_and_development_static_urls_change_with_the_file(client, settings):
    from django.templatetags.static import static

    assert client.get("/favicon.ico").status_code == 200
    url = static("eldercare/site.css")
    assert url.startswith("/static/eldercare/site.css?v=") and url.split("=")[1].isdigit()
