"""What a browser sends for a form nobody touched: read from the page's HTML, the way the
browser reads it (checked boxes only, each select's selected option or else its first)."""

from html.parser import HTMLParser


class _Form(HTMLParser):
    def __init__(self, action, form_id):
        super().__init__()
        self.action = action
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.data = []
        self.select = None  # [name, multiple, first option, chose one]
        self.textarea = None
        self.option = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            wanted = (
                a.get("id") == self.form_id
                if self.form_id
                else self.action in (a.get("action") or "")
            )
            self.inside = not self.found and wanted
            self.found = self.found or self.inside
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in {"submit", "button", "reset", "file", "image"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.data.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self.select = [name, "multiple" in a, None, False]
        elif tag == "option" and self.select is not None:
            value = a.get("value")
            self.option = value
            if self.select[2] is None:
                self.select[2] = value
            if "selected" in a:
                self.data.append((self.select[0], value))
                self.select[3] = True
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            name, multiple, first, chose = self.select
            if not chose and not multiple and first is not None:
                self.data.append((name, first))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.data.append((name, text.removeprefix("\n")))
            self.textarea = None


def untouched(html, action="", form_id=None):
    """{name: value or [values]} that a form sends: the one with id `form_id`, else the first
    whose action contains `action`."""
    parser = _Form(action, form_id)
    parser.feed(html)
    assert parser.found, f"no form with action {action!r} or id {form_id!r}"
    values = {}
    for name, value in parser.data:
        values.setdefault(name, []).append(value)
    return {name: v[0] if len(v) == 1 else v for name, v in values.items()}


def versions(obj, *fields, crlf=False, **english):
    """What the admin's side-by-side fields send for `fields` of `obj` left as they are:
    {"title_en": …, "title_fr": …, "title_es": …}. `english` replaces the English version of a
    field (title="New title"); `crlf` sends textarea lines as a browser does."""
    data = {}
    for field in fields:
        for code in ("en", "fr", "es"):
            value = getattr(obj, f"{field}_{code}") or ""
            data[f"{field}_{code}"] = value.replace("\n", "\r\n") if crlf else value
    for field, value in english.items():
        data[f"{field}_en"] = value
    return data
