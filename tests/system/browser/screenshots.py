"""Screenshots of every page at a laptop (1400x1000) and a phone (390x844) size, to look at.

    python tests/system/browser/screenshots.py OUTDIR [--url URL] [--only NAME ...] [--play]

Without ``--url`` it starts the app itself. ``--play`` presses Play on the Playground
first and shoots while it trains. Not a test: people open the pictures and look.
"""

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from playground.ui.pages import PAGES as APP_PAGES
from playground.ui.pages import PLAYGROUND_PAGE
from tests.system.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server

# Name -> address, from the app's page registry (the default page is the root).
PAGES = {
    Path(p.path).stem: "" if p.path == PLAYGROUND_PAGE else p.url_path or Path(p.path).stem
    for p in APP_PAGES
}
SIZES = {"laptop": (1400, 1000), "phone": (390, 844)}


def shoot(url: str, out: Path, names: list[str], play: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for size, (w, h) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            for name in names:
                page.goto(f"{url}/{PAGES[name]}", wait_until="networkidle")
                page.get_by_role("heading").first.wait_for(timeout=120_000)
                page.wait_for_timeout(8000)  # lessons train their models first
                if play and name == "playground":
                    page.get_by_role("button", name="Play").click()
                    page.wait_for_timeout(6000)
                path = out / f"{name}-{size}.png"
                page.screenshot(path=str(path))
                print(path)
                # Streamlit scrolls an inner box: grow the window for the whole page.
                tall = page.evaluate(
                    "document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
                )
                page.set_viewport_size({"width": w, "height": max(h, int(tall))})
                page.wait_for_timeout(1500)
                page.screenshot(path=str(out / f"{name}-{size}-full.png"))
                page.set_viewport_size({"width": w, "height": h})
            page.close()
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--url")
    ap.add_argument("--only", nargs="*", choices=list(PAGES), default=list(PAGES))
    ap.add_argument("--play", action="store_true")
    args = ap.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"), args.out, args.only, args.play)
        return
    with start_server("streamlit_app.py") as url:
        shoot(url, args.out, args.only, args.play)


if __name__ == "__main__":
    main()
