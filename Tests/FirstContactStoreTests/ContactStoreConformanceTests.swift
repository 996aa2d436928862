import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import Testing

/// The ``ContactStore`` contract, run against every ``StoreKind``: what any store must do for the
/// pipeline, the scheduler, the API and the webhooks to behave the same on it.
@Suite("ContactStore contract")
struct ContactStoreConformanceTests {
    let correlator = StoreFixture.correlator

    @Test(
        "the same records twice are stored once: the second batch is all duplicates and changes no total",
        arguments: StoreKind.allCases)
    func idempotentInsert(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let records = try StoreFixture.records()
            let first = try await subject.store.ingest(records, correlator: self.correlator)
            #expect(first.records == records.count)
            #expect(first.newRecords == records.count)
            #expect(first.duplicates == 0)
            #expect(first.callsTouched > 0)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            let totals = try await subject.store.totals()
            let export = try await subject.store.snapshot().contacts

            let second = try await subject.store.ingest(records, correlator: self.correlator)
            #expect(second.newRecords == 0)
            #expect(second.duplicates == records.count)
            #expect(second.callsTouched == 0)
            #expect(try await subject.store.awaitingDerivation() == 0)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            #expect(try await subject.store.totals() == totals)
            #expect(try await subject.store.snapshot().contacts == export)
            #expect(totals.records == records.count)
        }
    }

    @Test(
        "the totals follow the rows as a later clock breaches and satisfies what an earlier one left open: what the rows count at every step",
        arguments: StoreKind.allCases)
    func totalsFollowTheRows(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            _ = try await subject.store.ingest(try StoreFixture.records(), correlator: self.correlator)
            let midnight = StoreFixture.endOfDay.seconds - 86_399
            var pending: [Int] = []
            for hour: Int64 in [8, 10, 12, 18, 24, 24 * 7] {
                _ = try await subject.store.advanceClock(
                    to: Timestamp(seconds: midnight + hour * 3_600), correlator: self.correlator)
                let totals = try await subject.store.totals()
                try await subject.expectTotalsKept("at \(hour):00")
                pending.append(totals.obligationsByState[.pending] ?? 0)
            }
            // Obligations were pending at one step and moved on at a later one (updated, not added).
            #expect(pending.first ?? 0 > 0)
            #expect(pending.last == 0)
        }
    }

    @Test(
        "a reject is stored with its source, line, byte offset, reason and bytes, once however often it arrives",
        arguments: StoreKind.allCases)
    func rejectsKeepTheirPlace(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let reject = Reject(
                position: SourcePosition(source: "/var/log/asterisk/cdr-csv/Master.csv", line: 42, offset: 8_190),
                reason: "unterminated quoted field", raw: Array("\"broken".utf8))
            let outcome = try await subject.store.ingest(
                [.reject(reject), .reject(reject)], correlator: self.correlator)
            #expect(outcome.rejects == 2)
            _ = try await subject.store.ingest([.reject(reject)], correlator: self.correlator)
            #expect(try await subject.store.snapshot().rejects == [reject])
            #expect(try await subject.store.totals().rejects == 1)
        }
    }

    @Test(
        "derived rows read back as the correlator derived them: listing, export, one contact and one obligation agree",
        arguments: StoreKind.allCases)
    func derivedRowsRoundTrip(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let records = try StoreFixture.records()
            _ = try await subject.store.ingest(records, correlator: self.correlator)
            let clock = StoreFixture.endOfDay
            _ = try await subject.store.advanceClock(to: clock, correlator: self.correlator)

            // The correlator's own answer from the same records, at the same clock.
            let assembler = CallAssembler(directory: self.correlator.directory)
            var byCall: [CallKey: [CallRecord]] = [:]
            for case .record(let record) in records { byCall[record.call, default: []].append(record) }
            var byCustomer: [String: [Call]] = [:]
            for key in byCall.keys.sorted() {
                guard let call = assembler.assemble(key, records: byCall[key] ?? []), let customer = call.customerKey
                else {
                    continue
                }
                byCustomer[customer, default: []].append(call)
            }
            var expected: [Contact] = []
            for (customer, calls) in byCustomer {
                expected += self.correlator.derive(customerKey: customer, calls: calls, clock: clock).contacts
            }
            let stored = try await subject.store.snapshot().contacts
            #expect(!stored.isEmpty)
            #expect(stored.map(Summary.init).sorted() == expected.map(Summary.init).sorted())

            let listed = try await subject.store.contacts(ContactQuery(limit: .max))
            #expect(listed == stored)
            let obligations = stored.flatMap(\.obligations)
            #expect(!obligations.isEmpty, "the sample's first calls owe callbacks")
            for contact in stored.prefix(20) {
                let detail = try #require(try await subject.store.contact(contact.id, correlator: self.correlator))
                #expect(Summary(detail.contact) == Summary(contact))
            }
            for o in obligations.prefix(20) {
                let found = try #require(try await subject.store.obligation(o.id))
                #expect(found.obligation == o)
            }
        }
    }

    @Test(
        "ingest marks the touched customers dirty; the clock derives exactly them, then only those whose next check is due",
        arguments: StoreKind.allCases)
    func dirtyAndDueCustomers(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let records = try StoreFixture.records()
            let outcome = try await subject.store.ingest(records, correlator: self.correlator)
            #expect(outcome.customersTouched > 0)
            #expect(try await subject.store.awaitingDerivation() == outcome.customersTouched)

            let latest = try #require(StoreFixture.latest(records))
            let derived = try await subject.store.advanceClock(to: latest, correlator: self.correlator)
            #expect(derived.derived == outcome.customersTouched)
            #expect(try await subject.store.awaitingDerivation() == 0)
            // Nothing dirty and nothing due: moving the clock to where it is derives nobody.
            #expect(try await subject.store.advanceClock(to: latest, correlator: self.correlator).derived == 0)

            let next = try #require(
                try await subject.store.nextCheck(), "open callbacks have deadlines after the last record")
            #expect(next > latest)
            let before = Timestamp(seconds: next.seconds - 1)
            #expect(try await subject.store.advanceClock(to: before, correlator: self.correlator).derived == 0)
            let due = try await subject.store.advanceClock(to: next, correlator: self.correlator)
            #expect(due.derived >= 1)
            if let after = try await subject.store.nextCheck() { #expect(after > next) }
        }
    }

    @Test(
        "a customer's open contact for routing is their newest contact still open; closed or unknown customers have none",
        arguments: StoreKind.allCases)
    func openContactForRouting(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            _ = try await subject.store.ingest(try StoreFixture.records(), correlator: self.correlator)
            // At the day's end most contacts are open; three days on, auto_close has closed many.
            for clock in [StoreFixture.endOfDay, Timestamp(seconds: StoreFixture.endOfDay.seconds + 3 * 86_400)] {
                _ = try await subject.store.advanceClock(to: clock, correlator: self.correlator)
                // Withheld callers are never looked up (they route to the queue) and share no number.
                let contacts = try await subject.store.snapshot().contacts.filter { !$0.customer.isWithheld }
                var (open, closed) = (0, 0)
                for (customer, theirs) in Dictionary(grouping: contacts, by: \.customer.text) {
                    let expected = theirs.filter { RouteDecision.openStatuses.contains($0.status) }
                        .max { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }
                    #expect(try await subject.store.openContact(of: customer) == expected, "customer \(customer)")
                    if expected == nil { closed += 1 } else { open += 1 }
                }
                #expect(open > 0, "at \(clock)")
                if clock > StoreFixture.endOfDay { #expect(closed > 0, "at \(clock)") }
            }
            #expect(try await subject.store.openContact(of: "99999999999") == nil)
        }
    }

    @Test("the clock never moves back, and the latest event time is the newest record's", arguments: StoreKind.allCases)
    func clockIsMonotonic(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            #expect(try await subject.store.clock() == nil)
            #expect(try await subject.store.latestEventTime() == nil)
            let records = try StoreFixture.records(calls: 30)
            _ = try await subject.store.ingest(records, correlator: self.correlator)
            #expect(try await subject.store.latestEventTime() == StoreFixture.latest(records))

            let later = StoreFixture.endOfDay
            let earlier = Timestamp(seconds: later.seconds - 3_600)
            #expect(try await subject.store.advanceClock(to: later, correlator: self.correlator).clock == later)
            #expect(try await subject.store.advanceClock(to: earlier, correlator: self.correlator).clock == later)
            #expect(try await subject.store.clock() == later)
            // An older batch does not move the latest event time back either.
            _ = try await subject.store.ingest(Array(records.prefix(3)), correlator: self.correlator)
            #expect(try await subject.store.latestEventTime() == StoreFixture.latest(records))
        }
    }

    @Test(
        "outbox keys are unique and sequences increase; deriving the same state again announces nothing new",
        arguments: StoreKind.allCases)
    func outboxKeysAreUnique(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let records = try StoreFixture.records()
            _ = try await subject.store.ingest(Array(records.prefix(records.count / 2)), correlator: self.correlator)
            _ = try await subject.store.advanceClock(
                to: StoreFixture.latest(records) ?? StoreFixture.endOfDay, correlator: self.correlator)
            _ = try await subject.store.ingest(records, correlator: self.correlator)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            let outbox = try await subject.store.outbox(after: 0, limit: 1_000_000)
            #expect(!outbox.isEmpty, "a day's callbacks breach by its end")
            #expect(Set(outbox.map(\.key)).count == outbox.count)
            #expect(zip(outbox, outbox.dropFirst()).allSatisfy { $0.seq < $1.seq })
            let tail = try #require(outbox.last)
            #expect(try await subject.store.outbox(after: tail.seq, limit: 10).isEmpty)
            #expect(try await subject.store.outbox(after: 0, limit: 2).map(\.key) == outbox.prefix(2).map(\.key))

            _ = try await subject.store.ingest(records, correlator: self.correlator)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            #expect(try await subject.store.outbox(after: 0, limit: 1_000_000) == outbox)
        }
    }

    @Test(
        "an announced notice (a routed caller's screen pop) is appended after what derivation wrote, once by its key, with every field read back",
        arguments: StoreKind.allCases)
    func announcedNotices(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let records = try StoreFixture.records(calls: 20)
            _ = try await subject.store.ingest(records, correlator: self.correlator)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            let before = try await subject.store.outbox(after: 0, limit: 1_000_000)
            let contact = try #require(try await subject.store.contacts(ContactQuery()).first)
            let notice = Notice(
                key: "routed:\(contact.id):1001:1795745520", kind: .routed, at: Timestamp(seconds: 1_795_745_520),
                contact: contact.id, department: contact.department, agent: AgentID("1001"),
                detail: "13800005555 is calling and rings 1001 first for 15 s")
            try await subject.store.announce([Announcement(notice, customerKey: contact.customer.text)])
            try await subject.store.announce([Announcement(notice, customerKey: contact.customer.text)])
            let after = try await subject.store.outbox(after: before.last?.seq ?? 0, limit: 10)
            #expect(after.count == 1)
            #expect(after.first?.notice == notice)
            #expect(try await subject.store.outbox(after: 0, limit: 1_000_000).dropLast() == before[...])
        }
    }

    @Test(
        "a follow checkpoint is stored with its records and read back whole, 64-bit device and inode included",
        arguments: StoreKind.allCases)
    func followCheckpoints(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let path = "/var/log/asterisk/cdr-csv/Master.csv"
            #expect(try await subject.store.followCheckpoint(path: path) == nil)
            let records = try StoreFixture.records(calls: 10)
            var checkpoint = FollowCheckpoint(
                path: path, device: UInt64.max - 1, inode: UInt64(1) << 63, offset: 4_096, nextLine: 17,
                fingerprint: "ab12",
                fingerprintLength: 1_024, generation: 1)
            let outcome = try await subject.store.ingest(records, checkpoint: checkpoint, correlator: self.correlator)
            #expect(outcome.newRecords == records.count)
            #expect(try await subject.store.followCheckpoint(path: path) == checkpoint)

            checkpoint.offset = 9_000
            checkpoint.generation = 2
            _ = try await subject.store.ingest([], checkpoint: checkpoint, correlator: self.correlator)
            #expect(try await subject.store.followCheckpoint(path: path) == checkpoint)
            #expect(try await subject.store.followCheckpoint(path: "/elsewhere") == nil)
        }
    }

    @Test(
        "a webhook cursor starts once, never moves back, and a dead letter is stored once with it",
        arguments: StoreKind.allCases)
    func webhookCursors(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            _ = try await subject.store.ingest(try StoreFixture.records(), correlator: self.correlator)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            let outbox = try await subject.store.outbox(after: 0, limit: 1_000_000)
            let end = try #require(outbox.last).seq
            let now = StoreFixture.endOfDay

            #expect(
                try await subject.store.webhookCursor("https://a.example/hook", startingAtEnd: true, at: now) == end)
            // Stored at once: asking again, even for the other start, answers where it started.
            #expect(
                try await subject.store.webhookCursor("https://a.example/hook", startingAtEnd: false, at: now) == end)
            #expect(try await subject.store.webhookCursor("https://b.example/hook", startingAtEnd: false, at: now) == 0)

            let entry = outbox[0]
            let letter = DeadLetter(
                url: "https://b.example/hook", seq: entry.seq, key: entry.key, kind: entry.kind.rawValue, attempts: 5,
                lastStatus: 503,
                lastError: "HTTP 503", firstAttemptAt: now, lastAttemptAt: now)
            try await subject.store.finishWebhookDelivery(
                "https://b.example/hook", seq: entry.seq, at: now, deadLetter: letter)
            try await subject.store.finishWebhookDelivery(
                "https://b.example/hook", seq: entry.seq, at: now, deadLetter: letter)
            #expect(try await subject.store.deadLetters(limit: 10) == [letter])
            try await subject.store.finishWebhookDelivery("https://b.example/hook", seq: 3, at: now, deadLetter: nil)
            try await subject.store.finishWebhookDelivery("https://b.example/hook", seq: 2, at: now, deadLetter: nil)
            #expect(
                try await subject.store.webhookCursor("https://b.example/hook", startingAtEnd: true, at: now)
                    == max(3, entry.seq))
            #expect(try await subject.store.totals().deadLetters == 1)
        }
    }

    @Test(
        "a person's action is stored once, marks its customer for derivation and changes the derived contact; unknown targets are not found",
        arguments: StoreKind.allCases)
    func actions(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            _ = try await subject.store.ingest(try StoreFixture.records(), correlator: self.correlator)
            let clock = try #require(StoreFixture.latest(try StoreFixture.records()))
            _ = try await subject.store.advanceClock(to: clock, correlator: self.correlator)
            let open = try #require(
                try await subject.store.contacts(ContactQuery(statuses: [.open, .awaitingCallback], limit: 1)).first)

            let resolve = ManualAction(
                id: "act-1", at: Timestamp(seconds: clock.seconds - 1), agent: AgentID("1001"),
                kind: .resolve(contact: open.id, note: "explained the bill"))
            try await subject.store.record(resolve)
            try await subject.store.record(resolve)
            #expect(try await subject.store.awaitingDerivation() == 1)
            let outcome = try await subject.store.advanceClock(to: clock, correlator: self.correlator)
            #expect(outcome.derived == 1)
            let detail = try #require(try await subject.store.contact(open.id, correlator: self.correlator))
            #expect(detail.contact.status == .resolved)
            #expect(detail.contact.resolution?.note == "explained the bill")

            await #expect(throws: StoreError.notFound("obligation nowhere-cb1")) {
                try await subject.store.record(
                    ManualAction(
                        id: "act-2", at: clock, agent: AgentID("1001"),
                        kind: .acknowledge(obligation: ObligationID("nowhere-cb1"))))
            }
            await #expect(throws: StoreError.self) {
                try await subject.store.record(
                    ManualAction(
                        id: "act-3", at: clock, agent: AgentID("1001"),
                        kind: .note(contact: ContactID("Cnowhere"), text: "?")))
            }
            #expect(try await subject.store.awaitingDerivation() == 0)
        }
    }

    @Test(
        "a violation reads alone by id; a review is recorded (replacing an earlier one) with an outbox notification; an unknown violation is not found",
        arguments: StoreKind.allCases)
    func reviews(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            _ = try await subject.store.ingest(try StoreFixture.records(), correlator: self.correlator)
            _ = try await subject.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            let violation = try #require(try await subject.store.violations().violations.first)
            #expect(try await subject.store.violation(violation.id) == violation)
            #expect(try await subject.store.violation(ViolationID("nowhere.v")) == nil)
            let at = StoreFixture.endOfDay
            try await subject.store.review(
                violation.id, ViolationReview(decision: .excuse, reason: "line down", by: "li", at: at))
            let accept = ViolationReview(
                decision: .accept, reason: "stands", by: "li", at: Timestamp(seconds: at.seconds + 60))
            try await subject.store.review(violation.id, accept)
            #expect(try await subject.store.reviews() == [violation.id: accept])
            #expect(try await subject.store.violations().reviews == [violation.id: accept])
            let reviews = try await subject.store.outbox(after: 0, limit: 1_000_000).filter { $0.kind == .review }
            #expect(reviews.count == 2)
            await #expect(throws: StoreError.notFound("violation nowhere.v")) {
                try await subject.store.review(ViolationID("nowhere.v"), accept)
            }
        }
    }

    @Test(
        "a purge summarises the period first (its figures stay), removes the settled contacts before the horizon, says the same when dry, and later records older than it are refused",
        arguments: StoreKind.allCases)
    func purge(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let records = try StoreFixture.records()
            _ = try await subject.store.ingest(records, correlator: self.correlator)
            // Weeks later every contact of the day has closed (auto_close) and settled.
            let later = Timestamp(seconds: StoreFixture.endOfDay.seconds + 30 * 86_400)
            _ = try await subject.store.advanceClock(to: later, correlator: self.correlator)
            let month = ReportPeriod(
                start: Timestamp(seconds: StoreFixture.endOfDay.seconds - 27 * 86_400),
                end: Timestamp(seconds: StoreFixture.endOfDay.seconds + 5 * 86_400))
            let tallies = try await subject.store.obligationTallies(dueFrom: month.start, to: month.end, scope: .all)
            let agents = try await subject.store.agentActivity(from: month.start, to: month.end)
            #expect(!tallies.isEmpty)
            let contacts = try await subject.store.totals().contacts
            #expect(try await subject.store.reportDataStart().map { $0 >= month.start && $0 < month.end } == true)

            let dry = try await subject.store.purge(before: month.end, summarising: [month], at: later, dryRun: true)
            #expect(try await subject.store.totals().contacts == contacts)
            #expect(try await subject.store.summarisedPeriods().isEmpty)
            let outcome = try await subject.store.purge(
                before: month.end, summarising: [month], at: later, dryRun: false)
            var expected = dry
            expected.dryRun = false
            #expect(outcome == expected)
            #expect(outcome.contacts > 0)
            #expect(outcome.records > 0)
            #expect(outcome.periodsSummarised == [month])
            #expect(try await subject.store.summarisedPeriods() == [month])
            #expect(try await subject.store.totals().contacts == contacts - outcome.contacts)
            try await subject.expectTotalsKept("after the purge")
            #expect(
                try await subject.store.obligationTallies(dueFrom: month.start, to: month.end, scope: .all) == tallies)
            #expect(try await subject.store.agentActivity(from: month.start, to: month.end) == agents)

            let again = try await subject.store.ingest(records, correlator: self.correlator)
            #expect(again.newRecords == 0)
            #expect(again.beyondRetention == records.filter { if case .record = $0 { true } else { false } }.count)
            #expect(try await subject.store.awaitingDerivation() == 0)
        }
    }

    @Test(
        "a purge removes a caller who only hung up within the abandon grace: no contact names them, their calls before the horizon go, and their row with them when nothing came after",
        arguments: StoreKind.allCases)
    func purgeQuickHangUps(kind: StoreKind) async throws {
        let cdr = AsteriskCDRDecoder(
            options: StoreFixture.configuration.asterisk, zone: StoreFixture.configuration.timezone)
        let lines = [
            #""","13955550000","96116","from-trunk","13955550000","PJSIP/trunk-00000091","","Queue","hotline,t,,,300","2026-11-27 10:00:00",,"2026-11-27 10:00:03",3,0,"NO ANSWER","DOCUMENTATION","1795744800.91","","","1795744800.91",91"#,
            #""","13955550000","96116","from-trunk","13955550000","PJSIP/trunk-00000093","","Queue","hotline,t,,,300","2026-11-27 11:00:00",,"2026-11-27 11:00:02",2,0,"NO ANSWER","DOCUMENTATION","1795748400.93","","","1795748400.93",93"#,
            // Another caller hangs up before the horizon and again after it: trimmed, not removed.
            #""","13955551111","96116","from-trunk","13955551111","PJSIP/trunk-00000095","","Queue","hotline,t,,,300","2026-11-27 12:00:00",,"2026-11-27 12:00:02",2,0,"NO ANSWER","DOCUMENTATION","1795752000.95","","","1795752000.95",95"#,
            #""","13955551111","96116","from-trunk","13955551111","PJSIP/trunk-00000097","","Queue","hotline,t,,,300","2026-11-29 12:00:00",,"2026-11-29 12:00:02",2,0,"NO ANSWER","DOCUMENTATION","1795924800.97","","","1795924800.97",97"#,
        ]
        let records = lines.enumerated().map { n, line in
            cdr.decode(line: Array(line.utf8), position: SourcePosition(source: "hang-ups", line: n + 1, offset: 0))
        }
        try await kind.withStore { subject in
            #expect(try await subject.store.ingest(records, correlator: self.correlator).newRecords == 4)
            let later = Timestamp(seconds: StoreFixture.endOfDay.seconds + 30 * 86_400)
            _ = try await subject.store.advanceClock(to: later, correlator: self.correlator)
            #expect(try await subject.store.totals().calls == 4)
            #expect(try await subject.store.totals().contacts == 0)
            let horizon = Timestamp(seconds: StoreFixture.endOfDay.seconds + 86_400)
            let dry = try await subject.store.purge(before: horizon, summarising: [], at: later, dryRun: true)
            #expect(try await subject.store.totals().calls == 4)
            let outcome = try await subject.store.purge(before: horizon, summarising: [], at: later, dryRun: false)
            var expected = dry
            expected.dryRun = false
            #expect(outcome == expected)
            #expect(outcome.calls == 3)
            #expect(outcome.records == 3)
            #expect(outcome.customersRemoved == 1)
            #expect(outcome.customersTrimmed == 1)
            #expect(try await subject.store.totals().calls == 1)
            // Derived again from the purged floor, nothing comes back and the later hang-up stays.
            _ = try await subject.store.advanceClock(to: later + 60, correlator: self.correlator)
            #expect(try await subject.store.snapshot().contacts.isEmpty)
            #expect(try await subject.store.totals().calls == 1)
            try await subject.expectTotalsKept("after the purge")
            // A second purge finds nothing more.
            let second = try await subject.store.purge(before: horizon, summarising: [], at: later, dryRun: false)
            #expect(second.calls == 0 && second.customersTrimmed == 0 && second.customersRemoved == 0)
        }
    }

    @Test(
        "the reports read the same figures from every store: the board, tallies by owner and agents' activity",
        arguments: StoreKind.allCases)
    func reportsAgreeWithSQLite(kind: StoreKind) async throws {
        let records = try StoreFixture.records()
        let clock = try #require(StoreFixture.latest(records))
        let day = (
            from: Timestamp(seconds: StoreFixture.endOfDay.seconds - 86_400),
            to: Timestamp(seconds: StoreFixture.endOfDay.seconds + 86_400)
        )
        let department = DepartmentID("service")
        func figures(_ store: any ContactStore) async throws -> (
            [BoardRow], [BoardRow], [ObligationTally], [AgentID: AgentActivity]
        ) {
            _ = try await store.ingest(records, correlator: self.correlator)
            _ = try await store.advanceClock(to: clock, correlator: self.correlator)
            return (
                try await store.openObligations(.all),
                try await store.openObligations(.agent(AgentID("1001"), department: department)),
                try await store.obligationTallies(dueFrom: day.from, to: day.to, scope: .departments([department])),
                try await store.agentActivity(from: day.from, to: day.to)
            )
        }
        var reference: ([BoardRow], [BoardRow], [ObligationTally], [AgentID: AgentActivity])?
        try await StoreKind.sqlite.withStore { reference = try await figures($0.store) }
        let expected = try #require(reference)
        #expect(!expected.0.isEmpty, "the first calls leave callbacks owed")
        #expect(!expected.2.isEmpty)
        #expect(!expected.3.isEmpty)
        try await kind.withStore { subject in
            let found = try await figures(subject.store)
            #expect(found.0 == expected.0)
            #expect(found.1 == expected.1)
            #expect(found.2 == expected.2)
            #expect(found.3 == expected.3)
        }
    }

    @Test(
        "a lease: one holder at a time, renewed by its holder, free once released or expired; SQLite grants every holder",
        arguments: StoreKind.allCases)
    func leases(kind: StoreKind) async throws {
        try await kind.withStore { subject in
            let store = subject.store
            // Leases long enough that a loaded test run asks again before they expire, but for
            // the one that is to expire.
            let long = Duration.seconds(600)
            #expect(try await store.acquireLease("webhook x", holder: "a", ttl: long))
            #expect(try await store.acquireLease("webhook x", holder: "a", ttl: long), "renewed")
            #expect(try await store.acquireLease("follow y", holder: "b", ttl: long), "another lease")
            let exclusive = kind != .sqlite
            #expect(try await store.acquireLease("webhook x", holder: "b", ttl: long) == !exclusive)
            try await store.releaseLease("webhook x", holder: "b")
            #expect(try await store.acquireLease("webhook x", holder: "c", ttl: long) == !exclusive)
            try await store.releaseLease("webhook x", holder: "a")
            let taken = ContinuousClock.now
            #expect(try await store.acquireLease("webhook x", holder: "c", ttl: .seconds(3)))
            let refused = try await store.acquireLease("webhook x", holder: "a", ttl: long) == !exclusive
            // (Unless this run was so slow that the lease expired meanwhile.)
            if taken.duration(to: .now) < .seconds(3) { #expect(refused) }
            try await Task.sleep(for: .milliseconds(3_200))
            #expect(try await store.acquireLease("webhook x", holder: "a", ttl: long), "expired")
            #expect(try await store.acquireLease("webhook x", holder: "c", ttl: long) == !exclusive)

            // A follower's batch is stored only while its instance holds the path's lease.
            let records = try StoreFixture.records(calls: 5)
            let checkpoint = FollowCheckpoint(
                path: "y", device: 1, inode: 2, offset: 100, nextLine: 3, fingerprint: "ab", fingerprintLength: 2,
                generation: 1)
            if exclusive {
                await #expect(throws: LeaseLost.self) {
                    try await store.ingest(
                        records, checkpoint: checkpoint, holding: LeaseClaim(name: "follow y", holder: "a"),
                        correlator: self.correlator)
                }
                #expect(try await store.followCheckpoint(path: "y") == nil)
                #expect(try await store.totals().records == 0)
            }
            let stored = try await store.ingest(
                records, checkpoint: checkpoint, holding: LeaseClaim(name: "follow y", holder: "b"),
                correlator: self.correlator)
            #expect(stored.newRecords == records.count)
            #expect(try await store.followCheckpoint(path: "y") == checkpoint)
        }
    }
}

/// What the store keeps of a contact (the `why` trail and people's registrations are derived
/// again on demand, not stored).
private struct Summary: Hashable, Comparable {
    var id: String
    var status: String
    var responder: String
    var obligations: [String]

    init(_ contact: Contact) {
        self.id = contact.id.rawValue
        self.status = contact.status.rawValue
        self.responder =
            contact.firstResponder.map { "\($0.agent.rawValue)@\($0.boundAt.seconds) \($0.via.rawValue)" } ?? "-"
        self.obligations = contact.obligations.map {
            "\($0.id.rawValue) \($0.kind.rawValue) \($0.state.rawValue) due \($0.dueAt.seconds) \($0.owner.department.rawValue)/\($0.owner.agent?.rawValue ?? "-")"
        }
    }

    static func < (a: Summary, b: Summary) -> Bool { a.id < b.id }
}
