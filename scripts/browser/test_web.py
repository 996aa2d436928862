"""Browser tests of FirstContact's web pages, in Debian's headless Chromium through selenium.

Run by scripts/browser-test.sh against `firstcontact serve` on the sample day (FC_URL). The driver
is always /usr/bin/chromedriver, so selenium never tries to download one. Prints
'browser: N passed, N failed' and exits 1 on any failure.
"""
import os
import sys
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ.get("FC_URL", "http://127.0.0.1:8080")
SCREENS = os.environ.get("FC_SCREENS", ".build-screens")
SUPERVISOR = "demo-supervisor"   # lin-supervisor: departments service and billing
AGENT = "demo-agent-1001"        # zhang-min, agent 1001 张敏 in service
SIZES = [(1366, 768), (1920, 1080)]


def browser(width=1366, height=768, language="en-US"):
    """A headless Chromium whose Accept-Language is `language` (the pages follow it)."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}", f"--lang={language}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    return driver


def wait(driver, condition, timeout=10, message=""):
    # An element read while the form's POST navigates away goes stale: look again.
    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: condition(d), message)


def sign_in(driver, token):
    driver.get(URL + "/ui/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "signin").click()
    wait(driver, lambda d: "/ui/login" not in d.current_url, message="still on the sign-in page")


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#board-rows tr")


def totals(driver):
    """The board's counters: [open, overdue, at risk]."""
    return [int(driver.find_element(By.ID, i).text) for i in ("total", "total-overdue", "total-at-risk")]


def screenshot(driver, name):
    os.makedirs(SCREENS, exist_ok=True)
    for width, height in SIZES:
        driver.set_window_size(width, height)
        time.sleep(0.2)
        driver.save_screenshot(os.path.join(SCREENS, f"{name}-{width}x{height}.png"))
    driver.set_window_size(*SIZES[0])


def check(condition, message):
    if not condition:
        raise AssertionError(message)


# --- tests -------------------------------------------------------------------------------------

def test_sign_in_rejects_a_wrong_token(drivers):
    d = drivers["supervisor"]
    d.get(URL + "/ui/login")
    d.find_element(By.ID, "token").send_keys("not-a-token")
    d.find_element(By.ID, "signin").click()
    error = wait(d, lambda d: d.find_elements(By.ID, "signin-error"), message="no error shown")[0]
    check("Unknown token" in error.text, f"error text: {error.text!r}")
    check("/ui/login" in d.current_url, "a wrong token signed in")


def test_supervisor_sees_overdue_callbacks_in_order(drivers):
    d = drivers["supervisor"]
    sign_in(d, SUPERVISOR)
    check(d.current_url.endswith("/ui/board"), f"supervisor landed on {d.current_url}")
    check("lin-supervisor" in d.find_element(By.ID, "who").text, "who am I")
    found = rows(d)
    check(len(found) == 100, f"a full first page of 100 rows, got {len(found)}")
    ranks = [r.get_attribute("data-rank") for r in found]
    check(ranks == sorted(ranks), "rows are not in rank order")
    # The sample day is long over: every open obligation is overdue, so they sort by due time.
    check(all("overdue" in r.get_attribute("class").split() for r in found), "a row on the sample day is not overdue")
    dues = [int(r.find_element(By.CSS_SELECTOR, "td.countdown").get_attribute("data-due")) for r in found]
    check(dues == sorted(dues), "overdue rows are not ordered by due time")
    # Live countdowns: the script fills in the lateness.
    first = found[0].find_element(By.CSS_SELECTOR, "td.countdown")
    wait(d, lambda _: first.text.endswith("late"), message=f"countdown text {first.text!r}")
    # Departments by their Chinese names, only the supervisor's own.
    options = [o.text for o in Select(d.find_element(By.ID, "filter-department")).options]
    check(options == ["all", "客户服务中心", "营业收费科"], f"department options {options}")
    departments = {r.find_elements(By.TAG_NAME, "td")[4].text for r in found}
    check(departments <= {"客户服务中心", "营业收费科"}, f"out-of-scope departments {departments}")
    wait(d, lambda d: d.find_element(By.ID, "live-status").text == "live", message="the live stream did not open")
    screenshot(d, "board")


