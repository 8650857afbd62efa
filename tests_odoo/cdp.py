"""Headless Chromium driven over its DevTools protocol, for tests_odoo/screens.py (run with
Odoo's python, which has websocket-client). One argument, a JSON script:

    {"base": "http://127.0.0.1:18400", "out": DIR, "sandbox": URL, "steps": [{...}, ...]}

steps: {"login": true} (admin/admin); {"shot": NAME, "url": PATH (optional), "wait": SELECTOR}
(open PATH, wait for SELECTOR, which may end in :contains(text), save NAME.png);
{"click": SELECTOR, "optional": true (only if it shows within 8 s)}; {"pay": DEVICE} (the
customer taps a card on the sandbox's Helcim device).
"""

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client, in Odoo's requirements

FIND = """(sel) => {
  const m = sel.match(/^(.*):contains\\((.*)\\)$/);
  const [css, text] = m ? [m[1], m[2]] : [sel, null];
  return [...document.querySelectorAll(css)].find(e => !text || e.textContent.includes(text)) || null;
}"""


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.n = 0

    def send(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression):
        r = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        return r.get("result", {}).get("value")

    def wait(self, selector, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.js(f"!!({FIND})({json.dumps(selector)})"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"not found in {seconds} s: {selector}")

    def goto(self, url):
        self.send("Page.navigate", url=url)
        time.sleep(1.0)


def main():
    script = json.loads(sys.argv[1])
    base = script["base"]
    exe = next(filter(None, map(shutil.which, ("chromium", "google-chrome", "chromium-browser"))))
    profile = tempfile.mkdtemp(prefix="posbridge-screens-")
    port = 9333
    chrome = subprocess.Popen([exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                               f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
                               "--window-size=1366,900", "about:blank"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2))
                page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        page = Page(websocket.create_connection(page_ws, timeout=60))
        page.send("Page.enable")
        page.send("Emulation.setDeviceMetricsOverride", width=1366, height=900, deviceScaleFactor=1, mobile=False)
        for step in script["steps"]:
            if "login" in step:
                page.goto(base + "/web/login")
                page.wait("input[name=login]")
                page.js("document.querySelector('input[name=login]').value='admin';"
                        "document.querySelector('input[name=password]').value='admin';"
                        "document.querySelector('form').submit()")
                time.sleep(3)
            elif "shot" in step:
                if step.get("url"):
                    page.goto(base + step["url"])
                page.wait(step["wait"])
                time.sleep(1.0)  # animations, images
                png = page.send("Page.captureScreenshot", format="png")["data"]
                with open(f"{script['out']}/{step['shot']}.png", "wb") as f:
                    f.write(base64.b64decode(png))
                print(f"{step['shot']}.png", flush=True)
            elif "click" in step:
                try:
                    page.wait(step["click"], 8 if step.get("optional") else 30)
                except RuntimeError:
                    if step.get("optional"):
                        continue
                    raise
                page.js(f"({FIND})({json.dumps(step['click'])}).click()")
                time.sleep(1.0)
            elif "pay" in step:
                req = urllib.request.Request(f"{script['sandbox']}/_sandbox/helcim/devices/{step['pay']}/complete",
                                             data=json.dumps({"outcome": "approved", "card_type": "VI"}).encode(),
                                             headers={"content-type": "application/json"}, method="POST")
                urllib.request.urlopen(req, timeout=15).read()
    finally:
        chrome.terminate()
        chrome.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
