"""The web book: built from every lesson, read in a real browser with the network cut.

Builds the site once (``tinygrad_ste.tools.book``) from the lessons as executed in this test run
(``lesson_runs.py``: each lesson runs once, for this file and ``tests/test_lessons.py``
alike, and the site is built once, in whichever worker of ``pytest -n`` asks first),
and opens pages in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by
Selenium).  The browser runs with every host name unresolvable and a proxy that does not
exist, and its network log is read: no request may leave the machine.  The build is strict:
any Sphinx warning fails it.  Skipped, with the reason, only where the book extra or a browser
cannot be had (``test_reading_the_source.py`` checks the chapter's listings without either).
"""
import functools
import http.server
import json
import pkgutil
import re
import shutil
import threading

import pytest

from lesson_runs import LESSONS, executed_lessons, once_per_test_run

pytest.importorskip("sphinx", reason="the book extra (Sphinx, MyST-NB) is not installed")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the book extra) is not installed")

import tinygrad_ste  # noqa: E402
from tinygrad_ste.tools.book import API_MODULES, READING_CHAPTER, REPOSITORY, build_book  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


SITE = REPOSITORY / "build" / "book" / "site"


@pytest.fixture(scope="module")
def site():
    """The site, built once per test run (under ``pytest -n`` by the first worker that gets here)."""
    once_per_test_run("web-book", lambda: build_book(SITE, executed_dir=executed_lessons(), strict=True))
    return SITE


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,1600",
                 # The network is cut: no host name resolves, and any proxied request goes nowhere.
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost", "--proxy-server=http://127.0.0.1:9"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def open_page(browser, path):
    """Load a page (a file, or a URL), wait for MathJax to finish, and return the URLs it requested."""
    browser.get_log("performance")   # forget earlier pages' requests
    browser.get_log("browser")
    browser.get(path if isinstance(path, str) else path.as_uri())
    browser.execute_async_script("""const done = arguments[arguments.length - 1];
        (window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve()).then(() => done(true));""")
    requests = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    return requests


def search_hits(browser, url, query):
    """Run the book's search page on ``query``; returns the result links and their snippets."""
    browser.get(f"{url}?q={query}")
    return browser.execute_async_script("""const done = arguments[arguments.length - 1];
        const look = (tries) => {
            const hits = document.querySelectorAll('#search-results li');
            const snippets = document.querySelectorAll('#search-results li p.context');
            if ((hits.length && snippets.length) || tries == 0)
                done([Array.from(hits).map(li => li.querySelector('a').href),
                      Array.from(snippets).map(p => p.textContent)]);
            else setTimeout(() => look(tries - 1), 200);
        };
        look(25);""")


def test_the_api_page_covers_every_module_of_the_package():
    modules = {info.name for info in pkgutil.iter_modules(tinygrad_ste.__path__)}
    assert modules - {"tools"} == set(API_MODULES)


def test_every_lesson_has_a_page_in_lesson_order(site):
    index = (site / "index.html").read_text()
    positions = [index.find(f'lessons/{p.stem}.html') for p in LESSONS]
    assert all(position >= 0 for position in positions), "a lesson is missing from the index"
    assert positions == sorted(positions)
    for lesson in LESSONS:
        assert (site / "lessons" / f"{lesson.stem}.html").exists()
    assert (site / "api.html").exists() and (site / "search.html").exists()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_page_shows_figures_and_typeset_math_offline(site, browser, lesson):
    page = site / "lessons" / f"{lesson.stem}.html"
    requests = open_page(browser, page)
    left = [url for url in requests if not url.startswith(LOCAL_SCHEMES)]
    assert not left, f"{page.name} asked the network for {left}"

    images = browser.execute_script("""return Array.from(document.querySelectorAll('article img'))
        .map(img => [img.getAttribute('src'), img.complete && img.naturalWidth > 0]);""")
    assert images, f"{page.name} shows no figure"
    assert all(loaded for _, loaded in images), f"{page.name}: images that did not load: " \
        f"{[src for src, loaded in images if not loaded]}"

    math = browser.execute_script("""const math = Array.from(document.querySelectorAll('article .math'));
        return [math.length, math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent)];""")
    assert math[0] > 0, f"{page.name} has no math"
    assert not math[1], f"{page.name}: math left untypeset: {math[1][:3]}"
    prose = browser.execute_script("""const article = document.querySelector('article').cloneNode(true);
        article.querySelectorAll('pre, code, .math, mjx-container, .cell_output').forEach(e => e.remove());
        return article.innerText;""")
    raw = re.findall(r"\$[^$\n]+\$", prose)
    assert not raw, f"{page.name}: raw TeX in the prose: {raw[:3]}"

    links = browser.execute_script("return Array.from(document.querySelectorAll('a')).map(a => a.href);")
    assert any(link.endswith(f"{lesson.stem}.ipynb") for link in links), "no link to the notebook source"
    if lesson != LESSONS[-1]:
        assert any(link.endswith(f"{LESSONS[LESSONS.index(lesson) + 1].stem}.html") for link in links), \
            "no link to the next lesson"


