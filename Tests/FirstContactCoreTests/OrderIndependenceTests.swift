import Testing

@testable import FirstContactCore

// SPEC "Inputs": the derived state (contacts, obligations, violations) is a function of the set of
// records and of the clock — never of arrival order or batching. Ingesting a record twice changes
// nothing.

/// A multi-call, multi-customer stretch of traffic and the clock it is evaluated at.
struct TrafficScenario: Sendable, CustomTestStringConvertible {
    let name: String
    let records: [CallRecord]
    let clock: Timestamp
    var testDescription: String { self.name }

    /// Every customer's calls, by customer key.
    var callsByCustomer: [String: [Call]] {
        Dictionary(grouping: ScenarioKit.calls(from: self.records).filter { $0.customerKey != nil }) {
            $0.customerKey ?? ""
        }
    }

    /// Late enough for the scenario's contacts to auto-close.
    var settledClock: Timestamp { self.clock + 4 * 86_400 }

    /// Every moment one of `calls` starts or ends (and the second after), the scenario's clock,
    /// two days later and ``settledClock``, in order.
    func moments(_ calls: [Call]) -> [Timestamp] {
        Set(
            calls.flatMap { [$0.start, $0.end, $0.end + 1] } + [self.clock, self.clock + 2 * 86_400, self.settledClock]
        ).sorted()
    }

    /// Every customer's derivation from the records as written.
    var baseline: [String: Derivation] {
        ScenarioKit.deriveAll(ScenarioKit.calls(from: self.records), clock: self.clock)
    }

    static let all: [TrafficScenario] = [missesAndCallbacks, transfersAndHandoffs, repeatsAcrossDays, quickHangUps]

    /// Customer A: missed twice (folded), two unanswered attempts, then a late answered callback.
    /// Customer B: answered first time, then a short abandon that attaches. An internal call.
    static let missesAndCallbacks: TrafficScenario = {
        let pbx = PBX()
        pbx.inbound("a1", at: "2026-11-26 10:00:00").queue("hotline").rings("1001", until: "10:00:15").abandons(
            at: "10:00:40")
        pbx.inbound("b1", from: ScenarioKit.otherCustomer, at: "2026-11-26 10:01:00").queue("hotline")
            .rings("1001", until: "10:01:15").answered(by: "1002", at: "10:01:20", until: "10:09:00")
        pbx.outbound("ao1", by: "1001", to: "013812345678", at: "2026-11-26 10:05:00", until: "10:05:30")
        pbx.inbound("a2", dialled: "1001", at: "2026-11-26 10:12:00").rings("1001", until: "10:12:30")
        pbx.internalCall(
            "i1", from: "1001", to: "1002", at: "2026-11-26 10:20:00", answered: "10:20:04", until: "10:22:00")
        pbx.outbound("ao2", by: "1002", at: "2026-11-26 10:25:00", until: "10:25:20", disposition: .busy)
        pbx.inbound("b2", from: ScenarioKit.otherCustomer, at: "2026-11-26 10:30:00").queue("hotline").abandons(
            at: "10:30:02")
        pbx.outbound("ao3", by: "1001", at: "2026-11-26 10:50:00", answered: "10:50:09", until: "10:56:00")
        return TrafficScenario(
            name: "misses, attempts and a late callback", records: pbx.records, clock: at("2026-11-26 16:00:00"))
    }()

    /// Customer A: transferred service → repairs → service (passed_around). Customer B: failed
    /// transfer to repairs, acknowledged by a repairs agent's outbound call. Customer C: missed in
    /// the repairs queue at night.
    static let transfersAndHandoffs: TrafficScenario = {
        let pbx = PBX()
        pbx.inbound("a1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:02:00", transferTo: "repairs")
            .queue("repairs").answered(by: "1011", at: "09:02:10", until: "09:04:00", transferTo: "1002")
            .answered(by: "1002", at: "09:04:10", until: "09:08:00")
        pbx.inbound("b1", from: ScenarioKit.otherCustomer, at: "2026-11-26 09:01:00").queue("hotline")
            .rings("1002", until: "09:01:10")
            .answered(by: "1001", at: "09:01:15", until: "09:03:00", transferTo: "repairs")
            .queue("repairs").rings("1011", until: "09:03:20").abandons(at: "09:05:00")
        pbx.outbound(
            "bo1", by: "1011", to: "13987654321", at: "2026-11-26 09:20:00", answered: "09:20:05", until: "09:24:00")
        pbx.inbound("c1", from: "02162345678", at: "2026-11-26 23:10:00").queue("repairs").abandons(at: "23:10:45")
        return TrafficScenario(name: "transfers and hand-offs", records: pbx.records, clock: at("2026-11-27 12:00:00"))
    }()

