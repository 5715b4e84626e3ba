"""Opens the Superset dashboard in a real browser and reports what it shows, as JSON.

Runs in .venv-superset (playwright) and drives Debian's chromium-headless-shell through
`executable_path`: playwright downloads no browser.

    python dashboard_browser.py BASE_URL DASHBOARD_PATH USER PASSWORD SCREENSHOT [CHROMIUM]

Prints, as JSON: "title" (the dashboard title as shown, and whether the page cuts it),
"markdown" and "section_headers" (their text), "charts" (each chart in page order: its
title, the big number and its subtitle, or the table's headers and rows as shown),
"chart_data" (the rows every chart fetched, with its slice_id and viz_type), the
requests the page tried outside BASE_URL ("external_requests", "external_failed":
{url: why}, "external_answered"; Chromium reports a request the page's content security
policy blocks as a failed request) and the JavaScript "errors".
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

TIMEOUT_MS = 180_000

# What the dashboard shows, read from the page as a reader sees it (innerText).
PAGE_SCRIPT = """() => {
  const text = element => (element ? element.innerText.trim() : null);
  const title = document.querySelector('[data-test=editable-title-input]');
  const charts = Array.from(document.querySelectorAll('.dashboard-component-chart-holder'))
    .map(holder => {
      // A table chart may draw its header and its body as two tables.
      const table = holder.querySelector('table') !== null;
      return {
        title: text(holder.querySelector('[data-test=editable-title], .header-title')),
        big_number: text(holder.querySelector('.header-line')),
        subtitle: text(holder.querySelector('.subheader-line')),
        has_canvas: holder.querySelector('canvas') !== null,
        headers: table ? Array.from(holder.querySelectorAll('thead th')).map(text) : null,
        rows: table ? Array.from(holder.querySelectorAll('tbody tr')).map(
          row => Array.from(row.querySelectorAll('td')).map(text)) : null,
      };
    })
    .filter(chart => chart.title !== null);  // the markdown has no title
  return {
    title: {text: title ? title.value : null, cut: title ? title.scrollWidth > title.clientWidth : null},
    markdown: Array.from(document.querySelectorAll('.dashboard-markdown')).map(text),
    section_headers: Array.from(document.querySelectorAll('.dashboard-component-header')).map(text),
    charts: charts,
  };
}"""


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
        # Every chart drawn: the big numbers, the tables' rows, the bar chart's canvas.
        page.wait_for_function(
            "() => document.querySelectorAll('.dashboard-component-chart-holder').length > 0 && "
            "Array.from(document.querySelectorAll('.dashboard-component-chart-holder')).every(holder => "
            "!holder.querySelector('.chart-container, .chart-slice') || "
            "holder.querySelector('.header-line, table tbody tr, canvas'))",
            timeout=TIMEOUT_MS,
        )
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        page.wait_for_timeout(2000)  # the bars' animation
        shown = page.evaluate(PAGE_SCRIPT)
        chart_data = []
        for response in chart_responses:
            if response.ok:
                try:
                    form_data = (response.request.post_data_json or {}).get("form_data", {})
                except ValueError:
                    form_data = {}
                for result in response.json().get("result", []):
                    chart_data.append(
                        {
                            "slice_id": form_data.get("slice_id"),
                            "viz_type": form_data.get("viz_type"),
                            "colnames": result.get("colnames"),
                            "data": result.get("data"),
                        }
                    )
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
    return {
        **shown,
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
