"""The web page end to end in headless Chromium: fill the form, generate, watch the progress,
play, download the MP3 and decode it. Screenshots go to the test's temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile as sf

from .conftest import API_KEY, Server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (apt-get install chromium)")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("web") / "data", "--rate-limit", "1000")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield launched
        launched.close()


def test_fill_generate_play_download(page_server, browser, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_server.url + "/")
    page.wait_for_selector("#key-row:not([hidden])")
    page.fill("#api-key", API_KEY)
    page.dispatch_event("#api-key", "change")
    page.wait_for_selector("#suggestions button >> text=funk")
    page.fill("#tags", "pop")
    page.click("#suggestions button >> text=piano")
    assert page.input_value("#tags") == "pop, piano"
    page.click("[data-section=verse]")
    page.keyboard.type("Hello there my friend\n")
    page.click("[data-section=chorus]")
    page.keyboard.type("Sing it loud tonight")
    assert page.input_value("#lyrics") == "[verse]\nHello there my friend\n[chorus]\nSing it loud tonight"
    page.fill("#duration", "20")
    page.fill("#seed", "4")
    page.select_option("#meter", "3/4")
    page.evaluate("""() => { window.progressSeen = [];
        new MutationObserver(() => window.progressSeen.push(Number(document.getElementById('progress-bar')
            .getAttribute('aria-valuenow')))).observe(document.getElementById('progress-bar'), {attributes: true}); }""")
    page.click("#generate")
    page.wait_for_selector("#player:not([hidden])", timeout=120_000)
    seen = page.evaluate("window.progressSeen")
    assert len(set(seen)) >= 3 and any(0 < value < 100 for value in seen) and seen == sorted(seen), seen
    assert "3/4" in page.text_content("#song-facts")
    lines = page.locator("#lyric-lines li")
    assert lines.count() == 2 and lines.nth(0).text_content() == "Hello there my friend"
    page.wait_for_function("document.getElementById('audio').duration > 19")
    page.evaluate("document.getElementById('audio').currentTime = document.getElementById('audio').duration - 3")
    page.wait_for_function("document.querySelectorAll('#lyric-lines li.current').length === 1")
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"), full_page=True)

    with page.expect_download() as download:
        page.click("[data-download=mp3]")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    audio, rate = sf.read(path)
    assert path.suffix == ".mp3" and rate == 44100 and abs(len(audio) / rate - 20.0) < 0.1 and abs(audio).max() > 0.05

    page.wait_for_selector("#history li .status-succeeded")
    page.fill("#seed", "")
    page.fill("#tags", "metal")
    page.click("#history li >> nth=0")
    assert page.input_value("#seed") == "4" and page.input_value("#tags") == "pop, piano"
    assert page.input_value("#meter") == "3/4"

    # keep the verse, retake the chorus: a new song in the history, made from this one
    page.wait_for_selector("#player:not([hidden])")
    chorus = page.evaluate("[...document.querySelectorAll('#edit-section option')].find(o => o.text.includes('chorus')).value")
    page.select_option("#edit-section", chorus)
    page.click("#retake")
    page.wait_for_selector("#history li:first-child .status-succeeded", timeout=120_000)
    page.wait_for_function("document.querySelector('#history li .tags').textContent.includes('(retake)')")
    page.wait_for_selector("#player:not([hidden])")
    assert errors == []
    context.close()


def test_usable_at_phone_width_and_errors_name_the_field(page_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.add_init_script(f"localStorage.setItem('songwright-key', '{API_KEY}')")
    page.goto(page_server.url + "/")
    page.wait_for_selector("#suggestions button >> text=funk")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width} px)"
    box = page.locator("#generate").bounding_box()
    assert box["width"] > 300
    page.fill("#duration", "5")
    page.evaluate("document.getElementById('duration').removeAttribute('min')")
    page.click("#generate")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "duration_s" in page.text_content("#form-error")
    page.screenshot(path=str(SCREENSHOTS / "phone.png"), full_page=True)
    context.close()
