#!/usr/bin/env python3
"""Checks FirstContact's export after the Kamailio/SIPp rounds of scripts/sip-e2e.sh.

Usage: check.py round1|round2|round3 EXPORT.json [EXPLAIN_DIR]
Prints one `ok    …` or `FAIL  …` line per check (the shell script counts them) and exits 0.
EXPLAIN_DIR holds `firstcontact explain` output per contact id (round 1: tells missed outcomes apart).
"""
import json
import os
import sys

# The story the SIPp scenarios play (scripts/sip-e2e/inf/*.csv):
ANSWERED = {f"55501{i:02d}": "1001" for i in range(1, 7)} | {f"55505{i:02d}": "1005" for i in range(1, 3)}
# missed customer -> (callback owner agent or None for the department, outcome named in `explain`,
#                     agent who calls back in round 2)
MISSED = (
    {f"55502{i:02d}": ("1002", "busy", "1002") for i in range(1, 5)}  # dialled 1002 directly: 486
    | {f"55503{i:02d}": ("1003", "abandoned", "1003") for i in range(1, 5)}  # dialled 1003, cancelled: 487
    | {f"55504{i:02d}": (None, "no_answer", "1001") for i in range(1, 5)}  # hotline 96116 -> 1004, timeout: 408
)

results = []


def check(name, condition, detail=""):
    results.append((bool(condition), name, detail))


def main():
    mode, path = sys.argv[1], sys.argv[2]
    explain_dir = sys.argv[3] if len(sys.argv) > 3 else None
    doc = json.load(open(path))
    contacts = {c["customer_raw"]: c for c in doc["contacts"]}
    if mode == "round3":
        return routed(contacts, explain_dir)
    check("export has 20 contacts, one per customer", len(doc["contacts"]) == 20 and len(contacts) == 20,
          f"{len(doc['contacts'])} contacts: {sorted(contacts)}")
    check("no rejects", doc["rejects"] == [], doc["rejects"])
    check("no violations", doc["violations"] == [], doc["violations"])

    for number, agent in sorted(ANSWERED.items()):
        c = contacts.get(number)
        fr = (c or {}).get("first_responder") or {}
        check(f"{number}: answered, first responder {agent} via inbound",
              c is not None and fr.get("agent") == agent and fr.get("via") == "inbound" and c["obligations"] == []
              and len(c["calls"]) == 1,
              json.dumps(c))

    for number, (owner, outcome, caller) in sorted(MISSED.items()):
        c = contacts.get(number)
        if c is None:
            check(f"{number}: missed call has a contact", False)
            continue
        callbacks = [o for o in c["obligations"] if o["kind"] == "callback"]
        o = callbacks[0] if len(callbacks) == 1 else {}
        whom = f"agent {owner}" if owner else "department service"
        check(f"{number}: one callback owed by {whom}",
              len(callbacks) == 1 and o["owner"] == {"department": "service", "agent": owner} and o["missed_count"] == 1,
              json.dumps(c["obligations"]))
        fr = c.get("first_responder") or {}
        if mode == "round1":
            check(f"{number}: callback pending, no first responder yet",
                  o.get("state") == "pending" and not c.get("first_responder") and c["status"] == "awaiting_callback",
                  json.dumps(c))
            if explain_dir:
                text = open(os.path.join(explain_dir, c["id"] + ".txt")).read()
                check(f"{number}: explain names the missed call {outcome}",
                      f"[missed_call_callback] inbound call {outcome} after" in text, text)
        else:
            check(f"{number}: callback satisfied via callback by {caller}",
                  o.get("state") == "satisfied" and o.get("satisfied_via") == "callback" and o.get("satisfied_by") == caller
                  and len(c["calls"]) == 2,
                  json.dumps(c))
            check(f"{number}: {caller} became first responder via callback",
                  fr.get("agent") == caller and fr.get("via") == "callback", json.dumps(fr))

    report()


# Round 3: number -> (who answered the routed call, the trail's words for 1002)
ROUTED = {"5550601": ("1002", "1002 answered"),
          "5550602": ("1001", "1002 did not answer (a ring-no-answer, not a missed call); 1001 answered after")}


def routed(contacts, explain_dir):
    for number, (answered_by, outcome) in sorted(ROUTED.items()):
        c = contacts.get(number)
        if c is None:
            check(f"{number}: has a contact", False)
            continue
        callbacks = [o for o in c["obligations"] if o["kind"] == "callback"]
        o = callbacks[0] if callbacks else {}
        check(f"{number}: one callback, owed by 1002 (the busy direct dial), and no second one",
              len(callbacks) == 1 and o["owner"] == {"department": "service", "agent": "1002"} and o["missed_count"] == 1,
              json.dumps(c["obligations"]))
        check(f"{number}: the routed call satisfied it via customer_called_back, by {answered_by}",
              o.get("state") == "satisfied" and o.get("satisfied_via") == "customer_called_back"
              and o.get("satisfied_by") == answered_by and len(c["calls"]) == 2,
              json.dumps(c))
        fr = c.get("first_responder") or {}
        check(f"{number}: {answered_by} is the first responder", fr.get("agent") == answered_by, json.dumps(fr))
        text = open(os.path.join(explain_dir, number + ".txt")).read()
        if answered_by != "1002":
            check(f"{number}: explain records 1002's ring-no-answer", "[ring_no_answer] rung without answering: 1002" in text,
                  text)
        check(f"{number}: explain says the call rang 1002 first because 1002 owes the callback, and {outcome}",
              "[routed] the call rang 1002 first, before the queue: 1002 owes the caller a callback" in text
              and outcome in text, text)
    report()


def report():
    for ok, name, detail in results:
        print(("ok    " if ok else "FAIL  ") + name + ("" if ok else f"\n      {detail}"))


if __name__ == "__main__":
    main()
