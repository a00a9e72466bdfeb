"""Compression of every text response: brotli when the client accepts it, gzip otherwise.

gunicorn is reached directly in the README's production command and by the load benchmark, so
the application compresses its own pages rather than counting on a proxy in front
(docs/performance.md, "Compression", says which layer does what). Static files are compressed
ahead of time by `collectstatic` (whitenoise writes .br and .gz beside each file when the
`brotli` package is installed) and served with their Content-Encoding already set: this
middleware leaves those alone and compresses only what has none.
"""

import brotli
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers
from django.utils.regex_helper import _lazy_re_compile

accepts_br = _lazy_re_compile(r"\bbr\b")
# What is worth compressing: text. Workbooks, PDFs and photos are compressed already.
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml",
              "application/manifest+json")
# Quality 5 compresses a 14 KB page in about half a millisecond and beats gzip -6 by ~12 %;
# quality 11 takes ~90 times as long (docs/performance.md, "Compression").
BROTLI_QUALITY = 5


class CompressionMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its BREACH padding), plus brotli where `Accept-Encoding`
    names it, for text responses only."""

    def process_response(self, request, response):
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(TEXT_TYPES) or response.has_header("Content-Encoding"):
            return response
        if not response.streaming and len(response.content) < 200:
            return response
        if not accepts_br.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) or getattr(response, "is_async", False):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Encoding",))
        if response.streaming:
            response.streaming_content = _brotli_stream(response.streaming_content)
            del response.headers["Content-Length"]
        else:
            compressed = brotli.compress(response.content, quality=BROTLI_QUALITY)
            if len(compressed) >= len(response.content):
                return response
            response.content = compressed
            response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag  # RFC 9110 8.8.1, as GZipMiddleware does
        response.headers["Content-Encoding"] = "br"
        return response


def _brotli_stream(chunks):
    compressor = brotli.Compressor(quality=BROTLI_QUALITY)
    for chunk in chunks:
        data = compressor.process(chunk)
        if data:
            yield data
    yield compressor.finish()
