"""Board benchmark in headless Chromium: time to first render of /ui/board over a store with
>= 10,000 open obligations, and time to apply one live update (an acknowledgement posted to the
API reaches the page over /ui/events and the row is re-fetched and replaced), both read from the
browser's own clocks (Navigation Timing, Paint Timing, performance.now() in the page script).
Run by scripts/web-benchmark.sh; prints one line per run and the median.
"""
import json
import os
import statistics
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from test_web import URL, browser, sign_in, rows, wait  # noqa: E402

RUNS = int(os.environ.get("FC_BENCH_RUNS", "5"))
HEADS = {"客户服务中心": "8001", "营业收费科": "8002", "抢修调度中心": "8003", "水质监测科": "8004", "公司领导": "8801"}


def first_render(d, path):
    d.get("about:blank")  # a new document each time, so Paint Timing reports its first paint
    d.get(URL + path)
    wait(d, lambda d: d.execute_script("return document.readyState") == "complete")
    t = d.execute_script("""
        const n = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return {ttfb: n.responseStart, response: n.responseEnd, dom: n.domContentLoadedEventEnd,
                load: n.loadEventEnd, fcp: fcp ? fcp.startTime : null, bytes: n.transferSize};
    """)
    return t


def paint(t):
    return "%.0fms" % t["fcp"] if t["fcp"] else "n/a"


def acknowledge(obligation, by):
    request = urllib.request.Request(
        URL + f"/v1/obligations/{obligation}/ack", data=json.dumps({"by": by}).encode(), method="POST",
        headers={"Authorization": "Bearer demo-admin", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200, response.status


def main():
    d = browser(1920, 1080)
    sign_in(d, "demo-admin")
    total = None
    renders, updates, ends = [], [], []
    for run in range(RUNS):
        t = first_render(d, "/ui/board")
        total = d.find_element(By.ID, "total").text
        renders.append(t)
        print(f"render {run}: total={total} rows={len(rows(d))} ttfb={t['ttfb']:.0f}ms response={t['response']:.0f}ms "
              f"fcp={paint(t)} domContentLoaded={t['dom']:.0f}ms bytes={t['bytes']}", flush=True)
    for run in range(RUNS):
        d.get(URL + "/ui/board?state=awaiting_ack")
        wait(d, lambda d: d.find_element(By.ID, "live-status").text == "live", timeout=20)
        time.sleep(1.5)  # let the stream deliver whatever the scheduler wrote meanwhile
        d.execute_script("window.fcLive = [];")
        row = rows(d)[0]
        obligation = row.get_attribute("id")[3:]
        head = HEADS[row.find_elements(By.TAG_NAME, "td")[4].text]
        posted = d.execute_script("return performance.now()")
        acknowledge(obligation, head)
        wait(d, lambda d: any(e["obligation"] == obligation for e in d.execute_script("return window.fcLive")), timeout=10)
        entry = next(e for e in d.execute_script("return window.fcLive") if e["obligation"] == obligation)
        gone = not d.find_elements(By.ID, "ob-" + obligation)
        updates.append(entry["applied"] - entry["received"])
        ends.append(entry["applied"] - posted)
        print(f"live {run}: {obligation} event->row {entry['applied'] - entry['received']:.0f}ms, "
              f"ack posted->row {entry['applied'] - posted:.0f}ms, row removed={gone}", flush=True)
    d.quit()
    # Headless Chromium does not always emit a first-contentful-paint entry: the median is over those it did.
    fcps = [r["fcp"] for r in renders if r["fcp"]]
    fcp = f"{statistics.median(fcps):.0f}ms ({len(fcps)} of {RUNS} reported)" if fcps else "not reported"
    print(f"board over {total} open obligations, median of {RUNS}: response end {statistics.median(r['response'] for r in renders):.0f}ms, "
          f"domContentLoaded {statistics.median(r['dom'] for r in renders):.0f}ms, first contentful paint {fcp}; "
          f"live update event->row {statistics.median(updates):.0f}ms, ack posted->row {statistics.median(ends):.0f}ms")


if __name__ == "__main__":
    main()
