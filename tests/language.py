"""Is a page all Chinese? The shared checker of the "no English word under zh-hans" tests.

    from tests.language import english_words
    assert english_words(response.content.decode()) == []

`english_words(html)` lists the ASCII words a user would read on the page: element text and the
attributes people see or hear (title, placeholder, alt, aria-label, button values). It skips
what is not language: script, style and code elements, URLs, file names, identifiers and
numbers (any chunk mixing letters with digits or with / . @ _ : = # characters), and the proper
names and units in `ALLOWED` (Excel, PDF, BMI, mmHg …). Pass `allowed=` for a page's own extra
proper names.
"""

import re
from html.parser import HTMLParser

# Proper names, file types and units a Chinese page may show as they are.
ALLOWED = frozenset({
    "English",  # the language switcher offers English by its own name
    "Excel", "WPS", "PDF", "JPG", "JPEG", "PNG", "CSV", "XLS", "XLSX", "xlsx", "xls", "csv", "pdf", "jpg", "png",
    "BMI", "mmHg", "mmol", "cm", "kg", "KB", "MB", "GB", "A4",
    "Control", "Command", "Mac",  # key names as printed on the keys (the admin's multi-select hint)
})

SILENT_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp", "template", "noscript"}
READ_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
CODE_LIKE = re.compile(r"[/._@:=#\\]|\d.*[A-Za-z]|[A-Za-z].*\d")
WORD = re.compile(r"[A-Za-z]{2,}")
PUNCTUATION = ".,;:!?()[]{}<>\"'“”‘’（），。；：！？、…—-"


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.silent = 0

    def handle_starttag(self, tag, attrs):
        if tag in SILENT_ELEMENTS:
            self.silent += 1
        attributes = dict(attrs)
        for name in READ_ATTRIBUTES:
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset") and attributes.get("value"):
            self.texts.append(attributes["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SILENT_ELEMENTS:
            self.silent -= 1

    def handle_endtag(self, tag):
        if tag in SILENT_ELEMENTS and self.silent:
            self.silent -= 1

    def handle_data(self, data):
        if not self.silent:
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    """The texts of `html` a reader sees or hears, in document order."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


def english_words(html: str, allowed=()) -> list[str]:
    """ASCII words on the page that are neither code-like nor allowed proper names/units."""
    allowed = ALLOWED | set(allowed)
    found = []
    for text in visible_texts(html):
        for chunk in text.split():
            chunk = chunk.strip(PUNCTUATION)
            if CODE_LIKE.search(chunk):
                continue
            found.extend(word for word in WORD.findall(chunk) if word not in allowed)
    return found
