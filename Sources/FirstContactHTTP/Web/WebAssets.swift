/// The pages' stylesheet and script, served by the binary itself (no CDN, no font downloads).
enum WebAssets {
    /// System fonts only: Noto Sans CJK / PingFang / Microsoft YaHei cover the Chinese names.
    static let css = #"""
        :root { --fg:#1b1f24; --muted:#57606a; --bg:#f6f8fa; --card:#fff; --line:#d0d7de; --late:#b42318; --risk:#9a6700; --ok:#1a7f37; --focus:#0969da; }
        * { box-sizing: border-box; }
        html { font-size: 15px; }
        @media (min-width: 1800px) { html { font-size: 19px; } }
        body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; color:var(--fg); background:var(--bg); line-height:1.4; }
        header.top { display:flex; gap:1.2rem; align-items:center; padding:.6rem 1.2rem; background:#24292f; color:#fff; flex-wrap:wrap; }
        header.top a { color:#fff; text-decoration:none; padding:.2rem .4rem; border-radius:4px; }
        header.top a[aria-current="page"] { background:#57606a; }
        header.top .who { margin-left:auto; display:flex; gap:.6rem; align-items:center; }
        main { padding:1rem 1.2rem; max-width: 2400px; }
        h1 { font-size:1.4rem; margin:.2rem 0 .8rem; }
        h2 { font-size:1.15rem; margin:1.2rem 0 .5rem; }
        table { border-collapse:collapse; width:100%; background:var(--card); }
        th, td { text-align:left; padding:.35rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
        th { background:#eaeef2; position:sticky; top:0; font-weight:600; }
        tr.overdue td.countdown, .late { color:var(--late); font-weight:600; }
        tr.at-risk td.countdown, .risk { color:var(--risk); font-weight:600; }
        .ok { color:var(--ok); }
        .muted { color:var(--muted); }
        .badge { display:inline-block; padding:0 .4rem; border-radius:.6rem; font-size:.85em; border:1px solid var(--line); background:#fff; }
        .badge.overdue { border-color:var(--late); color:var(--late); }
        .badge.at-risk { border-color:var(--risk); color:var(--risk); }
        form.filters { display:flex; gap:.8rem; align-items:end; flex-wrap:wrap; margin-bottom:.8rem; }
        label { display:flex; flex-direction:column; font-size:.9em; gap:.15rem; }
        select, input, button, textarea { font:inherit; padding:.3rem .5rem; border:1px solid var(--line); border-radius:4px; background:#fff; }
        button { cursor:pointer; background:#f3f4f6; }
        button.primary { background:#1f883d; color:#fff; border-color:#1a7f37; }
        :focus-visible { outline:3px solid var(--focus); outline-offset:1px; }
        .card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:.8rem 1rem; margin-bottom:1rem; }
        .pager { display:flex; gap:1rem; align-items:center; margin:.6rem 0; }
        .status { min-height:1.2em; }
        .signin { max-width:26rem; margin:4rem auto; }
        .signin input { width:100%; }
        .error { color:var(--late); }
        dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:0; }
        dl.facts dt { color:var(--muted); }
        ol.why li { margin-bottom:.35rem; }
        form.inline { display:inline-flex; gap:.3rem; margin:0; flex-wrap:wrap; }
        .skip { position:absolute; left:-999px; }
        .skip:focus { left:.5rem; top:.5rem; background:#fff; padding:.3rem; z-index:9; }
        svg text { font-family: inherit; }
        #sla-chart { max-width: 48rem; width: 100%; display: block; }
        .pop { background:#fff8c5; border:2px solid var(--risk); border-radius:6px; padding:.6rem 1rem; margin-bottom:1rem; }
        .pop h2 { margin-top:0; }
        """#

    /// Countdowns, filters that apply on change, and the live stream (`/ui/events`): a change to an
    /// obligation re-fetches just its row with the page's filters, so a row that no longer matches
    /// leaves the list and one that now matches appears in its place; once a batch of row updates is
    /// applied, the counters (open, overdue, at risk) are re-fetched from `/ui/board/totals`. A row
    /// whose countdown passes its deadline turns overdue at once and is then confirmed the same way.
    /// Timings of each applied update are kept in `window.fcLive` / `window.fcTotals` for the
    /// browser tests and the benchmark.
    static let js = #"""
        "use strict";
        (function () {
          var body = document.body;
          var offset = Number(body.dataset.now || 0) - Date.now() / 1000;
          // The page's language, from the server's catalogue (body data-text).
          var text = JSON.parse(body.dataset.text || "{}");
          function say(key, value) { return String(text[key] || key).replace("%s", value); }
          function now() { return Date.now() / 1000 + offset; }
          function span(s) {
            s = Math.abs(Math.round(s));
            var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
            var sep = text.sep === undefined ? " " : text.sep;
            if (d > 0) return [d + text.d, h + text.h, m + text.m].join(sep);
            if (h > 0) return [h + text.h, String(m).padStart(2, "0") + text.m].join(sep);
            return [m + text.m, String(sec).padStart(2, "0") + text.s].join(sep);
          }
          // Set further down when this page is the board with a live stream: what a row does when its
          // countdown passes the deadline (it re-fetches the row and the counters).
          var onOverdue = null;
          function tick() {
            var t = now();
            document.querySelectorAll("[data-due]").forEach(function (el) {
              var left = Number(el.dataset.due) - t;
              el.textContent = say(left >= 0 ? "in" : "late", span(left));
              el.classList.toggle("late", left < 0);
              if (left < 0) turnOverdue(el.closest("#board-rows tr"));
            });
          }
          function bump(id, delta) {
            var el = document.getElementById(id);
            if (el) el.textContent = String(Math.max(0, Number(el.textContent) + delta));
          }
          // A board row whose deadline passed while the page was open becomes overdue here and now, as a
          // fresh render would show it: styling, badge, its place (overdue rows sort first) and the
          // counters. The server then confirms it (the row and the totals are re-fetched once).
          function turnOverdue(row) {
            if (!row || row.classList.contains("overdue")) return;
            var wasRisk = row.classList.contains("at-risk");
            row.classList.remove("at-risk", "on-time");
            row.classList.add("overdue");
            var badge = row.querySelector(".badge");
            if (badge) { badge.className = "badge overdue"; badge.textContent = say("overdue", ""); }
            var rank = row.dataset.rank || "";
            row.dataset.rank = "0" + rank.slice(rank.indexOf("-"));
            var rows = row.parentNode.children;
            for (var i = 0; i < rows.length; i++) {
              if (rows[i] !== row && (rows[i].dataset.rank || "") > row.dataset.rank) { row.parentNode.insertBefore(row, rows[i]); break; }
            }
            bump("total-overdue", 1);
            if (wasRisk) bump("total-at-risk", -1);
            if (onOverdue) onOverdue(row.id.slice(3));
          }
          tick();
          setInterval(tick, 1000);

          // A filter applies as soon as it is picked with the mouse. From the keyboard, arrows change
          // a closed select one step at a time, so there the choice waits for Enter or the Apply button.
          document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
            var lastKey = -1e9;
            el.addEventListener("keydown", function (e) {
              lastKey = performance.now();
              if (e.key === "Enter") { e.preventDefault(); el.form.submit(); }
            });
            el.addEventListener("change", function () {
              if (performance.now() - lastKey > 500) el.form.submit();
            });
          });

          window.fcLive = [];
          var live = body.dataset.live;
          if (!live || !window.EventSource) return;
          var status = document.getElementById("live-status");
          var tbody = document.getElementById("board-rows");
          var rowURL = body.dataset.rowUrl, totalsURL = body.dataset.totalsUrl;
          function setStatus(text) { if (status) status.textContent = text; }
          // The counters at the top cover every page, so they come from the server: one request after
          // a batch of row updates is applied (the queue ran dry), never more than one in flight; a
          // batch that ends while it runs asks once more afterwards. Timings land in window.fcTotals.
          window.fcTotals = [];
          var totalsBusy = false, totalsAgain = false;
          function refreshTotals() {
            if (!totalsURL) return;
            if (totalsBusy) { totalsAgain = true; return; }
            totalsBusy = true;
            var asked = performance.now();
            fetch(totalsURL, { credentials: "same-origin" }).then(function (r) {
              if (!r.ok) throw new Error("totals " + r.status);
              return r.json();
            }).then(function (t) {
              document.getElementById("total").textContent = String(t.open);
              var overdue = document.getElementById("total-overdue"), risk = document.getElementById("total-at-risk");
              if (overdue) overdue.textContent = String(t.overdue);
              if (risk) risk.textContent = String(t.at_risk);
              window.fcTotals.push({ open: t.open, overdue: t.overdue, at_risk: t.at_risk, asked: asked, applied: performance.now() });
            }).catch(function (e) { setStatus(say("failed", e.message)); }).finally(function () {
              totalsBusy = false;
              if (totalsAgain) { totalsAgain = false; refreshTotals(); }
            });
          }
          var crossed = new Set();
          onOverdue = function (id) {
            // Once per row: if the server's clock is a moment behind, the row it sends back is not yet
            // overdue, and the next tick restyles it without asking again.
            if (crossed.has(id)) return;
            crossed.add(id);
            schedule(id, performance.now(), "overdue");
          };
          // A burst (the scheduler breaching hundreds at 09:00) must not fire hundreds of requests at
          // once: one fetch per obligation however many events name it, at most four at a time.
          var queued = new Map(), order = [], active = 0;
          function schedule(id, received, kind) {
            if (queued.has(id)) return;
            queued.set(id, { received: received, kind: kind });
            order.push(id);
            pump();
          }
          function pump() {
            while (active < 4 && order.length) {
              var id = order.shift(), job = queued.get(id);
              queued.delete(id);
              active++;
              refreshRow(id, job.received, job.kind).finally(function () {
                active--;
                pump();
                if (active === 0 && !order.length) refreshTotals();
              });
            }
          }
          function refreshRow(id, received, kind) {
            if (!tbody || !rowURL) return Promise.resolve();
            var url = rowURL + (rowURL.indexOf("?") < 0 ? "?" : "&") + "obligation=" + encodeURIComponent(id);
            return fetch(url, { credentials: "same-origin" }).then(function (r) {
              if (!r.ok) throw new Error("row " + r.status);
              return r.text();
            }).then(function (html) {
              var old = document.getElementById("ob-" + id);
              html = html.trim();
              if (!html) {
                if (old) old.remove();
              } else {
                var holder = document.createElement("tbody");
                holder.innerHTML = html;
                var row = holder.firstElementChild;
                if (old) {
                  old.replaceWith(row);
                } else {
                  var rows = tbody.children, placed = false;
                  for (var i = 0; i < rows.length; i++) {
                    if ((rows[i].dataset.rank || "") > row.dataset.rank) { tbody.insertBefore(row, rows[i]); placed = true; break; }
                  }
                  if (!placed && rows.length < Number(tbody.dataset.pageSize || 100)) tbody.appendChild(row);
                }
              }
              var count = document.getElementById("row-count");
              if (count) count.textContent = String(tbody.children.length);
              tick();
              window.fcLive.push({ obligation: id, kind: kind, received: received, applied: performance.now() });
              setStatus(say("updated", new Date().toLocaleTimeString(document.documentElement.lang)));
            }).catch(function (e) { setStatus(say("failed", e.message)); });
          }
          var source = new EventSource(live, { withCredentials: true });
          function handle(e) {
            var received = performance.now();
            var data;
            try { data = JSON.parse(e.data); } catch (err) { return; }
            if (data.obligation) schedule(data.obligation, received, e.type);
          }
          ["at_risk", "breach", "escalation", "violation", "reversal", "review", "changed", "satisfied", "acknowledged",
           "cancelled", "exhausted"].forEach(function (k) {
            source.addEventListener(k, handle);
          });
          // The screen pop on "my work": the PBX rings this agent first for a returning caller.
          source.addEventListener("routed", function (e) {
            var pop = document.getElementById("routed-pop");
            var data;
            try { data = JSON.parse(e.data); } catch (err) { return; }
            if (!pop) return;
            document.getElementById("routed-detail").textContent = data.detail;
            document.getElementById("routed-contact").href = "/ui/contacts/" + encodeURIComponent(data.contact || "");
            pop.hidden = false;
            window.fcLive.push({ contact: data.contact, kind: "routed", received: performance.now(), applied: performance.now() });
          });
          // Close the stream when the page goes away (also into the back-forward cache): an open
          // stream per old page would use up the browser's six connections to this server.
          window.addEventListener("pagehide", function () { source.close(); });
          source.addEventListener("open", function () { setStatus(say("live", "")); body.dataset.liveOpen = "1"; });
          source.addEventListener("error", function () { setStatus(say("reconnecting", "")); });
        })();
        """#
}
