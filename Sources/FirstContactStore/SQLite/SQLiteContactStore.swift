import Foundation
import FirstContactCore
import GRDB

/// The embedded store: one SQLite file in WAL mode (GRDB `DatabasePool`).
///
/// Ingest keeps the source records themselves (legs, queue events) keyed by a hash of their
/// bytes, so a record seen twice is stored once; calls are re-assembled from all their
/// records and customers re-derived from all their calls, which is what makes the derived
/// state independent of arrival order and batching.
package final class SQLiteContactStore: ContactStore {
    let pool: DatabasePool
    var reader: DatabasePool { self.pool }

    /// Opens (creating if needed) and migrates the database at `path`.
    package init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL with synchronous=NORMAL: a committed batch survives a crash or kill -9 of the
            // process; only an OS crash or power cut can roll back the last commits. A 64 MiB page
            // cache keeps re-derivation off the read syscalls (with the 2 MB default, 7 s of an
            // 18 s 100k-call ingest were kernel copies) while memory stays flat however large
            // the file (the 256 MiB memory map counts as resident once touched, and no more).
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 16384")
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteMigrations.migrator.migrate(self.pool)
    }

    // MARK: Ingest

    package func ingest(_ records: [IngestRecord], correlator: Correlator) async throws -> BatchOutcome {
        try await self.pool.write { db in try Self.ingest(records, correlator: correlator, db: db) }
    }

    package func ingest(batches: [[IngestRecord]], correlator: Correlator) async throws -> [Result<BatchOutcome, any Error>] {
        try await self.pool.write { db in
            var results: [Result<BatchOutcome, any Error>] = []
            for records in batches {
                // A savepoint per batch: one request's store error rolls back that request only.
                do {
                    var outcome = BatchOutcome()
                    try db.inSavepoint {
                        outcome = try Self.ingest(records, correlator: correlator, db: db)
                        return .commit
                    }
                    results.append(.success(outcome))
                } catch {
                    // Some errors (disk full, I/O) make SQLite roll back the whole transaction:
                    // then nothing after this point would be in it, so every batch fails.
                    guard db.isInsideTransaction else { throw error }
                    results.append(.failure(error))
                }
            }
            return results
        }
    }

    static func ingest(_ records: [IngestRecord], correlator: Correlator, db: Database) throws -> BatchOutcome {
        var outcome = BatchOutcome()
        var batchRecords: [CallKey: [CallRecord]] = [:]
        var order: [CallKey] = []
        var activity: Set<SourceMinute> = []
        var ivrCustomers: Set<String> = []
        for item in records {
            outcome.records += 1
            switch item {
            case .ignored:
                outcome.ignored += 1
            case .reject(let reject):
                outcome.rejects += 1
                try db.run("INSERT OR IGNORE INTO reject (source, byte_offset, line, reason, raw) VALUES (?, ?, ?, ?, ?)") {
                    $0.add(reject.position.source)
                    $0.add(reject.position.offset)
                    $0.add(reject.position.line)
                    $0.add(reject.reason)
                    $0.add(reject.raw)
                }
            case .record(.ivr(let event)):
                outcome.maxEventTime = max(outcome.maxEventTime ?? event.time, event.time)
                if let customer = try Self.insert(event, directory: correlator.directory, db: db) {
                    outcome.newRecords += 1
                    activity.insert(SourceMinute(source: event.position.source, minute: event.time.seconds / 60))
                    ivrCustomers.insert(customer)
                } else {
                    outcome.duplicates += 1
                }
            case .record(let record):
                let time = record.eventTime
                outcome.maxEventTime = max(outcome.maxEventTime ?? time, time)
                if try Self.insert(record, db: db) {
                    outcome.newRecords += 1
                    activity.insert(SourceMinute(source: record.position.source, minute: time.seconds / 60))
                    if batchRecords[record.call] == nil { order.append(record.call) }
                    batchRecords[record.call, default: []].append(record)
                } else {
                    outcome.duplicates += 1
                }
            }
        }
        for entry in activity {
            try db.run("INSERT OR IGNORE INTO source_activity (source, minute) VALUES (?, ?)") {
                $0.add(entry.source)
                $0.add(entry.minute)
            }
        }
        if let time = outcome.maxEventTime {
            let latest = try Self.meta(db, "latest_event").flatMap { Int64($0) }
            if latest.map({ time.seconds > $0 }) ?? true { try Self.setMeta(db, "latest_event", String(time.seconds)) }
        }
        for customer in ivrCustomers {
            try Self.markDirty(customer, db: db)
        }
        outcome.customersTouched = ivrCustomers.count
        guard !order.isEmpty else { return outcome }

        // Re-assemble every call that got a new record; mark the customers it touches for
        // derivation. Deriving waits for the clock (advanceClock), so a customer touched by
        // many batches of one run is derived once, at the run's watermark.
        let assembler = CallAssembler(directory: correlator.directory)
        var customers: Set<String> = []
        for callKey in order {
            // Most calls are new: their records are all in this batch, and one insert stores them.
            var call = assembler.assemble(callKey, records: batchRecords[callKey] ?? [])
            let inserted = try db.run("""
                INSERT INTO call (call_key, customer_key, direction, start, end) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(call_key) DO NOTHING
                """) {
                $0.add(callKey.rawValue)
                $0.add(call?.customerKey)
                $0.add(call?.direction.rawValue)
                $0.add(call?.start.seconds)
                $0.add(call?.end.seconds)
            }
            if inserted == 0 {
                let previous = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT customer_key FROM call WHERE call_key = ?"), arguments: [callKey.rawValue])
                call = assembler.assemble(callKey, records: try Self.records(of: callKey, db: db))
                try db.run("UPDATE call SET customer_key = ?, direction = ?, start = ?, end = ? WHERE call_key = ?") {
                    $0.add(call?.customerKey)
                    $0.add(call?.direction.rawValue)
                    $0.add(call?.start.seconds)
                    $0.add(call?.end.seconds)
                    $0.add(callKey.rawValue)
                }
                if let previous, previous != call?.customerKey { customers.insert(previous) }
            }
            if let key = call?.customerKey { customers.insert(key) }
        }
        outcome.callsTouched = order.count
        // A call to a number someone keyed in the IVR for a callback settles that someone's callback.
        // Cached statements here and in the clock: an HTTP group commit runs these every few
        // milliseconds, and preparing them again each time was a visible cost.
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM ivr_event WHERE callback_key IS NOT NULL)")) == true {
            for customer in customers {
                customers.formUnion(try String.fetchAll(
                    db.cachedStatement(sql: "SELECT DISTINCT customer_key FROM ivr_event WHERE callback_key = ?"), arguments: [customer]))
            }
        }
        customers.subtract(ivrCustomers)
        for customer in customers {
            try Self.markDirty(customer, db: db)
        }
        outcome.customersTouched += customers.count
        return outcome
    }

    /// Marks a customer for derivation at the next clock move (creating its row if it is new).
    static func markDirty(_ customer: String, db: Database) throws {
        try db.run("INSERT INTO customer (customer_key, dirty) VALUES (?, 1) ON CONFLICT(customer_key) DO UPDATE SET dirty = 1") {
            $0.add(customer)
        }
    }

    /// Stores one IVR event under its caller's number unless its key is already stored.
    /// - Returns: the customer it belongs to when it was new.
    private static func insert(_ event: IVRRecord, directory: Directory, db: Database) throws -> String? {
        let caller = directory.normaliser.normalise(event.caller)
        var keyed: CustomerNumber?
        var digit: String?
        if case .callbackRequest(let number?) = event.kind { keyed = directory.normaliser.normalise(number) }
        if case .menuChoice(let pressed) = event.kind { digit = pressed }
        // A withheld caller who keyed a number is known only by that number.
        let customer = caller == .withheld ? (keyed ?? caller).text : caller.text
        let callback = keyed.flatMap { $0.text == customer || $0 == .withheld ? nil : $0.text }
        let number: String? = if case .callbackRequest(let number) = event.kind { number } else { nil }
        let inserted = try db.run("""
            INSERT OR IGNORE INTO ivr_event (event_key, customer_key, callback_key, source, line, byte_offset, time, kind,
            caller, digit, number, call_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) {
            $0.add(event.key.rawValue)
            $0.add(customer)
            $0.add(callback)
            $0.add(event.position.source)
            $0.add(event.position.line)
            $0.add(event.position.offset)
            $0.add(event.time.seconds)
            $0.add(event.kindName)
            $0.add(event.caller)
            $0.add(digit)
            $0.add(number)
            $0.add(event.callReference)
        }
        return inserted > 0 ? customer : nil
    }

    /// The IVR events of a customer.
    static func ivrEvents(ofCustomer customer: String, db: Database) throws -> [IVRRecord] {
        try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT event_key, source, line, byte_offset, time, kind, caller, digit, number, call_ref
                FROM ivr_event WHERE customer_key = ?
                """), arguments: [customer]
        ).compactMap { row in
            let kind: IVRRecord.Kind
            switch row[5] as String {
            case "menu-choice": kind = .menuChoice(digit: row[7] ?? "")
            case "callback-request": kind = .callbackRequest(number: row[8])
            case "voicemail": kind = .voicemail
            case "menu-hangup": kind = .menuHangup
            default: return nil
            }
            return IVRRecord(
                key: EventKey(rawValue: row[0]), position: SourcePosition(source: row[1], line: row[2], offset: row[3]),
                time: Timestamp(seconds: row[4]), caller: row[6], callReference: row[9], kind: kind)
        }
    }

    /// Outbound calls to the other numbers this customer keyed for callbacks.
    static func relatedCalls(ofCustomer customer: String, tables: RecordTables, assembler: CallAssembler, db: Database) throws -> [Call] {
        let numbers = try String.fetchAll(
            db.cachedStatement(sql: "SELECT DISTINCT callback_key FROM ivr_event WHERE customer_key = ? AND callback_key IS NOT NULL"),
            arguments: [customer])
        return try numbers.flatMap { number in
            try Self.records(ofCustomer: number, tables: tables, db: db)
                .compactMap { assembler.assemble($0, records: $1) }
                .filter { $0.direction == .outbound }
        }
    }

    /// Inserts one record unless its key is already stored. - Returns: whether it was new.
    private static func insert(_ record: CallRecord, db: Database) throws -> Bool {
        switch record {
        case .leg(let leg):
            return try db.run("""
                INSERT OR IGNORE INTO leg (event_key, call_key, source, line, byte_offset, unique_id, src, caller_name, dst,
                context, channel, peer_channel, app, app_data, start, answer, end, billsec, disposition, sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(leg.key.rawValue)
                $0.add(leg.call.rawValue)
                $0.add(leg.position.source)
                $0.add(leg.position.line)
                $0.add(leg.position.offset)
                $0.add(leg.uniqueID)
                $0.add(leg.source)
                $0.add(leg.callerName)
                $0.add(leg.destination)
                $0.add(leg.context)
                $0.add(leg.channel)
                $0.add(leg.peerChannel)
                $0.add(leg.application)
                $0.add(leg.applicationData)
                $0.add(leg.start.seconds)
                $0.add(leg.answer?.seconds)
                $0.add(leg.end.seconds)
                $0.add(leg.billsec)
                $0.add(leg.disposition.rawValue)
                $0.add(leg.sequence)
            } > 0
        case .queue(let entry):
            let (event, text1, text2, number) = Self.encode(entry.event)
            return try db.run("""
                INSERT OR IGNORE INTO queue_event (event_key, call_key, source, line, byte_offset, time, queue, agent, event, text1, text2, number)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(entry.key.rawValue)
                $0.add(entry.call.rawValue)
                $0.add(entry.position.source)
                $0.add(entry.position.line)
                $0.add(entry.position.offset)
                $0.add(entry.time.seconds)
                $0.add(entry.queue)
                $0.add(entry.agent)
                $0.add(event)
                $0.add(text1)
                $0.add(text2)
                $0.add(number)
            } > 0
        case .sip(let row):
            return try db.run("""
                INSERT OR IGNORE INTO sip_event (event_key, call_key, source, line, byte_offset, kind, method, code, reason,
                from_tag, to_tag, caller, dialled, target, agent, time, start, answer)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(row.key.rawValue)
                $0.add(row.call.rawValue)
                $0.add(row.position.source)
                $0.add(row.position.line)
                $0.add(row.position.offset)
                $0.add(row.kind.rawValue)
                $0.add(row.method)
                $0.add(row.code)
                $0.add(row.reason)
                $0.add(row.fromTag)
                $0.add(row.toTag)
                $0.add(row.caller)
                $0.add(row.dialled)
                $0.add(row.target)
                $0.add(row.agent)
                $0.add(row.time.seconds)
                $0.add(row.start?.seconds)
                $0.add(row.answer?.seconds)
            } > 0
        case .ivr:
            preconditionFailure("IVR events are stored by insert(_:directory:db:)")
        }
    }
    /// Which record tables hold anything: a deployment reads one PBX's formats, and querying
    /// empty tables for every derived customer cost ≈18 % of an ingest (100k-call benchmark).
    struct RecordTables {
        var legs = true
        var queue = true
        var sip = true
        /// People's actions (acknowledgements): rare, so usually there is nothing to read.
        var actions = true
        /// IVR events: only where a PBX posts them.
        var ivr = true

        static func present(_ db: Database) throws -> RecordTables {
            func any(_ table: String) throws -> Bool {
                try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM \(table))")) ?? true
            }
            return RecordTables(
                legs: try any("leg"), queue: try any("queue_event"), sip: try any("sip_event"), actions: try any("action"),
                ivr: try any("ivr_event"))
        }
    }

    static func records(of call: CallKey, db: Database) throws -> [CallRecord] {
        try Self.records(
            db, tables: RecordTables(), legs: "leg WHERE call_key = ?", queue: "queue_event WHERE call_key = ?",
            sip: "sip_event WHERE call_key = ?", call.rawValue
        ).flatMap(\.value)
    }

    /// Every record of every call of a customer, by call, one query per record table in use.
    static func records(
        ofCustomer customer: String, tables: RecordTables = RecordTables(), db: Database
    ) throws -> [(CallKey, [CallRecord])] {
        let grouped = try Self.records(
            db, tables: tables, legs: "leg WHERE call_key IN (SELECT call_key FROM call WHERE customer_key = ?)",
            queue: "queue_event WHERE call_key IN (SELECT call_key FROM call WHERE customer_key = ?)",
            sip: "sip_event WHERE call_key IN (SELECT call_key FROM call WHERE customer_key = ?)", customer)
        // Calls whose records are all system lines still belong to nobody: nothing is lost by skipping them.
        return grouped.keys.sorted().map { ($0, grouped[$0] ?? []) }
    }

    private static func records(
        _ db: Database, tables: RecordTables, legs from: String, queue queueFrom: String, sip sipFrom: String,
        _ argument: String
    ) throws -> [CallKey: [CallRecord]] {
        var result: [CallKey: [CallRecord]] = [:]
        if tables.legs {
        // Columns by position, not by name: name lookups were a visible cost when re-assembling calls.
        let legs = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT event_key, source, line, byte_offset, unique_id, src, caller_name, dst, context, channel, peer_channel,
            app, app_data, start, answer, end, billsec, disposition, sequence, call_key FROM \(from)
            """), arguments: [argument])
        while let row = try legs.next() {
            let call = CallKey(rawValue: row[19])
            let answer: Int64? = row[14]
            let disposition: String = row[17]
            result[call, default: []].append(.leg(LegRecord(
                key: EventKey(rawValue: row[0]), position: SourcePosition(source: row[1], line: row[2], offset: row[3]),
                call: call, uniqueID: row[4], source: row[5], callerName: row[6], destination: row[7], context: row[8],
                channel: row[9], peerChannel: row[10], application: row[11], applicationData: row[12],
                start: Timestamp(seconds: row[13]), answer: answer.map { Timestamp(seconds: $0) },
                end: Timestamp(seconds: row[15]), billsec: row[16],
                disposition: LegDisposition(rawValue: disposition) ?? .unknown, sequence: row[18])))
        }
        }
        if tables.queue {
        let queue = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT event_key, source, line, byte_offset, time, queue, agent, event, text1, text2, number, call_key
            FROM \(queueFrom)
            """), arguments: [argument])
        while let row = try queue.next() {
            let call = CallKey(rawValue: row[11])
            result[call, default: []].append(.queue(QueueRecord(
                key: EventKey(rawValue: row[0]), position: SourcePosition(source: row[1], line: row[2], offset: row[3]),
                call: call, time: Timestamp(seconds: row[4]), queue: row[5], agent: row[6],
                event: Self.decode(event: row[7], text1: row[8], text2: row[9], number: row[10]))))
        }
        }
        if tables.sip {
        let sip = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT event_key, source, line, byte_offset, call_key, kind, method, code, reason, from_tag, to_tag,
            caller, dialled, target, agent, time, start, answer FROM \(sipFrom)
            """), arguments: [argument])
        while let row = try sip.next() {
            let call = CallKey(rawValue: row[4])
            let kind: String = row[5]
            let start: Int64? = row[16]
            let answer: Int64? = row[17]
            result[call, default: []].append(.sip(SIPRecord(
                key: EventKey(rawValue: row[0]), position: SourcePosition(source: row[1], line: row[2], offset: row[3]),
                call: call, kind: SIPRecord.Kind(rawValue: kind) ?? .transaction, method: row[6], code: row[7],
                reason: row[8], fromTag: row[9], toTag: row[10], caller: row[11], dialled: row[12], target: row[13],
                agent: row[14], time: Timestamp(seconds: row[15]), start: start.map { Timestamp(seconds: $0) },
                answer: answer.map { Timestamp(seconds: $0) })))
        }
        }
        return result
    }

    private static func encode(_ event: QueueEvent) -> (String, String, String, Int) {
        switch event {
        case .entered(let number): ("entered", number, "", 0)
        case .connected(let hold, let member): ("connected", member, "", hold)
        case .ringNoAnswer: ("ring_no_answer", "", "", 0)
        case .abandoned(let wait): ("abandoned", "", "", wait)
        case .exited(let reason, let wait): ("exited", reason, "", wait)
        case .completed: ("completed", "", "", 0)
        case .transferred(let ext, let context): ("transferred", ext, context, 0)
        case .other(let name): ("other", name, "", 0)
        }
    }

    private static func decode(event: String, text1: String, text2: String, number: Int) -> QueueEvent {
        switch event {
        case "entered": .entered(callerNumber: text1)
        case "connected": .connected(holdSeconds: number, memberUniqueID: text1)
        case "ring_no_answer": .ringNoAnswer
        case "abandoned": .abandoned(waitSeconds: number)
        case "exited": .exited(reason: text1, waitSeconds: number)
        case "completed": .completed
        case "transferred": .transferred(extension: text1, context: text2)
        default: .other(name: text1)
        }
    }

    // MARK: Derivation

    /// Re-derives one customer from all their calls and replaces the stored derived rows.
    /// - Parameter replacing: whether derived rows exist already (to compare and delete).
    /// - Returns: the number of amendments recorded (earlier conclusions that changed).
    private static func derive(
        _ customer: String, replacing: Bool, correlator: Correlator, clock: Timestamp, gaps: [FeedGap],
        tables: RecordTables, db: Database
    ) throws -> Int {
        let assembler = CallAssembler(directory: correlator.directory)
        let calls = try Self.records(ofCustomer: customer, tables: tables, db: db).compactMap { key, records in
            assembler.assemble(key, records: records)
        }
        let actions = tables.actions ? try Self.actions(ofCustomer: customer, db: db) : []
        let ivr = tables.ivr ? try Self.ivrEvents(ofCustomer: customer, db: db) : []
        let related = ivr.isEmpty ? [] : try Self.relatedCalls(ofCustomer: customer, tables: tables, assembler: assembler, db: db)
        let derivation = correlator.derive(
            customerKey: customer, calls: calls, actions: actions, ivr: ivr, related: related, gaps: gaps, clock: clock,
            explaining: false)

        let previous = replacing ? try Self.previousConclusions(of: customer, db: db) : PreviousConclusions()
        let amendments = try Self.recordChanges(customer, from: previous, to: derivation, clock: clock, db: db)
        if replacing {
            for table in ["contact", "obligation", "violation"] {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE customer_key = ?").execute(arguments: [customer])
            }
        }
        for contact in derivation.contacts { try Self.write(contact, customer: customer, db: db) }
        for violation in derivation.violations {
            try db.run("""
                INSERT INTO violation (id, customer_key, obligation_id, contact_id, category, department, agent, at, remedied_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(violation.id.rawValue)
                $0.add(customer)
                $0.add(violation.obligation?.rawValue)
                $0.add(violation.contact.rawValue)
                $0.add(violation.category.rawValue)
                $0.add(violation.department.rawValue)
                $0.add(violation.agent?.rawValue)
                $0.add(violation.at.seconds)
                $0.add(violation.remediedAt?.seconds)
            }
        }
        try db.run("UPDATE customer SET next_check = ?, dirty = 0, derived = 1 WHERE customer_key = ?") {
            $0.add(derivation.nextCheck?.seconds)
            $0.add(customer)
        }
        return amendments
    }

    private static func write(_ contact: Contact, customer: String, db: Database) throws {
        let responder = contact.firstResponder
        try db.run("""
            INSERT INTO contact (id, customer_key, customer, customer_raw, channel, department, category, status, repeat_of,
            fr_agent, fr_bound_at, fr_via, fr_call, ring_no_answer, calls, created_at, last_activity, closed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) {
            $0.add(contact.id.rawValue)
            $0.add(customer)
            $0.add(contact.customer.text)
            $0.add(contact.customerRaw)
            $0.add(contact.channel.rawValue)
            $0.add(contact.department?.rawValue)
            $0.add(contact.category.rawValue)
            $0.add(contact.status.rawValue)
            $0.add(contact.repeatOf?.rawValue)
            $0.add(responder?.agent.rawValue)
            $0.add(responder?.boundAt.seconds)
            $0.add(responder?.via.rawValue)
            $0.add(responder?.call?.rawValue)
            $0.add(contact.ringNoAnswer.map(\.rawValue).joined(separator: ","))
            $0.add(contact.calls.map(\.rawValue).joined(separator: ","))
            $0.add(contact.createdAt.seconds)
            $0.add(contact.lastActivity.seconds)
            $0.add(contact.closedAt?.seconds)
        }
        for o in contact.obligations {
            try db.run("""
                INSERT INTO obligation (id, contact_id, customer_key, kind, owner_department, owner_agent, created_at, due_at,
                ack_due_at, acknowledged_at, state, at_risk, uncertain, satisfied_at, satisfied_by, satisfied_via, attempts,
                missed_count, escalation_level, breached_at, call_key, callback_number)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(o.id.rawValue)
                $0.add(contact.id.rawValue)
                $0.add(customer)
                $0.add(o.kind.rawValue)
                $0.add(o.owner.department.rawValue)
                $0.add(o.owner.agent?.rawValue)
                $0.add(o.createdAt.seconds)
                $0.add(o.dueAt.seconds)
                $0.add(o.ackDueAt?.seconds)
                $0.add(o.acknowledgedAt?.seconds)
                $0.add(o.state.rawValue)
                $0.add(o.atRisk)
                $0.add(o.uncertain)
                $0.add(o.satisfiedAt?.seconds)
                $0.add(o.satisfiedBy?.rawValue)
                $0.add(o.satisfiedVia?.rawValue)
                $0.add(o.attempts)
                $0.add(o.missedCount)
                $0.add(o.escalationLevel)
                $0.add(o.breachedAt?.seconds)
                $0.add(o.call.rawValue)
                $0.add(o.callbackNumber?.text)
            }
        }
    }

    // MARK: Clock

    package func advanceClock(to time: Timestamp, correlator: Correlator) async throws -> ClockOutcome {
        // Customers with new records, then those whose next change is due: never a scan of
        // everything pending (both come from partial indexes). One transaction per chunk keeps
        // the WAL and memory bounded; a crash between chunks leaves the rest dirty or due, and
        // the next call picks them up.
        let chunkSize = 1000
        let dirty = "SELECT customer_key, derived FROM customer WHERE dirty = 1 LIMIT \(chunkSize)"
        let due = "SELECT customer_key, derived FROM customer WHERE next_check IS NOT NULL AND next_check <= ? ORDER BY next_check, customer_key LIMIT \(chunkSize)"
        // The clock, the feeds and the first chunk of new records commit together: one commit
        // fewer per HTTP group commit (a commit writes every page it touched to the WAL).
        let (clock, gaps, first) = try await self.pool.write { db in
            let clock = max(try Self.storedClock(db) ?? time, time)
            try Self.setMeta(db, "clock", String(clock.seconds))
            let gaps = try Self.checkFeeds(correlator.directory.configuration, clock: clock, db: db)
            return (clock, gaps, try Self.deriveChunk(dirty, clock: clock, gaps: gaps, correlator: correlator, db: db))
        }
        var outcome = ClockOutcome(clock: clock)
        outcome.derived = first.derived
        outcome.amendments = first.amendments
        // A short chunk was all there was: asking again would be one more write transaction
        // (per HTTP group commit) to find nothing. Whatever became dirty meanwhile was marked by
        // a writer that ticks after its own commit.
        for (sql, done) in [(dirty, first.derived < chunkSize), (due, false)] where !done {
            while true {
                let chunk = try await self.pool.write { db in
                    try Self.deriveChunk(sql, clock: clock, gaps: gaps, correlator: correlator, db: db)
                }
                outcome.derived += chunk.derived
                outcome.amendments += chunk.amendments
                if chunk.derived < chunkSize { break }
            }
        }
        return outcome
    }

    /// Derives the customers `sql` selects (at most a chunk), at `clock`.
    private static func deriveChunk(
        _ sql: String, clock: Timestamp, gaps: [FeedGap], correlator: Correlator, db: Database
    ) throws -> ClockOutcome {
        var chunk = ClockOutcome(clock: clock)
        let tables = try RecordTables.present(db)
        for row in try Row.fetchAll(db.cachedStatement(sql: sql), arguments: sql.contains("?") ? [clock.seconds] : []) {
            chunk.amendments += try Self.derive(
                row[0], replacing: row[1], correlator: correlator, clock: clock, gaps: gaps, tables: tables, db: db)
            chunk.derived += 1
        }
        return chunk
    }

    package func clock() async throws -> Timestamp? {
        try await self.pool.read { db in try Self.storedClock(db) }
    }

    package func latestEventTime() async throws -> Timestamp? {
        try await self.pool.read { db in try Self.meta(db, "latest_event").flatMap(Int64.init).map(Timestamp.init(seconds:)) }
    }

    static func storedClock(_ db: Database) throws -> Timestamp? {
        try Self.meta(db, "clock").flatMap(Int64.init).map(Timestamp.init(seconds:))
    }

    private static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    private static func setMeta(_ db: Database, _ key: String, _ value: String) throws {
        try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [key, value])
    }
}
