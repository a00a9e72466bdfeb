"""A minimal browser for the load benchmark: one keep-alive connection, cookies, brotli/gzip, the
headers nginx adds in production (X-Forwarded-Proto: https), the CSRF headers a browser sends,
and the form a page shows turned into the fields a browser would submit.

Standard library only, and lean on purpose: the load generator shares the machine's two cores
with the server it measures.
"""

from __future__ import annotations

import http.client
import re
import time
import uuid
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import brotli


@dataclass
class Response:
    method: str
    path: str
    status: int
    location: str
    body: str
    seconds: float


class Browser:
    """One user's session against the server at 127.0.0.1:`port`."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.origin = f"https://127.0.0.1:{port}"  # as the phone sees it: nginx terminates TLS
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def close(self):
        self.conn.close()

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "",
                referer: str = "") -> Response:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Real-IP": "127.0.0.1",
            "Accept": "text/html,*/*",
            "Accept-Encoding": "gzip, deflate, br",  # as a phone's browser asks
            "Accept-Language": "zh-CN,zh;q=0.9",
            "User-Agent": "eldercare-bench (Android; 360px)",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + (referer or path)
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                raw = self.conn.getresponse()
                data = raw.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection between two requests: a
                # browser reconnects and sends again. Only before any answer, and only once.
                self.conn.close()
                if attempt == 2:
                    raise
        seconds = time.perf_counter() - started
        encoding = raw.getheader("Content-Encoding")
        if encoding == "br":
            data = brotli.decompress(data)
        elif encoding == "gzip":
            data = zlib.decompress(data, 16 + zlib.MAX_WBITS)
        for header, value in raw.getheaders():
            if header.lower() == "set-cookie":
                for name, morsel in SimpleCookie(value).items():
                    if morsel.value == "" or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        location = raw.getheader("Location") or ""
        if location.startswith(("http://", "https://")):
            location = urlsplit(location).path + (("?" + urlsplit(location).query) if urlsplit(location).query else "")
        return Response(method, path, raw.status, location, data.decode("utf-8", "replace"), seconds)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: list[tuple[str, str]], files: tuple[str, ...] = ()) -> Response:
        """POST as multipart/form-data, as the page's FormData does (empty file inputs included)."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n')
        for name in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
                         "Content-Type: application/octet-stream\r\n\r\n\r\n")
        parts.append(f"--{boundary}--\r\n")
        return self.request("POST", path, "".join(parts).encode(), f"multipart/form-data; boundary={boundary}")

    def post_urlencoded(self, path: str, fields: list[tuple[str, str]]) -> Response:
        return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def login(self, username: str, password: str, login_path: str = "/login/") -> None:
        page = self.get(login_path)
        form = parse_form(page.body)
        fields = [(n, v) for n, v in form.fields if n not in ("username", "password")]
        answer = self.post_urlencoded(login_path, [*fields, ("username", username), ("password", password)])
        if answer.status != 302:
            raise RuntimeError(f"login as {username} failed: HTTP {answer.status}")


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]]  # what a browser submits, in document order
    files: tuple[str, ...]  # names of file inputs (submitted empty)


class _FormParser(HTMLParser):
    """The first <form method=post> of a page (or the first whose attribute `match` is present)."""

    def __init__(self, match: str):
        super().__init__(convert_charrefs=True)
        self.match = match
        self.form: Form | None = None
        self.inside = False
        self.done = False
        self.select: str | None = None
        self.select_value: str | None = None
        self.option_value: str | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and not self.inside and (a.get("method") or "").lower() == "post" \
                and (not self.match or self.match in a):
            self.inside = True
            self.form = Form(a.get("action") or "", [], ())
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                return
            if kind == "file":
                self.form.files += (name,)
            elif kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            else:
                self.form.fields.append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []
        elif tag == "select" and name:
            self.select, self.select_value = name, None
        elif tag == "option" and self.select is not None:
            self.option_value = a.get("value", "")
            if self.select_value is None or "selected" in a:
                self.select_value = self.option_value

    def handle_data(self, data):
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "textarea" and self.textarea is not None:
            self.form.fields.append((self.textarea, "".join(self.text).removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            if self.select_value is not None:
                self.form.fields.append((self.select, self.select_value))
            self.select = None
        elif tag == "form":
            self.inside, self.done = False, True


def parse_form(html: str, match: str = "") -> Form:
    """The fields a browser would submit from the page's first POST form (with attribute `match`)."""
    parser = _FormParser(match)
    parser.feed(html)
    if parser.form is None:
        raise ValueError("no POST form on the page")
    return parser.form


_ROW = re.compile(r'data-elder="(\d+)"')
_HREF = re.compile(r'href="([^"#]+)"')


def worklist_rows(html: str) -> list[tuple[int, list[str]]]:
    """(elder pk, the links of its row) for each row of 今日待访."""
    starts = [(m.start(), int(m.group(1))) for m in _ROW.finditer(html)]
    rows = []
    for i, (start, pk) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else html.find("</ul>", start)
        rows.append((pk, _HREF.findall(html, start, end if end > 0 else len(html))))
    return rows
