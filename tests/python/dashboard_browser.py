"""Opens the Superset dashboard in a real browser and reports what it shows, as JSON.

Runs in .venv-superset (playwright) and drives Debian's chromium-headless-shell through
`executable_path`: playwright downloads no browser.

    python dashboard_browser.py BASE_URL DASHBOARD_PATH USER PASSWORD SCREENSHOT [CHROMIUM]

Prints {"headers": [...], "rows": [[...]], "chart_data": [{"colnames": [...], "data": [...]}],
"external_requests": [...], "external_failed": {url: why}, "external_answered": [...],
"errors": [...]}: the page's table chart, the data every chart on it fetched, the
requests the page tried outside BASE_URL (Chromium reports a request the page's content
security policy blocks as a failed request) and the JavaScript errors.
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

TIMEOUT_MS = 180_000


def main(base: str, path: str, user: str, password: str, screenshot: str, chromium: str) -> dict:
    external: list[str] = []
    external_failed: dict[str, str] = {}
    external_answered: list[str] = []
    errors: list[str] = []
    chart_responses = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})

        def outside(url: str) -> bool:
            return not url.startswith((base, "data:", "blob:"))

        def on_request(request) -> None:
            if outside(request.url):
                external.append(request.url)

        def on_request_failed(request) -> None:
            if outside(request.url):
                external_failed[request.url] = request.failure or ""

        def on_response(response) -> None:
            if outside(response.url):
                external_answered.append(response.url)
            elif "/api/v1/chart/data" in response.url:
                chart_responses.append(response)

        page.on("request", on_request)
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        page.on("pageerror", lambda error: errors.append(str(error)))

        page.goto(f"{base}/login/", timeout=TIMEOUT_MS)
        page.fill("#username", user)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url, timeout=TIMEOUT_MS)

        page.goto(f"{base}{path}", timeout=TIMEOUT_MS)
        page.wait_for_selector(".dashboard-chart table tbody tr, table tbody tr", timeout=TIMEOUT_MS)
        page.wait_for_selector("canvas, svg.echarts", timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        headers = page.eval_on_selector_all("table thead th", "cells => cells.map(cell => cell.innerText.trim())")
        rows = page.eval_on_selector_all(
            "table tbody tr",
            "rows => rows.map(row => Array.from(row.querySelectorAll('td')).map(cell => cell.innerText.trim()))",
        )
        chart_data = []
        for response in chart_responses:
            if response.ok:
                for result in response.json().get("result", []):
                    chart_data.append({"colnames": result.get("colnames"), "data": result.get("data")})
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
    return {
        "headers": headers,
        "rows": rows,
        "chart_data": chart_data,
        "external_requests": external,
        "external_failed": external_failed,
        "external_answered": external_answered,
        "errors": errors,
    }


if __name__ == "__main__":
    base_url, dashboard_path, username, secret, screenshot_path = sys.argv[1:6]
    executable = sys.argv[6] if len(sys.argv) > 6 else "/usr/bin/chromium-headless-shell"
    print(json.dumps(main(base_url, dashboard_path, username, secret, screenshot_path, executable)))