    /// Customer A: answered Thursday, closes Friday, calls again Saturday (repeat_of), missed, and
    /// the callback is never made (breach, escalation, not_escalated on Monday).
    static let repeatsAcrossDays: TrafficScenario = {
        let pbx = PBX()
        pbx.inbound("a1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        pbx.inbound("a2", at: "2026-11-28 10:00:00").queue("hotline").rings("1002", until: "10:00:20").abandons(
            at: "10:01:00")
        pbx.inbound("a3", at: "2026-11-28 11:00:00").queue("hotline").abandons(at: "11:00:30")
        pbx.inbound("b1", from: ScenarioKit.otherCustomer, at: "2026-11-27 17:59:00").queue("hotline").abandons(
            at: "18:00:00")
        pbx.outbound(
            "bo1", by: "1002", to: "13987654321", at: "2026-11-30 08:40:00", answered: "08:40:10", until: "08:45:00")
        return TrafficScenario(name: "repeats across days", records: pbx.records, clock: at("2026-11-30 17:00:00"))
    }()

    /// Customer A hangs up within the abandon grace on three days (no contact), then misses a
    /// call that is called back, then hangs up quickly again. Customer B is answered, then only
    /// hangs up quickly. Customer C never stays on the line past the grace.
    static let quickHangUps: TrafficScenario = {
        let pbx = PBX()
        for (n, day) in ["2026-11-23", "2026-11-24", "2026-11-25"].enumerated() {
            pbx.inbound("a\(n)", at: "\(day) 09:00:00").queue("hotline").abandons(at: "09:00:03")
            pbx.inbound("c\(n)", from: "02162345678", at: "\(day) 11:00:00").queue("repairs").abandons(at: "11:00:02")
        }
        pbx.inbound("a3", at: "2026-11-26 09:00:00").queue("hotline").rings("1001", until: "09:00:20").abandons(
            at: "09:00:40")
        pbx.outbound("ao1", by: "1001", at: "2026-11-26 09:30:00", answered: "09:30:08", until: "09:34:00")
        pbx.inbound("a4", at: "2026-11-27 09:00:00").queue("hotline").abandons(at: "09:00:02")
        pbx.inbound("b1", from: ScenarioKit.otherCustomer, at: "2026-11-23 10:00:00").queue("hotline").answered(
            by: "1002", at: "10:00:10", until: "10:04:00")
        pbx.inbound("b2", from: ScenarioKit.otherCustomer, at: "2026-11-26 10:00:00").queue("hotline").abandons(
            at: "10:00:04")
        pbx.inbound("b3", from: ScenarioKit.otherCustomer, at: "2026-11-27 10:00:00").queue("hotline").abandons(
            at: "10:00:01")
        return TrafficScenario(
            name: "hang-ups within the grace", records: pbx.records, clock: at("2026-11-27 17:00:00"))
    }()
}

@Suite("Order independence — derivations depend on the set of records and the clock only")
struct OrderIndependenceTests {
    @Test(
        "the scenarios are not trivial: each has several customers, contacts and obligations",
        arguments: TrafficScenario.all)
    func scenariosAreMeaningful(_ scenario: TrafficScenario) {
        let baseline = scenario.baseline
        #expect(baseline.count >= 2)
        #expect(baseline.values.reduce(0) { $0 + $1.contacts.count } >= 2)
        #expect(baseline.values.reduce(0) { $0 + $1.contacts.reduce(0) { $0 + $1.obligations.count } } >= 1)
    }

