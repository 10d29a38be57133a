"""A headless Chromium for tests of the pages: Debian's `chromium` and `chromium-driver`, driven by Selenium.

Nothing is downloaded: the browser and its driver are the system's (scripts/install-engines.sh installs them), and
the flags keep Chromium from reaching the network on its own. `SCREENSHOTS_ENV` names a folder where the tests
keep their screenshots (default: the test's temporary folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS_ENV = "MEDPERF_SCREENSHOTS"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def missing() -> str | None:
    """Why no browser can start here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver; scripts/install-engines.sh does)"
    return None


def start(profile: Path) -> Any:
    """A new headless Chromium with its own profile folder; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def full_page_screenshot(driver: Any, path: Path) -> Path:
    """The whole page (the window grown to the document's height), as PNG."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    width = int(driver.execute_script("return Math.max(1280, document.documentElement.scrollWidth)"))
    driver.set_window_size(width, min(height + 120, 6000))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


def click_and_wait(driver: Any, element: Any, timeout: float = 20) -> None:
    """Click what leads to a new page and wait until that page has loaded (the old one's elements went stale)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_driver: Any) -> bool:
        try:
            return bool(expected_conditions.staleness_of(element)(_driver))
        except WebDriverException:  # Chromium may say "node does not belong to the document": the page moved on
            return True

    element.click()
    WebDriverWait(driver, timeout).until(gone)
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")
