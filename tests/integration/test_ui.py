"""The /ui page in a real headless Chromium against the real stack (jobs included): it opens
with a chart, runs a sweep as a job with live progress, fits a pasted scaling law and judges
a pasted emergence table, all without a request leaving 127.0.0.1.

Screenshots land in ``.screenshots/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from tests.integration.browser import chromium, needs_chromium
from tests.integration.stack import ROOT, Stack
from tests.integration.svgread import groups, line_vertices, marker_positions, parse

pytestmark = needs_chromium
SHOTS = ROOT / ".screenshots"
SVG_NS = "{http://www.w3.org/2000/svg}"
API_KEY = "ui-test-key"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    with chromium() as launched:
        yield launched


def open_tab(browser: Any, url: str) -> tuple[Any, list[str], list[str]]:
    """A tab on ``url`` recording every request and console error."""
    SHOTS.mkdir(exist_ok=True)
    requested: list[str] = []
    errors: list[str] = []
    tab = browser.new_page(viewport={"width": 1280, "height": 1000})
    tab.on("request", lambda r: requested.append(r.url))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(url)
    return tab, requested, errors


@pytest.fixture(scope="module")
def page(browser: Any, jobs_stack: Stack) -> tuple[Any, list[str], list[str]]:
    """One tab on /ui/, shared by the module's tests of the open gateway."""
    return open_tab(browser, f"{jobs_stack.url}/ui/")