    @Test(
        "a seeded shuffle of the records gives the same calls and the same derivations",
        arguments: TrafficScenario.all, 1...8)
    func shuffledRecords(_ scenario: TrafficScenario, seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let shuffled = scenario.records.shuffled(using: &generator)
        let calls = ScenarioKit.calls(from: shuffled)
        #expect(calls == ScenarioKit.calls(from: scenario.records))
        #expect(ScenarioKit.deriveAll(calls, clock: scenario.clock) == scenario.baseline)
    }

    @Test(
        "a seeded shuffle of each call's records passed to the assembler gives the same call",
        arguments: TrafficScenario.all, 1...4)
    func shuffledWithinCall(_ scenario: TrafficScenario, seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &* 7919)
        let assembler = CallAssembler(directory: ScenarioKit.directory)
        var byCall: [CallKey: [CallRecord]] = [:]
        for record in scenario.records { byCall[record.call, default: []].append(record) }
        for key in byCall.keys.sorted() {
            let records = byCall[key] ?? []
            #expect(
                assembler.assemble(key, records: records.shuffled(using: &generator))
                    == assembler.assemble(key, records: records))
            #expect(
                assembler.assemble(key, records: Array(records.reversed())) == assembler.assemble(key, records: records)
            )
        }
    }

    @Test(
        "a derivation from the settled past an earlier derivation left returns the full derivation's later contacts, and the contacts before it never change",
        arguments: TrafficScenario.all)
    func settledPastIsFinal(_ scenario: TrafficScenario) {
        let correlator = Correlator(directory: ScenarioKit.directory)
        let clock = scenario.settledClock
        var resumedFromPast = 0
        for (customer, calls) in scenario.callsByCustomer {
            let full = correlator.derive(customerKey: customer, calls: calls, clock: clock)
            // An earlier derivation at every moment a call starts or ends, knowing the calls ended by then.
            for moment in scenario.moments(calls) {
                let known = calls.filter { $0.end < moment }
                let earlier = correlator.derive(customerKey: customer, calls: known, clock: moment)
                guard let past = earlier.settled else { continue }
                // A call older than the settled past arriving later drops it (the store derives from every record).
                guard !calls.contains(where: { $0.end >= moment && $0.start < past.before }) else { continue }
                resumedFromPast += 1
                let resumed = correlator.derive(customerKey: customer, calls: calls, clock: clock, after: past)
                #expect(resumed.contacts == full.contacts.filter { $0.createdAt >= past.before })
                #expect(resumed.nextCheck == full.nextCheck)
                let later = Set(resumed.contacts.map(\.id))
                #expect(resumed.violations == full.violations.filter { later.contains($0.contact) })
                let settled = earlier.contacts.filter { $0.createdAt < past.before }
                #expect(settled == full.contacts.filter { $0.createdAt < past.before })
                let settledIDs = Set(settled.map(\.id))
                #expect(
                    earlier.violations.filter { settledIDs.contains($0.contact) }
                        == full.violations.filter { settledIDs.contains($0.contact) })
            }
        }
        #expect(resumedFromPast > 0, "no earlier derivation left a settled past: nothing was checked")
    }

    /// What the store does over a day: at every moment a call starts or ends, the calls ended by
    /// then are derived again from the resume point and settled past the derivation before left,
    /// unless a newly known call is older than them (then the store drops them). Each result must
    /// be what a derivation from every known call returns.
    @Test(
        "a derivation resumed where the one before stopped returns what a derivation from every call returns, moment after moment",
        arguments: TrafficScenario.all)
    func resumedEqualsFull(_ scenario: TrafficScenario) {
        let correlator = Correlator(directory: ScenarioKit.directory)
        let clock = scenario.settledClock
        var resumed = 0
        for (customer, calls) in scenario.callsByCustomer {
            var past: SettledPast?
            var resume: ResumePoint?
            var known: Set<CallKey> = []
            for moment in scenario.moments(calls) {
                let now = calls.filter { $0.end < moment || moment == clock }
                let arrived = now.filter { !known.contains($0.key) }
                known.formUnion(arrived.map(\.key))
                if let point = resume, arrived.contains(where: { $0.start < point.before }) { resume = nil }
                if let settled = past, arrived.contains(where: { $0.start < settled.before }) {
                    (past, resume) = (nil, nil)
                }
                let full = correlator.derive(customerKey: customer, calls: now, clock: moment, explaining: false)
                let derived = correlator.derive(
                    customerKey: customer, calls: now, clock: moment, explaining: false, after: past, resuming: resume)
                if resume != nil { resumed += 1 }
                let since = past?.before ?? .beforeAnyRecord
                #expect(derived.contacts == full.contacts.filter { $0.createdAt >= since }, "\(customer) at \(moment)")
                let later = Set(derived.contacts.map(\.id))
                #expect(derived.violations == full.violations.filter { later.contains($0.contact) })
                #expect(derived.nextCheck == full.nextCheck)
                // The resume point does not depend on how the state was reached.
                if derived.settled == full.settled { #expect(derived.resume == full.resume) }
                // What the store keeps of it reads back as the same point, and nothing cut short does.
                if let point = derived.resume {
                    #expect(ResumePoint(bytes: point.bytes) == point)
                    #expect(ResumePoint(bytes: Array(point.bytes.dropLast())) == nil)
                    var beyond = point
                    beyond.open = point.contacts.count
                    #expect(ResumePoint(bytes: beyond.bytes) == nil, "an open contact past the last one")
                }
                (past, resume) = (derived.settled, derived.resume)
            }
        }
        #expect(resumed > 0, "no derivation resumed: nothing was checked")
    }

    @Test(
        "a resume point is left once the contacts it would carry hold two calls: one call is walked again for less than its bytes cost"
    )
    func resumePointNeedsTwoCalls() throws {
        let calls = ScenarioKit.calls(from: TrafficScenario.missesAndCallbacks.records)
            .filter { $0.customerKey == ScenarioKit.customerKey }.sorted { $0.end < $1.end }
        let correlator = Correlator(directory: ScenarioKit.directory)
        func point(after count: Int) -> ResumePoint? {
            let some = Array(calls.prefix(count))
            return correlator.derive(
                customerKey: ScenarioKit.customerKey, calls: some, clock: (some.last?.end ?? .beforeAnyRecord) + 1,
                explaining: false
            ).resume
        }
        #expect(point(after: 1) == nil)
        #expect(point(after: 2)?.contacts.flatMap(\.calls).count == 2)
    }

    @Test(
        "a customer whose calls all ended within the abandon grace is settled up to their last call: the next derivation reads only what came after"
    )
    func quickHangUpsAreSettled() throws {
        let scenario = TrafficScenario.quickHangUps
        let correlator = Correlator(directory: ScenarioKit.directory)
        let calls = try #require(scenario.callsByCustomer["+862162345678"])
        #expect(calls.count == 3)
        let derived = correlator.derive(customerKey: "+862162345678", calls: calls, clock: scenario.clock)
        #expect(derived.contacts.isEmpty)
        let past = try #require(derived.settled)
        #expect(past.before == (calls.map(\.end).max() ?? .beforeAnyRecord) + 1)
        #expect(past.last == nil)
        // Customer B's answered contact is the one a later contact would repeat, across the hang-ups.
        let b = try #require(scenario.callsByCustomer[ScenarioKit.otherCustomerKey])
        let first = correlator.derive(
            customerKey: ScenarioKit.otherCustomerKey, calls: b, clock: scenario.clock, explaining: false)
        let closed = try #require(first.contacts.first)
        #expect(first.contacts.count == 1)
        #expect(first.settled?.last == SettledPast.LastContact(closed.id, closedAt: try #require(closed.closedAt)))
        #expect(first.settled?.before == (b.map(\.end).max() ?? .beforeAnyRecord) + 1)
    }

    @Test("a resume point walked under other rules is not used: the walk starts at the settled past")
    func resumeUnderOtherRules() throws {
        let scenario = TrafficScenario.missesAndCallbacks
        let calls = ScenarioKit.calls(from: scenario.records).filter { $0.customerKey == ScenarioKit.customerKey }
        // A point carries at least two calls (ResumePoint.fewestCalls).
        let firsts = Array(calls.sorted { $0.end < $1.end }.prefix(2))
        let original = Correlator(directory: ScenarioKit.directory)
        let earlier = original.derive(
            customerKey: ScenarioKit.customerKey, calls: firsts, clock: (firsts.last?.end ?? .beforeAnyRecord) + 1,
            explaining: false)
        let point = try #require(earlier.resume)
        // Under a grace longer than the first caller waited, that call opens nothing: a walk
        // that went on from the point would keep the contact it opened.
        let stricter = Correlator(directory: ScenarioKit.directory { $0.abandonGrace = 600 })
        #expect(stricter.rules != original.rules)
        #expect(Correlator(directory: ScenarioKit.directory).rules == original.rules)
        let later = calls.filter { $0.start >= point.before }
        let full = stricter.derive(
            customerKey: ScenarioKit.customerKey, calls: later + firsts, clock: scenario.clock, explaining: false)
        let opened = try #require(earlier.contacts.first?.id)
        #expect(!full.contacts.contains { $0.id == opened })
        #expect(
            stricter.derive(
                customerKey: ScenarioKit.customerKey, calls: later + firsts, clock: scenario.clock, explaining: false,
                resuming: point) == full)
    }

    @Test(
        "a seeded shuffle of the calls passed to derive gives the same derivation",
        arguments: TrafficScenario.all, 1...8)
    func shuffledCalls(_ scenario: TrafficScenario, seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed) &+ 1000)
        let correlator = Correlator(directory: ScenarioKit.directory)
        let byCustomer = scenario.callsByCustomer
        let baseline = scenario.baseline
        for (customer, calls) in byCustomer {
            let derived = correlator.derive(
                customerKey: customer, calls: calls.shuffled(using: &generator), clock: scenario.clock)
            #expect(derived == baseline[customer])
            let reversed = correlator.derive(
                customerKey: customer, calls: Array(calls.reversed()), clock: scenario.clock)
            #expect(reversed == baseline[customer])
        }
    }

    /// Ingest-like batching: the records arrive in `batches` runs (seeded cut points of a seeded
    /// shuffle); after each run the touched calls are re-assembled from everything stored so far
    /// and their customers re-derived at the run's watermark. The last state must equal the
    /// one-shot derivation.
    @Test(
        "splitting the records into different ingest batches gives the same final derivations",
        arguments: TrafficScenario.all, 2...5)
    func batched(_ scenario: TrafficScenario, batches: Int) {
        var generator = SeededGenerator(seed: UInt64(batches) &* 31)
        let arrival = scenario.records.shuffled(using: &generator)
        var cuts = Set<Int>()
        while cuts.count < batches - 1 { cuts.insert(Int.random(in: 1..<arrival.count, using: &generator)) }
        let bounds = [0] + cuts.sorted() + [arrival.count]

        let assembler = CallAssembler(directory: ScenarioKit.directory)
        let correlator = Correlator(directory: ScenarioKit.directory)
        var stored: [CallKey: [CallRecord]] = [:]
        var calls: [CallKey: Call] = [:]
        var state: [String: Derivation] = [:]
        for index in 0..<(bounds.count - 1) {
            let batch = arrival[bounds[index]..<bounds[index + 1]]
            var touchedCustomers = Set<String>()
            for record in batch { stored[record.call, default: []].append(record) }
            for key in Set(batch.map(\.call)) {
                if let old = calls[key]?.customerKey { touchedCustomers.insert(old) }
                calls[key] = assembler.assemble(key, records: stored[key] ?? [])
                if let new = calls[key]?.customerKey { touchedCustomers.insert(new) }
            }
            let watermark = batch.map(\.eventTime).max() ?? scenario.clock
            for customer in touchedCustomers {
                let mine = calls.values.filter { $0.customerKey == customer }
                state[customer] =
                    mine.isEmpty ? nil : correlator.derive(customerKey: customer, calls: Array(mine), clock: watermark)
            }
        }
        // Final tick at the scenario's clock, for every customer.
        for customer in state.keys {
            let mine = calls.values.filter { $0.customerKey == customer }
            state[customer] = correlator.derive(customerKey: customer, calls: Array(mine), clock: scenario.clock)
        }
        #expect(state == scenario.baseline)
    }

    @Test("records of one call grouped from different files and runs assemble to the same call")
    func groupingAcrossSources() throws {
        let scenario = TrafficScenario.transfersAndHandoffs
        let assembler = CallAssembler(directory: ScenarioKit.directory)
        let key = CallKey("a1")
        let records = scenario.records.filter { $0.call == key }
        // queue_log first then Master.csv, versus Master.csv first then queue_log, versus interleaved.
        let queueFirst =
            records.filter { if case .queue = $0 { true } else { false } }
            + records.filter { if case .leg = $0 { true } else { false } }
        let legsFirst =
            records.filter { if case .leg = $0 { true } else { false } }
            + records.filter { if case .queue = $0 { true } else { false } }
        let expected = try #require(assembler.assemble(key, records: records))
        #expect(assembler.assemble(key, records: queueFirst) == expected)
        #expect(assembler.assemble(key, records: legsFirst) == expected)
        #expect(expected.transfers.count == 2)
    }

    @Test("deriving twice from the same calls gives identical derivations", arguments: TrafficScenario.all)
    func deterministic(_ scenario: TrafficScenario) {
        let calls = ScenarioKit.calls(from: scenario.records)
        let first = ScenarioKit.deriveAll(calls, clock: scenario.clock)
        let second = ScenarioKit.deriveAll(calls, clock: scenario.clock)
        #expect(first == second)
        #expect(first == scenario.baseline)
    }

    @Test("a duplicate record fed to the assembler changes nothing", arguments: TrafficScenario.all)
    func duplicateRecord(_ scenario: TrafficScenario) {
        let baseline = scenario.baseline
        let baseCalls = ScenarioKit.calls(from: scenario.records)
        var changedCalls: [String] = []
        var changedDerivations: [String] = []
        var changedSubstance: [String] = []
        for (index, record) in scenario.records.enumerated() {
            var records = scenario.records
            records.insert(record, at: (index * 7) % (records.count + 1))
            let calls = ScenarioKit.calls(from: records)
            if calls != baseCalls { changedCalls.append(record.position.description) }
            let derived = ScenarioKit.deriveAll(calls, clock: scenario.clock)
            if derived != baseline { changedDerivations.append(record.position.description) }
            if derived.mapValues(\.substance) != baseline.mapValues(\.substance) {
                changedSubstance.append(record.position.description)
            }
        }
        // Contacts, obligations and violations without the `why` trail's evidence lists.
        #expect(
            changedSubstance.isEmpty,
            "a duplicate of these records changed contacts, obligations or violations: \(changedSubstance)")
        #expect(changedCalls.isEmpty, "a duplicate of these records changed the assembled calls: \(changedCalls)")
        #expect(
            changedDerivations.isEmpty, "a duplicate of these records changed the derivation: \(changedDerivations)")
    }

    @Test("every record fed twice changes nothing", arguments: TrafficScenario.all)
    func everyRecordTwice(_ scenario: TrafficScenario) {
        let calls = ScenarioKit.calls(from: scenario.records + scenario.records)
        let sameCalls = calls == ScenarioKit.calls(from: scenario.records)
        let derived = ScenarioKit.deriveAll(calls, clock: scenario.clock)
        let sameDerivation = derived == scenario.baseline
        let sameSubstance = derived.mapValues(\.substance) == scenario.baseline.mapValues(\.substance)
        #expect(sameCalls, "the calls assembled from every record twice differ")
        #expect(sameDerivation, "the derivations from every record twice differ")
        #expect(sameSubstance, "contacts, obligations or violations from every record twice differ")
    }
}

extension Derivation {
    /// The derivation without the `why` trail (whose entries carry the evidence positions).
    var substance: Derivation {
        var copy = self
        for index in copy.contacts.indices { copy.contacts[index].why = [] }
        return copy
    }
}