def test_supervisor_filters_by_department_state_and_owner(drivers):
    d = drivers["supervisor"]
    d.get(URL + "/ui/board")
    Select(d.find_element(By.ID, "filter-department")).select_by_visible_text("营业收费科")
    wait(d, lambda d: "department=billing" in d.current_url, message="filter did not apply on change")
    found = rows(d)
    check(found, "no billing rows")
    check({r.find_elements(By.TAG_NAME, "td")[4].text for r in found} == {"营业收费科"}, "rows of another department")
    Select(d.find_element(By.ID, "filter-kind")).select_by_value("handoff")
    wait(d, lambda d: "kind=handoff" in d.current_url)
    kinds = {r.find_elements(By.TAG_NAME, "td")[1].text for r in rows(d)}
    check(kinds == {"hand-off"}, f"kinds after the hand-off filter: {kinds}")
    # By keyboard: arrows move through the owners without applying; Enter applies.
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.common.action_chains import ActionChains
    d.execute_script("document.getElementById('filter-owner').focus()")  # as Tab would, without a click
    ActionChains(d).send_keys(Keys.ARROW_DOWN).perform()
    time.sleep(0.3)
    check("owner=department" not in d.current_url, "an arrow key applied the filter")
    check(d.find_element(By.ID, "filter-owner").get_attribute("value") == "department", "the arrow did not move")
    ActionChains(d).send_keys(Keys.ENTER).perform()
    wait(d, lambda d: "owner=department" in d.current_url, message="Enter did not apply the owner filter")
    check(rows(d), "hand-offs owed by the department disappeared")
    d.get(URL + "/ui/board?state=awaiting_ack")
    states = [r.find_elements(By.TAG_NAME, "td")[5].text for r in rows(d)]
    check(states and all("not acknowledged" in s for s in states), f"awaiting-ack rows: {states[:3]}")


def test_supervisor_opens_a_contact(drivers):
    d = drivers["supervisor"]
    d.get(URL + "/ui/board")
    link = rows(d)[0].find_element(By.CSS_SELECTOR, "td a")
    customer = link.text
    link.send_keys("\n")  # by keyboard
    wait(d, lambda d: "/ui/contacts/" in d.current_url)
    check(d.find_element(By.ID, "customer").text == customer, "contact page shows another customer")
    check(d.find_elements(By.CSS_SELECTOR, "#obligations tbody tr"), "no obligations on the contact page")
    check(d.find_elements(By.CSS_SELECTOR, "#calls li"), "no calls on the contact page")
    why = d.find_elements(By.CSS_SELECTOR, "#why li")
    check(why, "no why trail")
    screenshot(d, "contact")


def test_agent_acknowledges_and_the_row_leaves_the_supervisors_list_live(drivers):
    sup, agent = drivers["supervisor"], drivers["agent"]
    sup.get(URL + "/ui/board?department=service&state=awaiting_ack")
    wait(sup, lambda d: d.find_element(By.ID, "live-status").text == "live", message="live stream not open")
    sup.execute_script("window.fcMarker = 'same page';")
    before = [r.get_attribute("id") for r in rows(sup)]
    check(before, "no service hand-off awaits acknowledgement on the sample day")
    open_before, overdue_before = totals(sup)[:2]
    check(open_before >= len(before), f"total {open_before} below the {len(before)} rows shown")

    sign_in(agent, AGENT)
    check(agent.current_url.endswith("/ui/my"), f"agent landed on {agent.current_url}")
    check("张敏" in agent.find_element(By.TAG_NAME, "h1").text, "agent's name missing from my work")
    screenshot(agent, "my-work")
    buttons = agent.find_elements(By.CSS_SELECTOR, "#handoffs button.ack")
    check(buttons, "no acknowledge button on the agent's page")
    target = buttons[0].get_attribute("data-obligation")
    check("ob-" + target in before, f"{target} is not on the supervisor's list")
    buttons[0].click()
    # The page is /ui/my before and after the POST's redirect: wait for the button to go, not the URL.
    wait(agent, lambda d: d.current_url.endswith("/ui/my")
         and not d.find_elements(By.CSS_SELECTOR, f'#handoffs button[data-obligation="{target}"]'),
         message="the hand-off still waits on the agent's page")

    try:
        wait(sup, lambda d: not d.find_elements(By.ID, "ob-" + target), timeout=5)
    except TimeoutException:
        raise AssertionError(f"{target} did not leave the supervisor's pending list within 5 s")
    check(sup.execute_script("return window.fcMarker") == "same page", "the supervisor's page reloaded")
    applied = sup.execute_script("return window.fcLive")
    check(any(e["obligation"] == target for e in applied), f"no live update recorded: {applied}")
    after = [r.get_attribute("id") for r in rows(sup)]
    check(after == [i for i in before if i != "ob-" + target], "other rows changed")
    # The counters follow without a reload: one fewer open, and (the sample day is over) one fewer overdue.
    try:
        wait(sup, lambda d: totals(d)[:2] == [open_before - 1, overdue_before - 1], timeout=5)
    except TimeoutException:
        raise AssertionError(f"counters {totals(sup)} did not drop from {[open_before, overdue_before]} within 5 s")
    check(sup.execute_script("return window.fcTotals.length") >= 1, "no totals request was recorded")
    check(sup.execute_script("return window.fcMarker") == "same page", "the supervisor's page reloaded")
    # The contact page shows the acknowledgement in the trail.
    sup.get(URL + "/ui/board?department=service&kind=handoff")
    row = sup.find_element(By.ID, "ob-" + target)
    check("acknowledged" in row.text, "board row does not show the acknowledgement")


