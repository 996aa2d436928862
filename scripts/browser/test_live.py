"""Browser test of the live demo: the board while `simulate --live` posts today's calls.

Run by scripts/browser-test.sh against a `serve` that the player seeded with the hours of today
that have passed and keeps feeding, new customers 60 times faster than real (FC_URL). Within about
a minute, without a reload: the counters change, a countdown crosses into "late", a breach from the
server's scheduler arrives, and a new missed call is announced. Takes the README screenshots of the
live board and of an agent's "my work" (live-*.png in FC_SCREENS). Prints 'live: N passed, N failed'.
"""
import json
import sys
import time
import urllib.parse
import urllib.request

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from test_web import AGENT, SUPERVISOR, URL, browser, check, rows, run, screenshot, sign_in, totals, wait


def countdowns(driver):
    """(obligation id, seconds left) of the rows shown, by the page's own clock."""
    return driver.execute_script("""
        const now = Date.now() / 1000;
        return Array.from(document.querySelectorAll('#board-rows tr')).map(r => {
            const cell = r.querySelector('td.countdown');
            return [r.id, cell ? Number(cell.dataset.due) - now : null];
        });
    """)


def live_events(driver, kind):
    return [e for e in driver.execute_script("return window.fcLive") if e["kind"] == kind]


def open_board(driver, query=""):
    driver.get(URL + "/ui/board" + query)
    # The page marks the stream's opening on <body>: on this hotline an update can arrive at once
    # and replace the "live" status with "updated …" before a poll sees it.
    wait(driver, lambda d: d.execute_script("return document.body.dataset.liveOpen") == "1",
         message="the live stream did not open")
    driver.execute_script("window.fcMarker = 'same page';")


def test_the_board_opens_full_and_mixed(drivers):
    d = drivers["supervisor"]
    sign_in(d, SUPERVISOR)
    open_board(d)
    open_, overdue, risk = totals(d)
    # Seeded with today's hours that have passed: some owed long ago, some due within minutes.
    check(open_ > overdue > 0, f"open {open_}, overdue {overdue}: not a mix of overdue and still running")
    check(risk > 0, f"nothing at risk on a live hotline ({open_} open)")
    check(len(rows(d)) > 20, "the board is nearly empty")
    screenshot(d, "live-board")


