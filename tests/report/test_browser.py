"""The analysis report opened in headless Chromium: not blank, every section filled, no broken image, no
request leaving the file. The same probe run on a deliberately bad page shows the checks can fail."""
from __future__ import annotations

import numpy as np
import pytest

from edgebench.report.analysis_html import SECTIONS, build_inputs, write_report
from tests.report import browser
from tests.report.synthetic import effects_tests, surfaces, variant_table

pytestmark = pytest.mark.skipif(browser.CHROMIUM is None, reason="chromium is not installed (Debian package"
                                " `chromium`, listed in .ci/apt-packages.txt): the browser test cannot run")

BAD_PAGE = """<!doctype html><html><body><section id="filled">text<img alt="remote" src="http://127.0.0.1:9/a.png">
<img alt="broken" src="data:image/png;base64,AAAA"><link rel="stylesheet" href="https://fonts.example.invalid/a.css">
</section><section id="empty"> </section></body></html>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    table = variant_table(3, 1)
    inputs = build_inputs(table, title="browser test", surfaces=surfaces(table),
                          effects={"tests": effects_tests(table)}, draws=100)
    return write_report(inputs, folder / "report.html")


def test_the_report_renders_to_a_page_that_is_not_blank(report, tmp_path):
    from PIL import Image

    pixels = np.asarray(Image.open(browser.screenshot(report, tmp_path)).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1200)
    top = pixels[:800]  # the headline and the first plot
    assert top.std() > 20 and (top < 128).mean() > 0.01, "screenshot is blank or nearly so"


def test_every_section_is_present_images_decode_and_nothing_is_fetched(report, tmp_path):
    found = browser.probe(report, tmp_path)
    assert list(found.sections) == list(SECTIONS)
    assert all(length > 20 for length in found.sections.values()), found.sections
    assert len(found.images) >= 5
    broken = [i for i in found.images if not (i["complete"] and i["width"] and i["height"])]
    assert not broken, broken
    assert found.page_requests == [], found.page_requests


def test_the_probe_sees_broken_images_empty_sections_and_remote_requests(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(BAD_PAGE, encoding="utf-8")
    found = browser.probe(page, tmp_path)
    assert found.sections == {"filled": 4, "empty": 0}
    assert [i["width"] for i in found.images] == [0, 0]
    assert sorted(found.page_requests) == ["http://127.0.0.1:9/a.png", "https://fonts.example.invalid/a.css"]
