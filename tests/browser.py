"""Headless Chromium for the report's browser test: Debian's ``chromium`` and
``chromium-driver`` driven by selenium, with the network off.

Offline three ways: DevTools' network emulation is set to offline before the page loads, all
traffic is sent to a proxy that does not exist, and host names resolve to nothing. Every
request the page makes is still recorded (the DevTools performance log), so a test can
prove there was none besides the file itself; console messages come from the browser log.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
INSTALL_HINT = "apt-get install -y chromium chromium-driver (.ci/run does it when missing)"
WINDOW = (1280, 1400)


def find_browser() -> tuple[str, str] | str:
    """(browser, driver) paths, or the reason they cannot be used."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    browser = next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = next(filter(None, map(shutil.which, DRIVERS)), None)
    if browser is None or driver is None:
        return f"chromium or its driver not found: {INSTALL_HINT}"
    return browser, driver


def start(browser: str, driver: str):
    """A headless Chromium session that logs the console and the network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WINDOW[0]},{WINDOW[1]}", "--hide-scrollbars",
                "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-extensions", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.execute_cdp_cmd("Network.enable", {})
    session.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return session


@dataclass(frozen=True)
class Visit:
    """What opening a page did: its URL, console errors, requests, resource entries."""

    url: str
    console_errors: list[str]
    requests: list[str]
    resources: list[str]


def visit(session, path: Path) -> Visit:
    """Open `path` from disk and collect what it logged and requested."""
    session.get_log("browser")  # drop what earlier pages logged
    session.get_log("performance")
    url = path.resolve().as_uri()
    session.get(url)
    session.execute_script("return document.readyState")
    errors = [entry["message"] for entry in session.get_log("browser")
              if entry["level"] == "SEVERE"]
    requests = []
    for entry in session.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requests.append(message["params"]["request"]["url"])
    resources = session.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    return Visit(url, errors, requests, resources)


def distinct_colours(png: bytes) -> int:
    """How many distinct RGB colours a screenshot has (a blank page has one or two)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=image.width * image.height))


def screenshot(session, element_id: str | None = None) -> bytes:
    """A PNG of the viewport, scrolled to `element_id` when given (else the top)."""
    if element_id:
        session.execute_script(f"document.getElementById({element_id!r}).scrollIntoView()")
    else:
        session.execute_script("window.scrollTo(0, 0)")
    return session.get_screenshot_as_png()