def test_a_row_turns_overdue_when_its_countdown_passes(drivers):
    sup = drivers["supervisor"]
    sup.get(URL + "/ui/board?department=service")
    wait(sup, lambda d: d.find_element(By.ID, "live-status").text == "live", message="live stream not open")
    sup.execute_script("window.fcMarker = 'same page';")
    # The sample day is long over, so every row is already overdue: make the last row one that is
    # at risk and due in 3 s, as the server would have rendered it then (counters to match), and
    # watch the page's own countdown turn it overdue, keep the rows in rank order and count it, no reload.
    open_, overdue, risk = totals(sup)
    target = sup.execute_script("""
        const row = document.querySelector('#board-rows tr:last-child');
        row.className = 'at-risk';
        row.dataset.rank = '1-' + row.dataset.rank.split('-').slice(1).join('-');
        // The server runs on this machine's clock (data-now), so the page's clock is Date.now().
        row.querySelector('td.countdown').dataset.due = String(Math.floor(Date.now() / 1000) + 3);
        const badge = row.querySelector('.badge'); badge.className = 'badge at-risk'; badge.textContent = 'at risk';
        document.getElementById('total-overdue').textContent = String(arguments[0] - 1);
        document.getElementById('total-at-risk').textContent = String(arguments[1] + 1);
        return row.id;
    """, overdue, risk)
    check(sup.find_element(By.ID, target).get_attribute("class") == "at-risk", "the row was not set up at risk")
    try:
        wait(sup, lambda d: "overdue" in d.find_element(By.ID, target).get_attribute("class").split(), timeout=8)
    except TimeoutException:
        raise AssertionError(f"{target} did not turn overdue when its countdown passed")
    row = sup.find_element(By.ID, target)
    check(row.find_element(By.CSS_SELECTOR, ".badge").text == "overdue", "badge still says at risk")
    check(row.find_element(By.CSS_SELECTOR, "td.countdown").text.endswith("late"), "countdown is not late")
    ranks = [r.get_attribute("data-rank") for r in rows(sup)]
    check(ranks == sorted(ranks), "the overdue row is not in its place")
    # Counted at once on the page, then confirmed by the server (the row and totals re-fetched).
    wait(sup, lambda d: totals(d) == [open_, overdue, risk], timeout=5,
         message=f"counters {totals(sup)} are not back to {[open_, overdue, risk]}")
    wait(sup, lambda d: any(e["obligation"] == target[3:] and e["kind"] == "overdue"
                            for e in d.execute_script("return window.fcLive")), timeout=5,
         message="the row was not re-fetched after it turned overdue")
    check(sup.execute_script("return window.fcMarker") == "same page", "the page reloaded")


