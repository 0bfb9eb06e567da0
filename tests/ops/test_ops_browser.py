"""The operations page in a real headless Chromium: sign in, see dead letters, replay one.

Needs Debian's ``chromium`` and ``chromium-driver`` (/usr/bin/chromium, /usr/bin/chromedriver)
and the ``selenium`` package; skipped where they are missing. The browser only ever talks to the
app served on 127.0.0.1 by this test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ops_jobs
import pytest
from ops_support import dead_letter, seed_activity

from app.carriers.sandbox.runner import serve_asgi
from app.core.context import AppContext

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _rows(driver: Any) -> dict[str, Any]:
    """Dead-letter rows by the tag in their reason."""
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.dead-letter")
    return {row.find_element(By.CSS_SELECTOR, "td.reason").text.rsplit(" ", 1)[-1].strip("')"):
            row for row in rows}  # fmt: skip


def test_sign_in_and_replay_a_dead_letter_in_chromium(
    browser: Any, ops_ctx: AppContext, ops_app: Any, key_for: Callable[..., str], tmp_path: Path
) -> None:
    dead_letter(ops_ctx, "order-1001")
    dead_letter(ops_ctx, "order-1002")
    seed_activity(ops_ctx)
    key = key_for("admin")
    wait = WebDriverWait(browser, 10)
    with serve_asgi(ops_app) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        browser.get(f"{base_url}/ops")
        field = wait.until(ec.presence_of_element_located((By.ID, "api_key")))
        assert browser.title.startswith("Sign in")
        field.send_keys(key)
        browser.find_element(By.ID, "sign-in").click()

        wait.until(ec.presence_of_element_located((By.ID, "dead-letters")))
        assert browser.find_element(By.ID, "dead-letter-count").text == "2"
        # The nonce'd stylesheet applied under the page's CSP (no inline-style violations).
        header = browser.find_element(By.TAG_NAME, "header")
        assert header.value_of_css_property("background-color") == "rgba(26, 54, 93, 1)"
        rows = _rows(browser)
        assert set(rows) == {"order-1001", "order-1002"}
        assert len(browser.find_elements(By.CSS_SELECTOR, "#sla svg.chart g.bar")) == 4
        assert len(browser.find_elements(By.CSS_SELECTOR, "#exceptions svg.chart g.bar")) == 2
        circuit = '#carriers tr[data-account="ups-main"] td.state-open'
        assert browser.find_element(By.CSS_SELECTOR, circuit).text == "open"
        browser.save_screenshot(str(tmp_path / "ops-before.png"))

        button = rows["order-1001"].find_element(By.CSS_SELECTOR, "button.replay")
        button.click()
        wait.until(ec.staleness_of(button))
        notice = wait.until(ec.presence_of_element_located((By.ID, "notice")))
        assert "replayed" in notice.text
        assert set(_rows(browser)) == {"order-1002"}
        assert browser.find_element(By.ID, "dead-letter-count").text == "1"
        browser.save_screenshot(str(tmp_path / "ops-after.png"))

        # Cookies: the session is HttpOnly, so page script could never read it.
        cookies = {c["name"]: c for c in browser.get_cookies()}
        assert cookies["wb_ops_session"]["httpOnly"] and cookies["wb_ops_csrf"]["httpOnly"]
        assert cookies["wb_ops_session"]["sameSite"] == "Strict"
        assert browser.execute_script("return document.cookie") == ""

        browser.find_element(By.ID, "sign-out").click()
        wait.until(ec.presence_of_element_located((By.ID, "api_key")))
    assert ops_ctx.queue.join(10)
    assert ops_jobs.RUNS == {"order-1001": 2, "order-1002": 1}
    if os.environ.get("WAYBILL_KEEP_SCREENSHOTS"):
        target = Path(os.environ["WAYBILL_KEEP_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        for name in ("ops-before.png", "ops-after.png"):
            (target / name).write_bytes((tmp_path / name).read_bytes())
