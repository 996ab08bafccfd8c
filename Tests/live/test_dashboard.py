"""The operator dashboard (/dashboard) in a real browser: Debian's headless Chromium driven by
selenium through chromium-driver, against the real binary with completed, failed, hostile and
dead-lettered work made through the real API.

scripts/browser-tools installs the browser and exports MEDIAJOBS_TEST_CHROMIUM and
MEDIAJOBS_TEST_CHROMEDRIVER; without them these tests fail (they never skip).

The tests share one server and one browser and run in file order, as an operator would click
through: sign in, look, act, sign out. Every test leaves the browser's console messages and the
requests it made to the module's records; the last tests check that none was an error and none
went to another origin. Screenshots go to the test's tmp dir (and to
$MEDIAJOBS_TEST_SCREENSHOTS when set)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

import pytest
import requests

from conftest import Receiver, free_port, launch_stack, png_size, wait_for

ADMIN_KEY = "dashboard-admin-key"
CLIENT_KEYS = ("client-key-one", "client-key-two")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOSTILE_PROMPT = '<script>window.__pwned = 1</script><b id="injected">bold</b> & "quotes" \'too\''
HOSTILE_METADATA = {"note": '<img id="injected-meta" src="x" onerror="window.__pwned = 2">', "</pre><b id=\"injected-key\">": "k"}
DEADLINE = 60.0

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError as error:  # pragma: no cover - reported as a failure below
    webdriver = None
    _selenium_error = error


# --------------------------------------------------------------------------
# the browser
# --------------------------------------------------------------------------


def _browser_paths() -> tuple[str, str]:
    if webdriver is None:
        pytest.fail(f"selenium is not installed ({_selenium_error}): pip install -r Tests/live/requirements.txt", pytrace=False)
    chromium = os.environ.get("MEDIAJOBS_TEST_CHROMIUM")
    driver = os.environ.get("MEDIAJOBS_TEST_CHROMEDRIVER")
    if not chromium or not driver:
        pytest.fail("MEDIAJOBS_TEST_CHROMIUM and MEDIAJOBS_TEST_CHROMEDRIVER must name Chromium and chromedriver: "
                    "`source scripts/browser-tools` (scripts/test does) installs them and sets both", pytrace=False)
    for path in (chromium, driver):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.fail(f"{path!r} is not an executable file (MEDIAJOBS_TEST_CHROMIUM / MEDIAJOBS_TEST_CHROMEDRIVER)", pytrace=False)
    return chromium, driver


class Browser:
    """One headless Chromium window at 1280 px, with the console and network logs kept."""

    def __init__(self, workdir: Path, base: str):
        chromium, driver = _browser_paths()
        self.base = base
        self.shots = workdir / "screenshots"
        self.shots.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                     "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-sync",
                     "--disable-component-update", "--disable-default-apps", "--disable-extensions",
                     "--autoplay-policy=no-user-gesture-required", "--mute-audio", f"--user-data-dir={workdir / 'profile'}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=driver, log_output=str(workdir / "chromedriver.log")), options=options)
        self.driver.set_page_load_timeout(DEADLINE)
        self.console: list[dict] = []
        self.requests: list[str] = []

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def wait_css(self, css: str, desc: Optional[str] = None):
        return wait_for(lambda: (self.find_all(css) or [None])[0], DEADLINE, desc=desc or f"element {css}")

    def wait_flash(self, contains: str) -> str:
        def flash() -> Optional[str]:
            try:
                found = self.find_all("#flash")
                return found[0].text if found and contains in found[0].text else None
            except StaleElementReferenceException:
                return None  # the page replaced the message while it was read: look again
        return wait_for(flash, DEADLINE, desc=f"a message saying {contains!r}")

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        keep = os.environ.get("MEDIAJOBS_TEST_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path

    def collect(self) -> None:
        """Moves the browser's console messages and requested URLs into the records."""
        self.console += self.driver.get_log("browser")
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])

    def quit(self) -> None:
        self.driver.quit()


# --------------------------------------------------------------------------
# the service and its data
# --------------------------------------------------------------------------


