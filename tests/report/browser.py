"""Headless Chromium (Debian's `chromium`) as a test instrument: a screenshot of a page, and a probe of
it (text of each <section>, natural size of each <img>, and every network request the page started).

The probe is a page next to the report that iframes it (same file origin, allowed by
--allow-file-access-from-files) and writes what it finds into its own DOM, which --dump-dom prints.
Requests come from Chromium's net log: the page's own requests carry the page's origin as initiator
("file://"), the browser's background traffic (updates, time, sign-in) carries "not an origin".
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT_S = 60
BROWSER_OWN = "not an origin"  # initiator of Chromium's own requests (component updater, time, sign-in)

PROBE = """<!doctype html><html><body><pre id="result">pending</pre>
<iframe id="page" src="{page}" style="width:1200px;height:900px" onload="probe()"></iframe>
<script>
function probe() {{
  const doc = document.getElementById("page").contentDocument;
  const out = {{sections: {{}}, images: []}};
  for (const s of doc.querySelectorAll("section")) out.sections[s.id] = s.innerText.trim().length;
  for (const img of doc.images) out.images.push({{alt: img.alt, complete: img.complete, width: img.naturalWidth,
                                                  height: img.naturalHeight}});
  document.getElementById("result").textContent = JSON.stringify(out);
}}
</script></body></html>"""


@dataclass(frozen=True)
class Probe:
    sections: dict[str, int]  # section id -> length of its visible text
    images: list[dict[str, object]]  # alt, complete, width, height (natural size, 0 = not decoded)
    page_requests: list[str]  # URLs the page (not the browser itself) asked the network for


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
    return subprocess.run([CHROMIUM, "--headless", *sandbox, f"--user-data-dir={profile}", "--no-first-run",
                           "--disable-background-networking", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=True)


def probe(page: Path, work: Path) -> Probe:
    probe_page = page.parent / f"probe-{page.stem}.html"
    probe_page.write_text(PROBE.format(page=page.name), encoding="utf-8")
    net_log = work / f"net-{page.stem}.json"
    done = _chromium(["--allow-file-access-from-files", f"--log-net-log={net_log}", "--virtual-time-budget=5000",
                      "--dump-dom", probe_page.as_uri()], work / "profile")
    start = done.stdout.index('<pre id="result">') + len('<pre id="result">')
    found = json.loads(done.stdout[start:done.stdout.index("</pre>", start)])
    return Probe(found["sections"], found["images"], page_requests(net_log))


def page_requests(net_log: Path) -> list[str]:
    """URLs of the URL requests in a Chromium net log that a page started (initiator is an origin)."""
    log = json.loads(net_log.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    starts = [e.get("params", {}) for e in log["events"] if e["type"] == start_job]
    return [p["url"] for p in starts if "url" in p and p.get("initiator") != BROWSER_OWN]  # end events have no url


def screenshot(page: Path, work: Path, size: tuple[int, int] = (1200, 2400)) -> Path:
    shot = work / f"{page.stem}.png"
    _chromium([f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}", page.as_uri()], work / "profile")
    return shot
