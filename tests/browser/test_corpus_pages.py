"""The bad-input corpus (tests/corpus.py) through the pages, in a real browser: every CSV upload, settings
file, formula and URL query gets a specific message, with no console error; after all of them the same
session still works. (IDX and weights files have no upload in the pages: tests/test_corpus.py sends them
through the API.)"""

import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import message, wait_for_app, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import corpus  # noqa: E402

SIZE_LIMIT = "Maximum file size is 200 MB"  # the browser refuses these before sending a byte
SETTINGS_PAGES = {"playground": ("?page=playground", "status"), "race": ("?page=race", "race_step"),
                  "landscape": ("?page=landscape", "landscape_info"), "sweep": ("?page=sweep", "sweep_status")}


def says(page, missed, item, *parts, timeout=60):
    """Waits until the message contains every part (case-insensitive); a miss is noted in ``missed``."""
    if not wait_until(lambda: all(p.lower() in message(page).lower() for p in parts), timeout):
        missed.append(f"{item}: expected {parts}, the page says {message(page)!r}")


def upload(page, missed, selector, path, expect):
    page.locator(selector).set_input_files(str(path))
    if expect == "200 MB":
        if not wait_until(lambda: page.get_by_text(SIZE_LIMIT).count() > 0, 60):
            missed.append(f"{path.name}: the browser did not refuse it")
    else:
        says(page, missed, path.name, path.name, expect)


def test_csv_corpus_through_the_playground(server, page, console, tmp_path):
    page.goto(server.url + "?page=playground")
    wait_for_app(page)
    missed = []
    for name, data, expect in corpus.csv_files():
        upload(page, missed, "input[type=file][accept*='text/csv']", corpus.write(tmp_path, name, data), expect)
    good = corpus.write(tmp_path, "good.csv", corpus.GOOD_ROWS.encode())
    upload(page, missed, "input[type=file][accept*='text/csv']", good, "Loaded good.csv")
    assert missed == [] and console == []


@pytest.mark.parametrize("page_name", sorted(SETTINGS_PAGES))
def test_settings_corpus_through_each_page(server, page, console, tmp_path, page_name):
    address, ready = SETTINGS_PAGES[page_name]
    page.goto(server.url + address)
    wait_for_app(page, ready)
    page.get_by_text("Save / load").click()
    missed = []
    for where, name, data, expect in corpus.settings_files():
        if where == page_name:
            upload(page, missed, "input[type=file][accept*='application/json']", corpus.write(tmp_path, name, data),
                   expect)
    assert missed == [] and console == []


def test_formula_corpus_through_the_race_page(server, page, console):
    page.goto(server.url + "?page=race")
    wait_for_app(page, "race_step")
    box = page.get_by_label("Your own f(x, y)")
    missed = []
    for text, expect in corpus.formulas():
        if not text:
            continue  # an empty box means: use the named surface
        box.fill(text)
        box.press("Enter")
        page.get_by_role("button", name="Use formula").click()
        says(page, missed, text[:40], expect or "exact gradient")
    assert missed == [] and console == []


def test_url_corpus_through_every_page(server, page, console):
    missed = []
    for where, query, expect in corpus.queries():
        page.goto(server.url + "?" + urlencode({"page": where, **query}))
        wait_for_app(page, SETTINGS_PAGES[where][1])
        says(page, missed, f"{where} {str(query)[:40]}", expect, timeout=20)
    assert missed == [] and console == []