class Dashboard:
    """The running stack, the browser, and the ids of the work made for the tests."""

    def __init__(self, stack, browser: Browser, receiver_port: int, workdir: Path):
        self.st = stack
        self.browser = browser
        self.receiver_port = receiver_port
        self.workdir = workdir
        self.failed_id = ""
        self.music_id = ""
        self.hostile_id = ""
        self.image_id = ""
        self.video_id = ""

    def admin(self, path: str, method: str = "GET") -> Any:
        r = requests.request(method, self.st.base + path, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=DEADLINE)
        assert r.status_code == 200, f"{method} {path} -> {r.status_code} {r.text[:300]}"
        return r.json()

    def client(self, key: str) -> dict:
        return {"Authorization": f"Bearer {key}"}

    def task(self, tid: str, key: str) -> dict:
        r = requests.get(f"{self.st.base}/v1/tasks/{tid}", headers=self.client(key), timeout=DEADLINE)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_task(self, tid: str, key: str, want: str) -> dict:
        task = wait_for(lambda: (lambda t: t if t["status"] in ("completed", "failed", "canceled") else None)(self.task(tid, key)),
                        DEADLINE, desc=f"task {tid} to finish")
        assert task["status"] == want, task
        return task

    def submit_music(self, prompt: str, key: str, **fields: Any) -> str:
        body = {"prompt": prompt, "style": "lo-fi", "title": "Rain", "make_instrumental": True, **fields}
        r = requests.post(f"{self.st.base}/suno/submit/music", json=body, headers=self.client(key), timeout=DEADLINE)
        assert r.status_code == 200, r.text
        return r.json()["data"]["task_id"]

    def submit_image(self, prompt: str, key: str) -> str:
        body = {"model": "nano-banana-2", "prompt": prompt, "n": 1, "size": "256x256"}
        r = requests.post(f"{self.st.base}/v1/images/generations", json=body, headers={**self.client(key), "Prefer": "respond-async"},
                          timeout=DEADLINE)
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def submit_video(self, prompt: str, key: str, seconds: int, size: str) -> str:
        body = {"prompt": prompt, "seconds": str(seconds), "size": size}
        r = requests.post(f"{self.st.base}/v1/videos", json=body, headers=self.client(key), timeout=DEADLINE)
        assert r.status_code == 200, r.text
        return r.json()["id"]

    def sign_in(self) -> None:
        sign_in(self.browser)


def sign_in(b: Browser) -> None:
    """Signs `b` in with the admin key unless it already has a session."""
    b.open("/dashboard")
    if b.find_all("#admin-key"):
        b.find("#admin-key").send_keys(ADMIN_KEY)
        b.find("#sign-in-form button").click()
    b.wait_css("#sign-out", "the signed-in page")


@pytest.fixture(scope="module")
def dash(mediajobs_bin, tmp_path_factory) -> Iterator[Dashboard]:
    _browser_paths()
    workdir = tmp_path_factory.mktemp("dashboard")
    receiver_port = free_port()
    # The upstream fails exactly the first task (the one to retry); one webhook attempt, so the
    # delivery to the receiver that is not listening yet is dead at once.
    serve_args = ["--admin-key", ADMIN_KEY, "--api-keys", ",".join(CLIENT_KEYS), "--allow-private-networks",
                  "--webhook-secret", SECRET, "--webhook-retry-schedule", "0s"]
    with launch_stack(mediajobs_bin, workdir / "stack", latency="300ms", fail_first_tasks=1, serve_args=serve_args) as st:
        browser = Browser(workdir, st.base)
        try:
            d = Dashboard(st, browser, receiver_port, workdir)
            one, two = CLIENT_KEYS
            d.failed_id = d.submit_music("the first task, failed by the upstream", one)
            d.wait_task(d.failed_id, one, "failed")
            d.music_id = d.submit_music("A dreamy lo-fi beat with soft piano", one)
            d.hostile_id = d.submit_music(HOSTILE_PROMPT, two, callback_url=f"http://127.0.0.1:{receiver_port}/hook",
                                          metadata=HOSTILE_METADATA)
            d.image_id = d.submit_image("A red fox in the snow, watercolor", two)
            d.video_id = d.submit_video("A paper boat on a stream", one, seconds=3, size="854x480")
            for tid, key in ((d.music_id, one), (d.hostile_id, two), (d.image_id, two), (d.video_id, one)):
                d.wait_task(tid, key, "completed")
            wait_for(lambda: d.admin("/admin/v1/stats")["webhooks"]["dead"] == 1 or None, DEADLINE, desc="the dead-lettered delivery")
            yield d
        finally:
            browser.quit()


