"""After the data-owner tutorial (both models' results submitted), the benchmark's page in a headless Chromium shows
both models ranked by accuracy with the figures the metrics container computed, and the tutorial's dataset."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _e2e import Tutorial
from test_data_owner_tutorial import run_tutorial

from medperf_core.testing import browser

MODELS = {2: "b1m2d1", 4: "b1m4d1"}


@pytest.mark.docker
def test_the_benchmark_page_after_the_tutorial(tutorial_factory: Any, tmp_path: Path) -> None:
    why = browser.missing()
    if why and os.environ.get("CI"):
        pytest.fail(why)
    if why:
        pytest.skip(why)
    t: Tutorial = tutorial_factory()
    run_tutorial(t)  # submits model 4's result; the reference model's too, below
    sent = t.medperf("result", "submit", "--result", MODELS[2], "-y").stdout
    assert "submitted (server UID 2)" in sent, sent
    local = {m: json.loads(t.medperf("result", "view", uid, "--format", "json").stdout)["metrics"]
             for m, uid in MODELS.items()}

    board = t.get("bo", "/benchmarks/1/leaderboard/")
    assert board["primary_metric"] == "accuracy" and board["scope"] == "all"
    ranked = sorted(MODELS, key=lambda m: -local[m]["accuracy"])
    assert [r["model"] for r in board["rows"]] == ranked
    for row in board["rows"]:
        assert row["pooled"]["accuracy"] == {
            "value": local[row["model"]]["accuracy"], "method": "weighted by n_cases", "sites": 1,
            "cases": local[row["model"]]["n_cases"],
        }
    assert board["datasets"][0]["name"] == "mytestdata" and board["datasets"][0]["stage"] == "operational"

    from selenium.webdriver.common.by import By

    shots = Path(os.environ.get(browser.SCREENSHOTS_ENV) or tmp_path / "screenshots")
    driver = browser.start(tmp_path / "chromium-profile")
    try:
        driver.get(f"{t.url}/ui/benchmarks/1")
        browser.click_and_wait(driver, driver.find_element(By.ID, "login-testbo"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody tr")
        assert [int(r.get_attribute("data-model")) for r in rows] == ranked
        for row, model in zip(rows, ranked, strict=True):
            accuracy = row.find_element(By.CSS_SELECTOR, 'td[data-metric="accuracy"]')
            assert float(accuracy.get_attribute("data-value")) == local[model]["accuracy"]
            assert accuracy.text == f"{local[model]['accuracy']:.4f}w"
        assert "mytestdata" in driver.find_element(By.ID, "per-site").text
        assert "mytestdata" in driver.find_element(By.ID, "sites").text
        browser.full_page_screenshot(driver, shots / "tutorial-benchmark.png")
    finally:
        driver.quit()