def test_agent_gets_403_on_another_agents_contact(drivers):
    sup, agent = drivers["supervisor"], drivers["agent"]
    # A billing callback no single person owes: outside agent 1001's scope.
    sup.get(URL + "/ui/board?department=billing&kind=callback&owner=department")
    href = rows(sup)[0].find_element(By.CSS_SELECTOR, "td a").get_attribute("href")
    agent.get(href)
    heading = agent.find_element(By.TAG_NAME, "h1").text
    check(heading == "Forbidden (403)", f"agent saw {heading!r} at {href}")
    check(not agent.find_elements(By.ID, "why"), "the trail leaked onto the 403 page")
    status = agent.execute_script(
        "return performance.getEntriesByType('navigation')[0].responseStatus")
    check(status in (403, None), f"navigation status {status}")
    if status is None:  # older Chromium without responseStatus: ask with the session's cookie
        code = agent.execute_script("return fetch(arguments[0]).then(r => r.status)", href)
        check(code == 403, f"fetch status {code}")


def test_agent_adds_a_note_by_keyboard(drivers):
    agent = drivers["agent"]
    agent.get(URL + "/ui/my")
    link = agent.find_element(By.CSS_SELECTOR, "#open-contacts tbody a")
    link.send_keys("\n")
    wait(agent, lambda d: "/ui/contacts/" in d.current_url)
    text = "客户说明天上午在家 <i>不是标记</i>"
    area = agent.find_element(By.CSS_SELECTOR, "#form-note textarea")
    area.send_keys(text)
    agent.find_element(By.CSS_SELECTOR, "#form-note button").click()
    wait(agent, lambda d: text in d.find_element(By.ID, "why").text, message="the note is not in the trail")
    check(not agent.find_elements(By.CSS_SELECTOR, "#why i"), "the note's markup was rendered")


def test_supervisor_sees_figures(drivers):
    d = drivers["supervisor"]
    d.get(URL + "/ui/figures?from=2026-11-27&to=2026-11-27")
    bars = d.find_elements(By.CSS_SELECTOR, "#sla-chart rect.bar")
    departments = {b.get_attribute("data-department") for b in bars}
    check(departments == {"service", "billing"}, f"chart departments {departments}")
    check(any(int(b.get_attribute("width")) > 0 for b in bars), "every bar is empty on the sample day")
    names = [r.find_elements(By.TAG_NAME, "td")[0].text for r in d.find_elements(By.CSS_SELECTOR, "#agents tbody tr")]
    check("1001 张敏" in names and not any(n.startswith("1009") for n in names), f"agents {names}")
    screenshot(d, "figures")