@pytest.fixture(scope="module")
def keyed(jobs_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A second gateway with API keys on, over the same services and Redis."""
    gateway = jobs_stack.another_gateway(
        tmp_path_factory.mktemp("keyed"), ZUHUR_GATEWAY_API_KEYS=API_KEY
    )
    yield gateway
    gateway.close()


def chart(tab: Any, selector: str) -> Any:
    """The inline SVG of a chart, parsed."""
    return parse(tab.inner_html(selector))


def test_page_opens_with_a_chart_and_no_request_leaves_loopback(
    page: tuple[Any, list[str], list[str]], jobs_stack: Stack
) -> None:
    tab, requested, errors = page
    tab.wait_for_selector("#perc-chart svg g#sweep-2-S", timeout=120_000)
    root = chart(tab, "#perc-chart")
    for i in range(3):  # n = 1000, 10000, 100000 over 61 grid points
        assert len(line_vertices(root, f"sweep-{i}-S")) == 61
    assert line_vertices(root, "theory").shape == (61, 2)
    first = int(tab.evaluate("document.body.dataset.firstChartMs"))
    print(f"first chart {first} ms after the page's script started")  # shown with pytest -s
    assert first > 0
    tab.screenshot(path=SHOTS / "ui-default.png", full_page=True)
    hosts = {urlsplit(u).netloc for u in requested if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {urlsplit(jobs_stack.url).netloc}, requested
    assert not errors, errors  # nothing refused by the Content-Security-Policy either


def test_a_sweep_run_from_the_form_draws_its_curve_and_progress(
    page: tuple[Any, list[str], list[str]],
) -> None:
    tab, _, errors = page
    tab.fill("input[name=sizes]", "300000, 30000")
    tab.fill("input[name=points]", "41")
    tab.fill("input[name=replicates]", "60")
    tab.fill("input[name=seed]", "9")
    tab.click("#perc-run")
    done = tab.locator("#perc-status", has_text=re.compile(r"^done"))
    done.wait_for(timeout=240_000)  # (wait_for_function would need eval, which the CSP forbids)
    progress = tab.evaluate("window.zuhurProgress")
    assert progress and all(p["total"] == 60 for p in progress), progress
    assert any(p["done"] < p["total"] for p in progress), progress  # seen while running
    assert tab.evaluate("document.querySelector('#perc-progress').value") == 1
    root = chart(tab, "#perc-chart")
    s = line_vertices(root, "sweep-0-S")
    assert len(s) == 41 and len(line_vertices(root, "sweep-1-S")) == 41
    assert s[0, 1] > s[-1, 1]  # S rises with c (SVG y grows downward)
    tab.screenshot(path=SHOTS / "ui-sweep-job.png", full_page=True)
    assert not errors, errors


def test_the_essay_preset_draws_n_50_graphs_beside_the_curve(
    page: tuple[Any, list[str], list[str]],
) -> None:
    tab, _, errors = page
    tab.click("#perc-essay")
    tab.wait_for_selector("#perc-chart svg g#graph-2-nodes", timeout=120_000)
    root = chart(tab, "#perc-chart")
    for i in range(3):  # one drawn graph per c, each with its 50 nodes, marked on the curve
        nodes = [u for g in groups(root, f"graph-{i}-nodes") for u in g.iter(f"{SVG_NS}use")]
        assert len(nodes) == 50
        assert len(marker_positions(root, f"mark-{i}")) == 1
    assert len(line_vertices(root, "sweep-0-S")) == 101
    # the essay's numbers: at c = 0.25 a few nodes, at 4.0 nearly all 50
    text = tab.inner_text("#perc-chart")
    small = int(re.search(r"c = 0.25: largest (\d+) of 50", text).group(1))  # type: ignore[union-attr]
    big = int(re.search(r"c = 4: largest (\d+) of 50", text).group(1))  # type: ignore[union-attr]
    assert small <= 6 and big >= 46
    tab.screenshot(path=SHOTS / "ui-essay.png", full_page=True)
    assert not errors, errors


def test_a_pasted_scaling_law_csv_shows_its_fit(page: tuple[Any, list[str], list[str]]) -> None:
    tab, _, errors = page
    tab.click("button[data-tab=scaling]")
    sizes = [7e7, 3e8, 1.2e9, 4e9, 1.6e10]
    rows = [(n, d, 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28)
            for n in sizes for d in (5e9, 2e10, 1e11, 5e11)]  # fmt: skip
    tab.fill("#scaling-csv", "N,D,loss\n" + "\n".join(f"{n:g},{d:g},{y:.5f}" for n, d, y in rows))
    tab.fill("input[name=target]", "1e25")
    tab.click("#scaling-run")
    tab.wait_for_selector("#scaling-chart svg g#frontier", timeout=120_000)
    table = tab.inner_text("#scaling-params")
    alpha = next(line for line in table.splitlines() if line.startswith("alpha"))
    assert float(alpha.split()[1]) == pytest.approx(0.34, abs=0.01)  # the law the data obey
    frontier = line_vertices(chart(tab, "#scaling-chart"), "frontier")
    assert len(frontier) == 24
    assert "prediction at the target" in tab.inner_text("#scaling-status")
    tab.screenshot(path=SHOTS / "ui-scaling-law.png", full_page=True)
    assert not errors, errors


def test_an_emergence_table_shows_its_verdict(
    page: tuple[Any, list[str], list[str]], jobs_stack: Stack
) -> None:
    tab, _, errors = page
    tab.click("button[data-tab=emergence]")
    tab.click("#emergence-run")
    tab.wait_for_selector("#emergence-chart svg g#series-1-data", timeout=120_000)
    cells = tab.eval_on_selector_all("td.verdict", "cells => cells.map(c => c.textContent)")
    assert cells[0] == "emergent"  # GPT-3 on MMLU, as the README documents
    # the same table through the API gives the same verdicts
    csv = tab.input_value("#emergence-csv").splitlines()[1:]
    names = list(dict.fromkeys(line.split(",")[0] for line in csv))
    assert len(cells) == len(names) == 2
    root = chart(tab, "#emergence-chart")
    assert np.isfinite(line_vertices(root, "series-0-law-logistic")).all()
    tab.screenshot(path=SHOTS / "ui-emergence.png", full_page=True)
    assert not errors, errors


def test_no_request_of_the_whole_session_left_loopback(
    page: tuple[Any, list[str], list[str]], jobs_stack: Stack
) -> None:
    """Every request the tab made in the tests above (sweeps, jobs, SSE, fits, plots)."""
    _, requested, _ = page
    hosts = {urlsplit(u).netloc for u in requested if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {urlsplit(jobs_stack.url).netloc}, requested
    assert any("/events" in u for u in requested) and any("/ui/plots/" in u for u in requested)


def test_with_keys_on_the_page_says_401_until_given_the_key_then_draws(
    browser: Any, keyed: Stack
) -> None:
    """Keys on: without one the page says the gateway needs a key (the console shows the
    refused fetches); with the key (kept in sessionStorage) it draws the default chart, and
    a reload keeps the key for the tab."""
    tab, requested, _ = open_tab(browser, f"{keyed.url}/ui/")
    refused = tab.locator("#perc-status", has_text="401: this gateway needs an API key")
    refused.wait_for(timeout=60_000)
    assert not tab.query_selector("#perc-chart svg")
    assert "error" in (tab.get_attribute("#api-key", "class") or "")
    tab.fill("#api-key", "not-the-key")
    tab.click("#api-key-use")
    tab.locator("#perc-status", has_text="401: the gateway refused this API key").wait_for(
        timeout=60_000
    )
    tab.fill("#api-key", API_KEY)
    tab.click("#api-key-use")
    tab.wait_for_selector("#perc-chart svg g#sweep-2-S", timeout=120_000)
    assert len(line_vertices(chart(tab, "#perc-chart"), "sweep-0-S")) == 61
    assert tab.evaluate("sessionStorage.getItem('zuhur.apiKey')") == API_KEY
    tab.reload()
    tab.wait_for_selector("#perc-chart svg g#sweep-2-S", timeout=120_000)  # no key typed
    tab.screenshot(path=SHOTS / "ui-with-key.png", full_page=True)
    hosts = {urlsplit(u).netloc for u in requested if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {urlsplit(keyed.url).netloc}, requested
    tab.close()
