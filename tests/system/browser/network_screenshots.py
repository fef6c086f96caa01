"""Screenshots of the Playground's "Network" figure (issue 22) at a laptop (1400x1000)
and a phone (390x844) size, for people to look at; not a test.

    python tests/system/browser/network_screenshots.py OUTDIR [--url URL]

Without ``--url`` it starts the app itself. Three networks: 8-8 on XOR, 32x3 on the
spiral, and 1024x8 (drawn as a summary).
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.system.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server

NETWORKS = {
    "xor-8-8": "?problem=xor&hidden=8,8",
    "spiral-32x3": "?problem=spiral&hidden=32,32,32",
    "summary-1024x8": "?problem=xor&hidden=" + ",".join(["1024"] * 8),
}
SIZES = {"laptop": (1400, 1000), "phone": (390, 844)}


def shoot(url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, (w, h) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            for name, query in NETWORKS.items():
                page.goto(f"{url}/{query}", wait_until="networkidle")
                title = page.locator(".gtitle", has_text="Network").first
                title.wait_for(timeout=240_000)
                page.wait_for_timeout(3000)
                # The figure's top at the window's top: as much of it as fits.
                title.evaluate(
                    "e => { e.scrollIntoView({block: 'start'}); "
                    "document.querySelector('[data-testid=\"stMain\"]').scrollBy(0, -70); }"
                )
                page.wait_for_timeout(1000)
                path = out / f"{name}-{size}.png"
                page.screenshot(path=str(path))
                print(path)
            page.close()
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--url")
    args = ap.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"), args.out)
        return
    with start_server("streamlit_app.py") as url:
        shoot(url, args.out)


if __name__ == "__main__":
    main()
