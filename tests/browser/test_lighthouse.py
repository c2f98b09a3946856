"""Lighthouse's accessibility and SEO scores, and axe, on the public pages in each language
with "(English)" fallbacks on them (issue 13): the dashboard, a commitment and a statement;
and Lighthouse's on the states' map and table in each language and a state's page (issue 14;
axe on those: tests/browser/test_states.py)."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils.translation import get_language_info
from playwright.sync_api import Page

from .test_states import ensure_states

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIGHTHOUSE = Path(settings.BASE_DIR) / "node_modules" / "lighthouse"
SCRIPT = Path(__file__).with_name("lighthouse.mjs")
LANGUAGES = ["", "/fr", "/es"]
PAGES = [
    "/",
    "/commitments/NOR-2012-10/",  # its title, criteria and reading are in English only
    "/statements/norway-2012-04-16-universalisation/",
]
# Issue 14: the states' map and table (197 rows, 240 shapes), and a state's page in French.
STATE_PAGES = ["/states/", "/fr/states/NO/"]


def run_lighthouse(urls: list[str]) -> dict:
    """Lighthouse's report on each address: one Node process, one Chromium (~4 s a page)."""
    node = shutil.which("node")
    if not node or not LIGHTHOUSE.exists():
        pytest.fail("Lighthouse needs Node.js 18.16+ and node_modules: run `make checkers`.")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")}
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own script
        [node, str(SCRIPT), *urls],
        capture_output=True,
        text=True,
        timeout=480,  # ~4 s a page, ~25 s under a busy machine's load
        env=env,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_fallback_pages_score_100_in_accessibility_and_seo(live_server, partly_translated):
    ensure_states()  # a transactional test before this one flushed them
    urls = [f"{live_server.url}{language}{path}" for language in LANGUAGES for path in PAGES]
    urls += [f"{live_server.url}{path}" for path in STATE_PAGES]
    started = time.monotonic()
    report = run_lighthouse(urls)
    print(f"Lighthouse: {len(urls)} pages in {time.monotonic() - started:.1f} s")
    problems = {
        url: page.get("error") or page["failing"]
        for url, page in report.items()
        if page.get("error") or page["scores"] != {"accessibility": 1, "seo": 1}
    }
    assert sorted(report) == sorted(urls)
    assert not problems, json.dumps(problems, indent=2, ensure_ascii=False)


# Every text in the body that ends in a language's name, "(English)", and the language of the
# element it is in: a fallback must sit in an element with its language's lang (WCAG 3.1.2).
# Form controls are left out: an <option> holds no markup and a citation is plain text.
MARKED_LANGUAGES = """names => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest("option, textarea")) continue;
    for (const [code, name] of Object.entries(names)) {
      if (node.data.includes(`(${name})`)) {
        found.push([code, node.parentElement.closest("[lang]").lang, node.data.trim()]);
      }
    }
  }
  return found;
}"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_fallback_pages_have_no_accessibility_violation_and_mark_their_language(
    page: Page, live_server, partly_translated, language
):
    names = {code: get_language_info(code)["name_local"] for code, _name in settings.LANGUAGES}
    axe = Axe()
    for path in PAGES:
        page.goto(f"{live_server.url}{language}{path}")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        fallbacks = page.evaluate(MARKED_LANGUAGES, names)
        unmarked = [(text, lang) for code, lang, text in fallbacks if lang != code]
        assert not unmarked, f"{language}{path}: fallbacks without their lang: {unmarked}"
        # Each page in French and Spanish shows English fallbacks; in English, none.
        assert bool(fallbacks) == bool(language), f"{language}{path}"
        results = axe.run(page)
        assert results.violations_count == 0, f"{language}{path}\n{results.generate_report()}"