def test_search_from_disk_finds_a_lesson_without_errors(site, browser):
    requests = open_page(browser, site / "search.html")
    found, snippets = search_hits(browser, (site / "search.html").as_uri(), "straight-through")
    assert any("/lessons/" in url for url in found), f"search found no lesson page: {found[:5]}"
    assert all(url.startswith(LOCAL_SCHEMES) for url in requests)
    assert not snippets   # from disk the pages cannot be fetched for snippets, so none is asked for
    blocked = [entry["message"] for entry in browser.get_log("browser") if "fetch" in entry["message"].lower()]
    assert not blocked, f"the search page tried to fetch pages from disk: {blocked[:3]}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """``python -m http.server``'s handler, without a log line per request."""

    def log_message(self, *args):
        pass


def test_search_served_by_http_server_shows_snippets(site, browser):
    """The README's way to get snippets: serve the folder, as ``python -m http.server`` does."""
    server = http.server.ThreadingHTTPServer(("localhost", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found, snippets = search_hits(browser, f"http://localhost:{server.server_port}/search.html",
                                      "straight-through")
    finally:
        server.shutdown()
        server.server_close()
    assert any("/lessons/" in url for url in found), f"search found no lesson page: {found[:5]}"
    assert any("straight" in text.lower() for text in snippets), f"no snippet shows the query: {snippets[:3]}"


def test_the_home_page_has_one_search_box_and_points_only_at_what_it_shows(site, browser):
    open_page(browser, site / "index.html")
    boxes = browser.execute_script("""return Array.from(document.querySelectorAll('.search-button-field'))
        .filter(e => e.offsetParent !== null).length;""")
    assert boxes == 1, f"the home page shows {boxes} search boxes"
    text = browser.execute_script("return document.querySelector('article').innerText;")
    headings = browser.execute_script("""return Array.from(document.querySelectorAll('article h1, article h2, article h3'))
        .map(h => h.textContent.replace(/#$/, '').trim());""")
    for pointed in re.findall(r'["\u201c]([^"\u201d]+)["\u201d] (?:below|above)', text):
        assert pointed in headings, f'the home page says "{pointed}" is below or above, but has no such section'


def test_the_reading_chapter_shows_each_listing(site):
    page = (site / "reading_the_source.html").read_text()
    listings = re.findall(r'<div class="literal-block-wrapper.*?</pre>', page, re.S)
    assert len(listings) == READING_CHAPTER.read_text().count("{literalinclude}")
    assert all(re.search(r"(def|class)</span>", listing) for listing in listings), "a listing shows no definition"
    assert "reading_the_source.html" in (site / "index.html").read_text()


def test_screenshot_of_a_lesson_page(site, browser):
    """Saves build/book/lesson_page.png: the README's picture of the book is a copy of it."""
    open_page(browser, site / "lessons" / f"{LESSONS[0].stem}.html")
    browser.execute_script("document.querySelector('article img').scrollIntoView({block: 'center'});")
    path = REPOSITORY / "build" / "book" / "lesson_page.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 20_000   # a rendered page, not a blank one