def test_a_countdown_runs_out_and_the_breach_arrives_without_a_reload(drivers):
    d = drivers["supervisor"]
    open_board(d, "?state=at_risk")
    screenshot(d, "live-board-at-risk")
    # The rows next to fall due are the first at risk, right after the overdue ones: on the page
    # where the overdue rows end (100 a page). The unfiltered board keeps a row that turns overdue
    # (a filtered one drops it, maybe before its countdown is seen to run out).
    deadline = time.monotonic() + 60
    soon = {}
    while not soon:
        open_board(d)
        overdue = totals(d)[1]
        for page in (overdue // 100 + 1, overdue // 100 + 2):
            open_board(d, f"?page={page}")
            soon = {i: left for i, left in countdowns(d) if left is not None and 2 < left < 75}
            if soon:
                break
        if not soon and time.monotonic() > deadline:
            raise AssertionError(f"no row falls due within 75 s around the overdue ones (overdue {overdue})")
        if not soon:
            time.sleep(5)
    before = totals(d)
    # The page's tick writes "… late" into the countdown and turns the row overdue; a row may be
    # replaced by a fresh copy meanwhile, or leave when a callback comes just in time: watch them all.
    d.execute_script("""
        window.fcLateSeen = null;
        const ids = arguments[0], body = document.getElementById('board-rows');
        new MutationObserver(() => {
            for (const id of ids) {
                const row = document.getElementById(id), cell = row && row.querySelector('td.countdown');
                if (!window.fcLateSeen && cell && cell.textContent.endsWith('late'))
                    window.fcLateSeen = {row: id, text: cell.textContent, classes: row.className};
            }
        }).observe(body, {childList: true, characterData: true, subtree: true});
    """, list(soon))
    try:
        seen = wait(d, lambda d: d.execute_script("return window.fcLateSeen"), timeout=max(soon.values()) + 10)
    except TimeoutException:
        raise AssertionError(f"none of the countdowns {soon} turned late")
    check("overdue" in seen["classes"].split(), f"the row did not turn overdue with its countdown: {seen}")
    # The scheduler breaches it on the server when it falls due (unless a callback came just in
    # time): a breach event reaches this page through the live stream.
    try:
        wait(d, lambda d: live_events(d, "breach"), timeout=60)
    except TimeoutException:
        raise AssertionError(f"no breach arrived on the page; live events: {d.execute_script('return window.fcLive')[:10]}")
    try:
        wait(d, lambda d: totals(d) != before, timeout=30)
    except TimeoutException:
        raise AssertionError(f"the counters stayed at {before}")
    check(d.execute_script("return window.fcMarker") == "same page", "the page reloaded")


def test_new_missed_calls_appear_and_the_counts_change(drivers):
    d = drivers["supervisor"]
    open_board(d, "?state=on_time")
    before = totals(d)
    shown = {r.get_attribute("id") for r in rows(d)}
    try:
        wait(d, lambda d: live_events(d, "changed"), timeout=60)
    except TimeoutException:
        raise AssertionError("no new missed call was announced within 60 s")
    try:
        wait(d, lambda d: totals(d)[0] != before[0], timeout=30)
    except TimeoutException:
        raise AssertionError(f"the open count stayed at {before[0]}")
    try:
        wait(d, lambda d: {r.get_attribute("id") for r in rows(d)} - shown, timeout=30)
    except TimeoutException:
        raise AssertionError("no new row on the on-time board")
    check(d.execute_script("return window.fcMarker") == "same page", "the page reloaded")


def test_my_work_on_the_live_hotline(drivers):
    agent = drivers["agent"]
    sign_in(agent, AGENT)
    check(agent.current_url.endswith("/ui/my"), f"agent landed on {agent.current_url}")
    check(agent.find_elements(By.CSS_SELECTOR, "#open-contacts tbody tr"), "agent 1001 has no open contacts today")
    screenshot(agent, "live-my-work")


def api(path, token):
    request = urllib.request.Request(URL + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_a_routed_caller_pops_on_my_work(drivers):
    """The PBX asks /v1/route for a returning caller of agent 1001: their "my work" pops the caller."""
    agent = drivers["agent"]
    agent.get(URL + "/ui/my")
    wait(agent, lambda d: d.execute_script("return Array.isArray(window.fcLive)"), message="my work has no live stream")
    check(not agent.find_element(By.ID, "routed-pop").is_displayed(), "the pop shows before any call")
    agent.execute_script("window.fcMarker = 'same page';")
    contacts = api("/v1/contacts?agent=1001&status=open,awaiting_callback,handed_off&limit=1000", "demo-agent-1001")
    caller = None
    for contact in contacts:
        number = contact["customer"]
        answer = api("/v1/route?caller=" + urllib.parse.quote(number), "demo-pbx")
        if answer["route"] == "agent" and answer["agent"] == "1001":
            caller = (number, contact["id"])
            break
    check(caller is not None, "no open contact of agent 1001 routes to 1001")
    number, contact = caller
    wait(agent, lambda d: d.find_element(By.ID, "routed-pop").is_displayed(), timeout=15,
         message="the routed caller did not pop on my work")
    detail = agent.find_element(By.ID, "routed-detail").text
    check("rings 1001 first" in detail, f"pop says: {detail}")
    href = agent.find_element(By.ID, "routed-contact").get_attribute("href")
    check(href.endswith("/ui/contacts/" + contact), f"pop links to {href}, not {contact}")
    check(agent.execute_script("return window.fcMarker") == "same page", "the page reloaded")
    screenshot(agent, "live-routed-pop")


TESTS = [
    test_the_board_opens_full_and_mixed,
    test_a_countdown_runs_out_and_the_breach_arrives_without_a_reload,
    test_new_missed_calls_appear_and_the_counts_change,
    test_my_work_on_the_live_hotline,
    test_a_routed_caller_pops_on_my_work,
]


def main():
    return run("live", TESTS, {"supervisor": browser(), "agent": browser()})


if __name__ == "__main__":
    sys.exit(main())
