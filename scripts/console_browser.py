"""Drives GET /console in headless chromium (scripts/check-console.sh sets up the service)."""
import json
import os
import shutil
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, model_directory = sys.argv[1], sys.argv[2]
LISTINGS = [
    {"id": "L1", "site_id": "MLB", "title": "Pistola 9mm glock com carregador extra", "category_id": "MLB1234",
     "price_usd": 850, "seller_age_days": 3, "seller_sales": 0, "seller_reputation": "new"},
    {"id": "L2", "site_id": "MLA", "title": "Pistola de silicona caliente 40w para manualidades", "category_id": "MLA1234",
     "price_usd": 12.5, "seller_age_days": 900, "seller_sales": 340, "seller_reputation": "gold"},
]


def predict(times):
    body = json.dumps({"instances": LISTINGS}).encode()
    for _ in range(times):
        request = urllib.request.Request(base + "/v1/models/prohibited-items:predict", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def serving(driver):
    return driver.find_element(By.ID, "serving-prohibited-items").text


# The page reloads itself every 5 s: an element found just before a reload is gone when read.
RELOADING = (StaleElementReferenceException, NoSuchElementException)


options = webdriver.ChromeOptions()
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
    options.add_argument(flag)
options.binary_location = shutil.which("chromium")
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
driver.set_page_load_timeout(30)
failures = []
try:
    predict(5)
    driver.get(base + "/console")
    assert driver.title == "Vigia console", driver.title
    assert serving(driver) == "1", serving(driver)
    # Scores by version: 10 scores, drawn as bars with a non-zero height.
    chart = driver.find_element(By.ID, "chart-scores-prohibited-items-1")
    heights = [float(bar.get_attribute("height")) for bar in chart.find_elements(By.CSS_SELECTOR, "rect.bar")]
    assert len(heights) == 20 and sum(1 for h in heights if h > 0) >= 1, heights
    assert "10 scores" in chart.text or "10 scores" in chart.get_attribute("innerHTML"), chart.get_attribute("innerHTML")[:200]
    # The traffic charts need two points: the page reloads itself every 5 s.
    predict(3)
    WebDriverWait(driver, 30, poll_frequency=0.5, ignored_exceptions=RELOADING).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-request-rate polyline, #chart-request-rate circle"))
    for chart_id in ("chart-request-rate", "chart-error-rate", "chart-latency"):
        assert driver.find_element(By.ID, chart_id).is_displayed(), chart_id
    # A version published while the page is open shows up as serving after an auto-refresh.
    staging = os.path.join(model_directory, ".incoming-2")
    shutil.copytree(os.path.join(model_directory, "1"), staging)
    manifest_path = os.path.join(staging, "model.json")
    manifest = json.load(open(manifest_path))
    manifest["version"] = 2
    json.dump(manifest, open(manifest_path, "w"))
    os.rename(staging, os.path.join(model_directory, "2"))
    WebDriverWait(driver, 60, poll_frequency=0.5, ignored_exceptions=RELOADING).until(lambda d: serving(d) == "2")
    rows = WebDriverWait(driver, 10, poll_frequency=0.2, ignored_exceptions=RELOADING).until(
        lambda d: [row.get_attribute("data-version") for row in d.find_elements(By.CSS_SELECTOR, "table.versions tr[data-version]")])
    assert rows[:2] == ["2", "1"], rows
    severe = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert not severe, severe
    print(f"console: loaded without browser errors; serving 1 then 2 after publication; "
          f"{len(heights)} score bars, traffic charts drawn ({driver.capabilities['browserVersion']})")
finally:
    driver.quit()
