"""The Predict page with each rerun its in-page browser asks for made slow on purpose, for the browser tests.

Run as its own app: `streamlit run tests/browser/slow_predict_page.py`; SLOW_RERUN_SECONDS sets the delay (5 s),
BROWSER_TIMEOUT_SECONDS how long the page waits for the browser to show its data before falling back (30 s).
"""

import os
import runpy
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from dashboard.components import image_browser  # noqa: E402

SLOW_RERUN_SECONDS = float(os.environ.get("SLOW_RERUN_SECONDS", "5"))
image_browser.TIMEOUT_SECONDS = float(os.environ.get("BROWSER_TIMEOUT_SECONDS", image_browser.TIMEOUT_SECONDS))

if not hasattr(image_browser, "fast_image_browser"):
    image_browser.fast_image_browser = image_browser.image_browser

    def slow_image_browser(payload, payload_id, view, key, on_view, on_failed):
        def slow_on_view():
            time.sleep(SLOW_RERUN_SECONDS)  # the server is busy: the rerun that follows a click comes back late
            on_view()

        image_browser.fast_image_browser(payload, payload_id, view, key, slow_on_view, on_failed)

    image_browser.image_browser = slow_image_browser

runpy.run_path(str(REPO / "app_pages" / "predict.py"), run_name="__main__")