def test_a_chinese_reader_works_the_board_in_chinese(drivers):
    """The zh-CN journey: a browser asking for Chinese signs in, filters the board, opens a contact,
    switches to English and back; every step reads in the rule's terms."""
    d = drivers["chinese"]
    d.get(URL + "/ui/login")
    check(d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "sign-in page is not in Chinese")
    check(d.find_element(By.ID, "signin").text == "登录", f"sign-in button {d.find_element(By.ID, 'signin').text!r}")
    d.find_element(By.ID, "token").send_keys("not-a-token")
    d.find_element(By.ID, "signin").click()
    error = wait(d, lambda d: d.find_elements(By.ID, "signin-error"), message="no error shown")[0]
    check(error.text == "令牌无效。", f"error text: {error.text!r}")
    sign_in(d, SUPERVISOR)
    check(d.current_url.endswith("/ui/board"), f"landed on {d.current_url}")
    check(d.find_element(By.TAG_NAME, "h1").text == "待办督办看板：回电与转交", "board heading")
    heads = [th.text for th in d.find_elements(By.CSS_SELECTOR, "thead th")]
    check("规定时限" in heads and "承办科室" in heads and "承办人" in heads, f"column heads {heads}")
    found = rows(d)
    check(len(found) == 100, f"a full first page of 100 rows, got {len(found)}")
    first = found[0].find_element(By.CSS_SELECTOR, "td.countdown")
    wait(d, lambda _: first.text.startswith("逾期 ") and "小时" in first.text, message=f"countdown {first.text!r}")
    check(found[0].find_element(By.CSS_SELECTOR, ".badge").text == "逾期", "badge not in Chinese")
    check(found[0].find_elements(By.TAG_NAME, "td")[9].text.startswith("2026年11月27日 "), "due time not in the Chinese convention")
    wait(d, lambda d: d.find_element(By.ID, "live-status").text == "实时", message="the live stream did not open")
    options = [o.text for o in Select(d.find_element(By.ID, "filter-state")).options]
    check(options == ["全部", "逾期", "即将超时", "未超时", "转交待阅知"], f"state options {options}")
    screenshot(d, "board-zh-CN")
    Select(d.find_element(By.ID, "filter-kind")).select_by_visible_text("转交")
    wait(d, lambda d: "kind=handoff" in d.current_url, message="filter did not apply")
    kinds = {r.find_elements(By.TAG_NAME, "td")[1].text for r in rows(d)}
    check(kinds == {"转交"}, f"kinds after the hand-off filter: {kinds}")
    # The switch keeps the filters, and the choice outlives the browser's Accept-Language.
    d.find_element(By.ID, "language-en").click()
    wait(d, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", message="no English")
    check("kind=handoff" in d.current_url, f"the switch lost the filters: {d.current_url}")
    check(d.find_element(By.TAG_NAME, "h1").text == "Missed callbacks and hand-offs", "board not in English")
    d.get(URL + "/ui/figures?from=2026-11-27&to=2026-11-27")
    check(d.find_element(By.TAG_NAME, "h1").text == "Figures", "the English choice did not stick")
    d.find_element(By.ID, "language-zh-CN").click()
    wait(d, lambda d: d.find_element(By.TAG_NAME, "h1").text == "统计", message="figures not back in Chinese")
    d.get(URL + "/ui/board")
    link = rows(d)[0].find_element(By.CSS_SELECTOR, "td a")
    link.send_keys("\n")
    wait(d, lambda d: "/ui/contacts/" in d.current_url)
    terms = [dt.text for dt in d.find_elements(By.CSS_SELECTOR, "dl.facts dt")]
    check("首问责任人" in terms and "事项类别" in terms, f"contact facts {terms}")
    check(d.find_element(By.CSS_SELECTOR, "#why li span[lang=en]"), "the engine's English trail is not marked as English")
    screenshot(d, "contact-zh-CN")


def test_sign_out_ends_the_session(drivers):
    agent = drivers["agent"]
    agent.get(URL + "/ui/my")
    agent.find_element(By.ID, "signout").click()
    wait(agent, lambda d: "/ui/login" in d.current_url)
    agent.get(URL + "/ui/my")
    check("/ui/login" in agent.current_url, "still signed in after signing out")


TESTS = [
    test_sign_in_rejects_a_wrong_token,
    test_supervisor_sees_overdue_callbacks_in_order,
    test_supervisor_filters_by_department_state_and_owner,
    test_supervisor_opens_a_contact,
    test_agent_acknowledges_and_the_row_leaves_the_supervisors_list_live,
    test_a_row_turns_overdue_when_its_countdown_passes,
    test_agent_gets_403_on_another_agents_contact,
    test_agent_adds_a_note_by_keyboard,
    test_supervisor_sees_figures,
    test_a_chinese_reader_works_the_board_in_chinese,
    test_sign_out_ends_the_session,
]


def run(label, tests, drivers):
    """Runs each test with the drivers, a screenshot of every driver on a failure; quits them."""
    passed = failed = 0
    try:
        for test in tests:
            started = time.monotonic()
            try:
                test(drivers)
                passed += 1
                print(f"PASS {test.__name__} ({time.monotonic() - started:.1f}s)", flush=True)
            except Exception:
                failed += 1
                print(f"FAIL {test.__name__}", flush=True)
                traceback.print_exc()
                for name, d in drivers.items():
                    try:
                        d.save_screenshot(os.path.join(SCREENS, f"failure-{test.__name__}-{name}.png"))
                    except Exception:
                        pass
    finally:
        for d in drivers.values():
            d.quit()
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    return run("browser", TESTS, {"supervisor": browser(), "agent": browser(), "chinese": browser(language="zh-CN")})


if __name__ == "__main__":
    sys.exit(main())