@pytest.fixture(autouse=True)
def _records(request):
    """After each test, the browser's console and requests go to the module's records."""
    yield
    if "dash" in request.fixturenames:
        request.getfixturevalue("dash").browser.collect()


# --------------------------------------------------------------------------
# the tests, in an operator's order
# --------------------------------------------------------------------------


def test_sign_in_refuses_a_wrong_key_then_takes_the_right_one(dash):
    b = dash.browser
    b.open("/dashboard")
    field = b.wait_css("#admin-key")
    assert field.get_attribute("type") == "password"
    assert b.find("label[for='admin-key']").text
    field.send_keys("not-the-key")
    b.find("#sign-in-form button").click()
    assert "not valid" in b.wait_flash("not valid")
    assert b.find_all("#admin-key") and not b.find_all("#sign-out"), "a wrong key must not sign in"
    b.screenshot("sign-in-refused")
    b.find("#admin-key").send_keys(ADMIN_KEY)
    b.find("#sign-in-form button").click()
    b.wait_css("#overview", "the overview after signing in")
    [cookie] = [c for c in b.driver.get_cookies() if c["name"] == "mediajobs_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/", cookie
    assert b.script("return document.cookie") == "", "the session cookie must be invisible to scripts"


def test_overview_shows_the_numbers_of_admin_stats(dash):
    b = dash.browser
    dash.sign_in()
    b.open("/dashboard")
    b.wait_css("#overview [data-stat='in_flight']")
    stats = dash.admin("/admin/v1/stats")
    # Read in one script: the auto-refresh replaces these elements in place, so elements found in
    # one call may be gone by the next.
    shown = b.script("return Object.fromEntries([...document.querySelectorAll('#overview [data-stat]')]"
                     ".map(e => [e.getAttribute('data-stat'), e.getAttribute('data-value')]))")

    def at(path: str) -> Any:
        value: Any = stats
        for part in path.split("."):
            value = value[part]
        return value

    expected = {"in_flight": stats["in_flight"], "storage.bytes": stats["storage"]["bytes"], "storage.files": stats["storage"]["files"],
                "webhooks.pending": stats["webhooks"]["pending"], "webhooks.dead": stats["webhooks"]["dead"],
                "pruned.expired_files": sum(v["files"] for v in stats["pruned"]["expired_by_kind"].values()),
                "tasks.total": stats["tasks"]["total"]}
    for kind, counts in stats["tasks"]["by_kind"].items():
        for status, n in counts.items():
            expected[f"tasks.by_kind.{kind}.{status}"] = n
    for status, n in stats["tasks"]["by_status"].items():
        expected[f"tasks.by_status.{status}"] = n
    for status, n in stats["webhooks"]["by_status"].items():
        expected[f"webhooks.by_status.{status}"] = n
    for key, value in expected.items():
        assert key in shown, f"the overview does not show {key}"
        assert int(shown[key]) == value, f"{key}: the overview shows {shown[key]}, /admin/v1/stats says {value}"
    assert expected["tasks.total"] == 5 and expected["webhooks.dead"] == 1, expected
    # Free space moves with the disk; it must be the same order of magnitude as the API's.
    free = int(shown["disk_free_bytes"])
    assert abs(free - stats["disk_free_bytes"]) <= max(stats["disk_free_bytes"] // 10, 1 << 20), (free, stats["disk_free_bytes"])
    assert shown["oldest_queued_age_seconds"] == "" and stats["oldest_queued_age_seconds"] is None
    b.screenshot("overview")
    # The auto-refresh replaces the numbers in place: the time stamp moves on without a page load.
    b.script("window.__samePage = true")
    generated_at = "return document.querySelector('#generated-at').getAttribute('data-value')"
    first = b.script(generated_at)
    wait_for(lambda: b.script(generated_at) != first or None, 30, desc="the overview to refresh itself")
    assert b.script("return window.__samePage === true"), "the refresh reloaded the whole page"


def test_task_list_filters_by_kind_and_status_and_pages(dash):
    b = dash.browser
    dash.sign_in()
    b.open("/dashboard/tasks")
    rows = b.find_all("#task-list tbody tr[data-task]")
    assert [r.get_attribute("data-task") for r in rows] == [dash.video_id, dash.image_id, dash.hostile_id, dash.music_id, dash.failed_id], "newest first"
    Select(b.find("#filter-kind")).select_by_value("image")
    b.find("#apply-filters").click()
    wait_for(lambda: "kind=image" in b.driver.current_url or None, DEADLINE, desc="the kind filter")
    assert [r.get_attribute("data-task") for r in b.find_all("#task-list tbody tr[data-task]")] == [dash.image_id]
    Select(b.find("#filter-kind")).select_by_value("")
    Select(b.find("#filter-status")).select_by_value("failed")
    b.find("#apply-filters").click()
    wait_for(lambda: "status=failed" in b.driver.current_url or None, DEADLINE, desc="the status filter")
    rows = b.find_all("#task-list tbody tr[data-task]")
    assert [(r.get_attribute("data-task"), r.get_attribute("data-status")) for r in rows] == [(dash.failed_id, "failed")]
    b.open("/dashboard/tasks?limit=4")
    assert len(b.find_all("#task-list tbody tr[data-task]")) == 4
    b.find("#next-page").click()
    wait_for(lambda: "after=" in b.driver.current_url or None, DEADLINE, desc="the next page")
    assert [r.get_attribute("data-task") for r in b.find_all("#task-list tbody tr[data-task]")] == [dash.failed_id]
    assert b.find_all("#first-page") and not b.find_all("#next-page")


def test_task_pages_play_audio_and_show_images_of_every_key(dash):
    b = dash.browser
    dash.sign_in()
    b.open(f"/dashboard/tasks/{dash.music_id}")
    assert b.text("#task-status") == "completed"
    audio = b.wait_css("figure.media audio", "an <audio> element")
    assert audio.get_attribute("src").startswith(f"{dash.st.base}/files/{dash.music_id}/")
    # HAVE_METADATA (1) or more: the browser fetched the file through the session and read its duration.
    state = wait_for(lambda: (lambda s: s if s["readyState"] >= 1 else None)(
        b.script("const a = document.querySelector('figure.media audio'); return {readyState: a.readyState, duration: a.duration, error: a.error && a.error.code}")),
        DEADLINE, desc="the <audio> to load its metadata")
    assert state["duration"] > 0 and state["error"] is None, state
    b.screenshot("task-music")

    # The image belongs to the other client key: the operator's session sees it all the same.
    b.open(f"/dashboard/tasks/{dash.image_id}")
    img = b.wait_css("figure.media img", "an <img> element")
    size = wait_for(lambda: (lambda s: s if s["complete"] and s["w"] > 0 else None)(
        b.script("const i = document.querySelector('figure.media img'); return {complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}")),
        DEADLINE, desc="the <img> to load")
    [artifact] = dash.task(dash.image_id, CLIENT_KEYS[1])["artifacts"]
    data = requests.get(artifact["url"], headers=dash.client(CLIENT_KEYS[1]), timeout=DEADLINE).content
    assert (size["w"], size["h"]) == png_size(data), (size, png_size(data))
    assert img.get_attribute("alt")
    # Without the session, the same file is refused: /files still needs a key otherwise.
    assert requests.get(img.get_attribute("src"), timeout=DEADLINE).status_code == 401
    b.screenshot("task-image")


def test_a_video_task_plays_in_place(dash):
    """The stored MP4 (H.264, from the simulator) in a <video>: Chromium reads its duration and
    picture size and plays it."""
    b = dash.browser
    dash.sign_in()
    b.open(f"/dashboard/tasks/{dash.video_id}")
    video = b.wait_css("figure.media video", "a <video> element")
    assert video.get_attribute("src").startswith(f"{dash.st.base}/files/{dash.video_id}/")
    state = wait_for(lambda: (lambda s: s if s["readyState"] >= 1 or s["error"] else None)(
        b.script("const v = document.querySelector('figure.media video'); "
                 "return {readyState: v.readyState, duration: v.duration, w: v.videoWidth, h: v.videoHeight, error: v.error && v.error.code}")),
        DEADLINE, desc="the <video> to load its metadata")
    assert state["error"] is None, state
    assert abs(state["duration"] - 3) < 0.2 and (state["w"], state["h"]) == (854, 480), state
    b.script("const v = document.querySelector('figure.media video'); v.muted = true; v.play();")
    played = wait_for(lambda: (lambda t: t if t > 0.2 else None)(b.script("return document.querySelector('figure.media video').currentTime")),
                      DEADLINE, desc="the <video> to play")
    assert played > 0.2
    b.screenshot("task-video")


def test_a_prompt_with_html_shows_as_text(dash):
    b = dash.browser
    dash.sign_in()
    b.open(f"/dashboard/tasks/{dash.hostile_id}")
    assert b.text("#prompt") == HOSTILE_PROMPT
    assert not b.find_all("#injected"), "the prompt's markup became an element"
    assert b.script("return window.__pwned") is None, "the prompt's script ran"
    assert "<script>window.__pwned = 1" in b.text("#task-json")
    # The client's metadata, keys and values, is text in the task's JSON too.
    assert json.loads(b.text("#task-json"))["metadata"] == HOSTILE_METADATA
    assert not b.find_all("#injected-meta, #injected-key"), "the metadata's markup became an element"
    b.open("/dashboard/tasks")
    assert b.text(f"#task-list tr[data-task='{dash.hostile_id}'] td.prompt") == HOSTILE_PROMPT
    assert not b.find_all("#injected") and b.script("return window.__pwned") is None


def test_redeliver_of_a_dead_webhook_ends_delivered(dash):
    b = dash.browser
    dash.sign_in()
    receiver = Receiver(dash.workdir / "receiver", secret=SECRET, port=dash.receiver_port).start()
    try:
        b.open("/dashboard/webhooks?status=dead")
        [row] = b.find_all("table.deliveries tr[data-delivery]")
        delivery = row.get_attribute("data-delivery")
        assert row.get_attribute("data-status") == "dead"
        b.screenshot("webhooks-dead")
        b.script("window.__samePage = true")
        row.find_element(By.CSS_SELECTOR, "button").click()
        b.wait_flash(f"Delivery {delivery} scheduled again")
        assert b.script("return window.__samePage === true"), "the action reloaded the whole page"
        wait_for(lambda: [d for d in dash.admin("/admin/v1/webhooks/deliveries?status=delivered")["data"] if str(d["id"]) == delivery] or None,
                 DEADLINE, desc="the redelivered webhook to be delivered")
        got = [e for e in receiver.entries() if e.get("task_id") == dash.hostile_id]
        assert got and got[0]["verified"], got
        b.open("/dashboard/webhooks")
        assert b.find(f"tr[data-delivery='{delivery}']").get_attribute("data-status") == "delivered"
        assert not b.find_all("#redeliver-dead"), "no dead letters are left"
    finally:
        receiver.stop()


def test_redeliver_all_sends_every_dead_webhook_again(dash):
    """Two more deliveries dead-lettered (nothing listens on their callback yet): "Redeliver all"
    schedules both, and both end delivered. On the way, the deliveries page pages and each task's
    page lists its own deliveries."""
    b = dash.browser
    dash.sign_in()
    port = free_port()
    one = CLIENT_KEYS[0]
    ids = [dash.submit_music(f"a dead letter, number {n}", one, callback_url=f"http://127.0.0.1:{port}/hook") for n in (1, 2)]
    for tid in ids:
        dash.wait_task(tid, one, "completed")
    wait_for(lambda: dash.admin("/admin/v1/stats")["webhooks"]["dead"] == 2 or None, DEADLINE, desc="two dead-lettered deliveries")
    b.open("/dashboard/webhooks?status=dead")
    rows = b.find_all("table.deliveries tr[data-delivery]")
    dead = {r.get_attribute("data-delivery") for r in rows}
    assert len(dead) == 2 and {r.get_attribute("data-status") for r in rows} == {"dead"}
    assert "2" in b.text("#redeliver-dead")

    # Three deliveries in all, two a page: the next page has the oldest, the hostile task's.
    b.open("/dashboard/webhooks?limit=2")
    first = [r.get_attribute("data-delivery") for r in b.find_all("table.deliveries tr[data-delivery]")]
    assert set(first) == dead, first
    b.find("#next-page").click()
    wait_for(lambda: "after=" in b.driver.current_url or None, DEADLINE, desc="the next page of deliveries")
    [older] = b.find_all("table.deliveries tr[data-delivery]")
    assert int(older.get_attribute("data-delivery")) < min(int(d) for d in dead)
    assert older.find_element(By.CSS_SELECTOR, "a").text == dash.hostile_id
    assert b.find_all("#first-page") and not b.find_all("#next-page")

    b.open(f"/dashboard/tasks/{ids[0]}")
    shown = b.find_all("table.deliveries tr[data-delivery]")
    assert len(shown) == 1 and shown[0].get_attribute("data-delivery") in dead
    assert shown[0].find_element(By.CSS_SELECTOR, "a").text == ids[0]

    receiver = Receiver(dash.workdir / "receiver-all", secret=SECRET, port=port).start()
    try:
        b.open("/dashboard/webhooks")
        b.find("#redeliver-dead").click()
        b.wait_flash("2 dead deliveries scheduled again")
        wait_for(lambda: dead <= {str(d["id"]) for d in dash.admin("/admin/v1/webhooks/deliveries?status=delivered")["data"]} or None,
                 DEADLINE, desc="both redelivered webhooks to be delivered")
        got = {e.get("task_id") for e in receiver.entries() if e.get("verified")}
        assert set(ids) <= got, receiver.entries()
        b.open("/dashboard/webhooks")
        assert {b.find(f"tr[data-delivery='{d}']").get_attribute("data-status") for d in dead} == {"delivered"}
        assert not b.find_all("#redeliver-dead"), "no dead letters are left"
        b.screenshot("webhooks-redelivered-all")
    finally:
        receiver.stop()


def test_cancel_of_an_unfinished_task(stack_factory, tmp_path):
    """On a stack of its own whose upstream takes 30 s (the shared one finishes tasks in 0.3 s), with
    its own browser: the task page's Cancel ends a queued or processing task as canceled."""
    serve_args = ["--admin-key", ADMIN_KEY, "--api-keys", CLIENT_KEYS[0]]
    st = stack_factory("slow", latency="30s", serve_args=serve_args)
    b = Browser(tmp_path / "browser", st.base)
    try:
        key = {"Authorization": f"Bearer {CLIENT_KEYS[0]}"}
        r = requests.post(f"{st.base}/suno/submit/music", json={"prompt": "a slow song to cancel"}, headers=key, timeout=DEADLINE)
        assert r.status_code == 200, r.text
        tid = r.json()["data"]["task_id"]
        sign_in(b)
        b.open(f"/dashboard/tasks/{tid}")
        assert b.text("#task-status") in ("queued", "processing")
        b.find("#cancel").click()
        b.wait_flash("Task canceled")
        assert b.text("#task-status") == "canceled"
        assert not b.find_all("#cancel") and not b.find_all("#retry"), "a canceled task has no actions"
        task = requests.get(f"{st.base}/v1/tasks/{tid}", headers=key, timeout=DEADLINE).json()
        assert task["status"] == "canceled", task
        b.screenshot("task-canceled")
        b.collect()
        errors = [m for m in b.console if m.get("level") in ("SEVERE", "ERROR")]
        assert errors == [], errors
    finally:
        b.quit()


def test_retry_of_a_failed_task(dash):
    b = dash.browser
    dash.sign_in()
    b.open(f"/dashboard/tasks/{dash.failed_id}")
    assert b.text("#task-status") == "failed" and b.text("#fail-reason")
    assert not b.find_all("#cancel"), "a finished task cannot be canceled"
    b.screenshot("task-failed")
    b.find("#retry").click()
    b.wait_flash("sent back to the queue")
    dash.wait_task(dash.failed_id, CLIENT_KEYS[0], "completed")
    b.open(f"/dashboard/tasks/{dash.failed_id}")
    assert b.text("#task-status") == "completed" and not b.find_all("#retry")


def test_prune_shows_a_dry_run_then_runs_when_confirmed(dash):
    b = dash.browser
    dash.sign_in()
    before = dash.admin("/admin/v1/stats")
    b.open("/dashboard/storage")
    b.find("#max-total-size").send_keys("1B")
    Select(b.find("#prune-kind")).select_by_value("image")
    b.find("#dry-run").click()
    b.wait_flash("Dry run")
    report = b.find("#prune-report")
    assert report.get_attribute("data-dry-run") == "true"
    files = int(b.text("#report-files"))
    assert files == before["storage"]["by_kind"]["image"]["files"] >= 1
    assert dash.admin("/admin/v1/stats")["storage"] == before["storage"], "a dry run removed something"
    b.screenshot("prune-dry-run")
    b.find("#confirm-prune").click()
    b.wait_flash(f"Pruned {files} files")
    assert b.find("#prune-report").get_attribute("data-dry-run") == "false"
    after = dash.admin("/admin/v1/stats")
    assert after["storage"]["by_kind"]["image"]["files"] == 0
    assert after["storage"]["by_kind"]["music"] == before["storage"]["by_kind"]["music"]
    assert after["pruned"]["expired_by_kind"]["image"]["files"] == before["pruned"]["expired_by_kind"]["image"]["files"] + files


def test_actions_need_the_form_token_and_this_origin(dash):
    b = dash.browser
    dash.sign_in()
    cookie = {c["name"]: c["value"] for c in b.driver.get_cookies()}
    s = requests.Session()
    s.cookies.update(cookie)
    url = f"{dash.st.base}/dashboard/webhooks/redeliver-dead"
    assert s.post(url, data={"csrf": "forged"}, timeout=DEADLINE, allow_redirects=False).status_code == 403
    b.open("/dashboard/webhooks")
    token = b.find("form.sign-out input[name='csrf']").get_attribute("value")
    assert s.post(url, data={"csrf": token}, headers={"Origin": "http://evil.example"}, timeout=DEADLINE,
                  allow_redirects=False).status_code == 403
    r = s.get(f"{dash.st.base}/dashboard", timeout=DEADLINE)
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp


def test_phone_width_and_keyboard(dash):
    b = dash.browser
    dash.sign_in()
    b.driver.set_window_size(390, 844)
    try:
        b.open(f"/dashboard/tasks/{dash.music_id}")
        b.screenshot("phone-task")
        overflow = b.script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the page is {overflow} px wider than a phone's screen"
        # Every control has a label (its own text, a <label for>, or aria-label).
        unlabeled = b.script("""
            return Array.from(document.querySelectorAll('input:not([type=hidden]), select, button')).filter(function (c) {
              return !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim();
            }).map(function (c) { return c.outerHTML; });""")
        assert unlabeled == [], unlabeled
        # Tab reaches the navigation links and the sign-out button.
        reached = b.script("""
            return Array.from(document.querySelectorAll('a[href], button, input:not([type=hidden]), select, audio[controls]'))
              .filter(function (e) { return e.tabIndex >= 0; }).length;""")
        assert reached >= 5, reached
    finally:
        b.driver.set_window_size(1280, 1000)


def test_sign_out_ends_the_session_on_the_server(dash):
    b = dash.browser
    dash.sign_in()
    old = {c["name"]: c["value"] for c in b.driver.get_cookies()}["mediajobs_session"]
    b.find("#sign-out").click()
    b.wait_flash("Signed out")
    assert b.find_all("#admin-key"), "signing out shows the sign-in form"
    r = requests.get(f"{dash.st.base}/dashboard/tasks", cookies={"mediajobs_session": old}, timeout=DEADLINE, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard", "the old session still works"
    b.open("/dashboard/tasks")
    assert b.find_all("#admin-key"), "a page without a session asks for the key"


def test_the_browser_logged_no_errors(dash):
    dash.browser.collect()
    errors = [m for m in dash.browser.console if m.get("level") in ("SEVERE", "ERROR")]
    assert errors == [], errors
    assert dash.browser.requests, "no requests were recorded"


def test_the_browser_asked_no_other_origin(dash):
    dash.browser.collect()
    own = urlsplit(dash.st.base).netloc
    foreign = [u for u in dash.browser.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != own]
    assert foreign == [], foreign
