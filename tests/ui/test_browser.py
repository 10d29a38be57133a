"""The pages in a real headless Chromium: sign in with a demo button, read the ranked table, sort it, sign in as a data
owner and see only their site; a screenshot of each page is kept (MEDPERF_SCREENSHOTS, else the test's tmp folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _ui_world import expected_pooled

from medperf_core.testing import browser
from medperf_core.testing.server import ServerProcess


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    why = browser.missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    started = browser.start(tmp_path / "chromium-profile")
    try:
        yield started
    finally:
        started.quit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get(browser.SCREENSHOTS_ENV) or tmp_path / "screenshots")


def sign_in(driver: Any, server: ServerProcess, username: str, target: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{server.url}{target}")
    assert "/ui/login" in driver.current_url  # not signed in: sent to the login page, then back
    browser.click_and_wait(driver, driver.find_element(By.ID, f"login-{username}"))
    assert driver.current_url == f"{server.url}{target}", driver.current_url
    assert driver.find_element(By.ID, "viewer").text == f"{username}@example.com"


def leaderboard(driver: Any) -> list[dict[str, str]]:
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.ID, "leaderboard")
    heads = [th.get_attribute("data-column") for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    return [
        dict(zip(heads, (td.text for td in row.find_elements(By.TAG_NAME, "td")), strict=True))
        for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    ]


def figure(text: str) -> float:
    return float(text.rstrip("wm"))  # the marker after the figure says weighted (w) or mean (m)


def test_the_benchmark_page_in_a_browser(
    driver: Any, server: ServerProcess, world_of_sites: dict[str, Any], shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    b, models = world_of_sites["benchmark"]["id"], world_of_sites["models"]
    names = {m: r["name"] for m, r in ((m, world_of_sites["datasets"][s]) for m, s in ((1, 1), (2, 2)))}
    sign_in(driver, server, "testbo", "/ui/")
    browser.full_page_screenshot(driver, shots / "benchmarks.png")
    browser.click_and_wait(driver, driver.find_element(By.LINK_TEXT, world_of_sites["benchmark"]["name"]))
    assert driver.find_element(By.ID, "benchmark-name").text == world_of_sites["benchmark"]["name"]

    rows = leaderboard(driver)
    assert [(r["rank"], r["model"].endswith(f"({models[k]})")) for r, k in zip(rows, ("ref", "x"), strict=True)] == [
        ("1", True), ("2", True)
    ]
    for row, key in zip(rows, ("ref", "x"), strict=True):
        assert figure(row["accuracy"]) == pytest.approx(expected_pooled([1, 2], key, 0), abs=5e-5)
        assert figure(row["auc"]) == pytest.approx(expected_pooled([1, 2], key, 1), abs=5e-5)
        assert row["accuracy"].endswith("w") and (row["sites"], row["cases"]) == ("2", "50")
    assert driver.find_element(By.ID, "primary-metric").text == "accuracy"
    chart = driver.find_element(By.CSS_SELECTOR, "#chart svg")
    assert len(chart.find_elements(By.CSS_SELECTOR, "circle.site")) == 4
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.pooled")) == 2
    sites = driver.find_element(By.ID, "sites").text
    assert names[1] in sites and names[2] in sites and "PENDING" in sites
    per_site = driver.find_element(By.ID, "per-site").text
    assert names[1] in per_site and names[2] in per_site
    browser.full_page_screenshot(driver, shots / "benchmark-owner.png")

    auc = 'th[data-column="auc"] a'
    browser.click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, auc))  # sort by auc, highest first
    by_auc = leaderboard(driver)
    assert [r["model"].endswith(f"({models['x']})") for r in by_auc] == [True, False]
    assert [r["rank"] for r in by_auc] == ["2", "1"]  # the rank stays the primary metric's
    browser.click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, auc))  # again: lowest first
    assert [r["model"].endswith(f"({models['ref']})") for r in leaderboard(driver)] == [True, False]

    browser.click_and_wait(driver, driver.find_element(By.ID, "logout"))
    sign_in(driver, server, "testdo", f"/ui/benchmarks/{b}")
    mine = leaderboard(driver)
    for row, key in zip(mine, ("ref", "x"), strict=True):
        assert figure(row["accuracy"]) == pytest.approx(expected_pooled([1], key, 0), abs=5e-5)
        assert (row["sites"], row["cases"]) == ("1", "40")
    page = driver.find_element(By.TAG_NAME, "main").text
    assert names[1] in page and names[2] not in page and world_of_sites["datasets"][2]["location"] not in page
    assert "Only the results you submitted" in driver.find_element(By.ID, "scope").text
    shown = [tr.get_attribute("data-dataset") for tr in driver.find_elements(By.CSS_SELECTOR, "#per-site tbody tr")]
    assert set(shown) == {str(world_of_sites["datasets"][1]["id"])}
    browser.full_page_screenshot(driver, shots / "data-owner.png")
    logs = driver.get_log("browser") if hasattr(driver, "get_log") else []
    assert not [entry for entry in logs if entry.get("level") == "SEVERE"], logs  # nothing failed to load


def test_the_login_page_in_a_browser(driver: Any, server: ServerProcess, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{server.url}/ui/login")
    buttons = driver.find_elements(By.CSS_SELECTOR, "button.demo")
    assert [b.get_attribute("id") for b in buttons] == [
        "login-testadmin", "login-testbo", "login-testmo", "login-testdo"
    ]
    driver.find_element(By.ID, "token").send_keys("not-a-token")
    browser.click_and_wait(driver, driver.find_element(By.ID, "login-token"))
    assert "token" in driver.find_element(By.ID, "login-error").text
    browser.full_page_screenshot(driver, shots / "login.png")
