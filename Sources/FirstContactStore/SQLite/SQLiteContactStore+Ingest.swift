import FirstContactCore
import GRDB

/// Records in: a batch stored idempotently, its calls re-assembled, their customers marked for derivation.
extension SQLiteContactStore {
    package func ingest(_ records: [IngestRecord], correlator: Correlator) async throws -> BatchOutcome {
        try await self.pool.write { db in try Self.ingest(records, correlator: correlator, live: self.live, db: db) }
    }

    package func ingest(batches: [[IngestRecord]], correlator: Correlator) async throws -> [Result<
        BatchOutcome, any Error
    >] {
        try await self.pool.write { db in try self.ingest(batches: batches, correlator: correlator, db: db) }
    }

    /// The batches, each in a savepoint of the caller's transaction.
    func ingest(batches: [[IngestRecord]], correlator: Correlator, db: Database) throws -> [Result<
        BatchOutcome, any Error
    >] {
        var results: [Result<BatchOutcome, any Error>] = []
        for records in batches {
            // A savepoint per batch: one request's store error rolls back that request only.
            do {
                var outcome = BatchOutcome()
                try db.inSavepoint {
                    outcome = try Self.ingest(records, correlator: correlator, live: self.live, db: db)
                    return .commit
                }
                results.append(.success(outcome))
            } catch {
                // Some errors (disk full, I/O) make SQLite roll back the whole transaction:
                // then nothing after this point would be in it, so every batch fails.
                guard db.isInsideTransaction else { throw error }
                results.append(.failure(self.pool.mapped(error)))
            }
        }
        return results
    }

    static func ingest(_ records: [IngestRecord], correlator: Correlator, live: Bool, db: Database) throws
        -> BatchOutcome
    {
        if live { try Self.noteBackfill(records, lateness: correlator.directory.policy.lateness, db: db) }
        var outcome = BatchOutcome()
        var batchRecords: [CallKey: [CallRecord]] = [:]
        var order: [CallKey] = []
        var activity: Set<SourceMinute> = []
        // Per customer touched, the earliest time of what is new (nil: derive from every record).
        var ivrCustomers: [String: Timestamp?] = [:]
        var batchCustomers = BatchCustomers()
        var sources = SQLiteSourceIDs()
        var rejectLedger = RejectLedger(limit: correlator.maxRejectsPerSource)
        var tally = TallyDelta()
        rejectLedger.storedAt = try Self.metaTime(db, "latest_event")
        // Records older than the last purge's horizon would bring back what retention removed.
        let horizon = try Self.metaTime(db, "purged_before")
        for item in records {
            outcome.records += 1
            if let horizon, case .record(let record) = item, record.eventTime < horizon {
                outcome.beyondRetention += 1
                continue
            }
            switch item {
            case .ignored, .presence:
                outcome.ignored += 1
            case .reject(let reject):
                outcome.rejects += 1
                if try !rejectLedger.store(reject, source: sources.id(of: reject.position.source, db: db), db: db) {
                    outcome.rejectsDropped += 1
                }
            case .record(.ivr(let event)):
                outcome.maxEventTime = max(outcome.maxEventTime ?? event.time, event.time)
                let source = try sources.id(of: event.position.source, db: db)
                if let customer = try Self.insert(
                    event, source: source, directory: correlator.directory, customers: &batchCustomers, db: db)
                {
                    outcome.newRecords += 1
                    activity.insert(SourceMinute(source: source, minute: event.time.seconds / 60))
                    ivrCustomers.merge([customer: event.time], uniquingKeysWith: StoredRows.earlier)
                } else {
                    outcome.duplicates += 1
                }
            case .record(let record):
                let time = record.eventTime
                outcome.maxEventTime = max(outcome.maxEventTime ?? time, time)
                let source = try sources.id(of: record.position.source, db: db)
                if try Self.insert(record, source: source, db: db) {
                    outcome.newRecords += 1
                    tally.records += 1
                    activity.insert(SourceMinute(source: source, minute: time.seconds / 60))
                    if batchRecords[record.call] == nil { order.append(record.call) }
                    batchRecords[record.call, default: []].append(record)
                } else {
                    outcome.duplicates += 1
                }
            }
        }
        try rejectLedger.flush(db: db)
        tally.rejects = rejectLedger.inserted
        for entry in activity {
            try db.run("INSERT OR IGNORE INTO source_activity (source_id, minute) VALUES (?, ?)") {
                $0.add(entry.source)
                $0.add(entry.minute)
            }
        }
        if let time = outcome.maxEventTime {
            let latest = try Self.metaTime(db, "latest_event")
            if latest.map({ time > $0 }) ?? true { try Self.setMeta(db, "latest_event", String(time.seconds)) }
        }
        for (customer, since) in ivrCustomers where batchCustomers.needsMark(customer) {
            try Self.markDirty(customer, since: since, db: db)
        }
        outcome.customersTouched = ivrCustomers.count
        guard !order.isEmpty else {
            try SQLiteTally.add(tally, db)
            return outcome
        }

        // Re-assemble every call that got a new record; mark the customers it touches for
        // derivation. Deriving waits for the clock (advanceClock), so a customer touched by
        // many batches of one run is derived once, at the run's watermark.
        let assembler = CallAssembler(directory: correlator.directory)
        let names = SourceNames()
        var customers: [String: Timestamp?] = [:]
        for callKey in order {
            // Most calls are new: their records are all in this batch, and one insert stores them.
            var call = assembler.assemble(callKey, records: batchRecords[callKey] ?? [])
            try batchCustomers.ensure(call?.customerKey, db: db)
            let inserted = try db.run(
                """
                INSERT INTO call (call_key, customer_key, direction, start, end, customer_seq)
                VALUES (?1, ?2, ?3, ?4, ?5, \(Self.customerSeq("?2")))
                ON CONFLICT(call_key) DO NOTHING
                """
            ) {
                $0.add(callKey.rawValue)
                $0.add(call?.customerKey)
                $0.add(call?.direction.rawValue)
                $0.add(call?.start.seconds)
                $0.add(call?.end.seconds)
            }
            if inserted == 0 {
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT customer_key, direction IS NOT NULL FROM call WHERE call_key = ?"),
                    arguments: [callKey.rawValue])
                let previous: String? = row?[0]
                if previous != nil || (row.map { $0[1] as Bool } ?? false) { tally.calls -= 1 }
                call = assembler.assemble(callKey, records: try Self.records(of: callKey, names: names, db: db))
                try batchCustomers.ensure(call?.customerKey, db: db)
                // Most records that join a stored call (its queue_log lines after its CDR) change
                // nothing in its row, and an UPDATE naming the customer rewrites the call's entry
                // in call_customer all the same: a page per call, written again by every later
                // batch of the day (BENCHMARKS.md, history).
                try db.run(
                    """
                    UPDATE call SET customer_key = ?1, direction = ?2, start = ?3, end = ?4, customer_seq = \(Self.customerSeq("?1"))
                    WHERE call_key = ?5 AND (customer_key, direction, start, end) IS NOT (?1, ?2, ?3, ?4)
                    """
                ) {
                    $0.add(call?.customerKey)
                    $0.add(call?.direction.rawValue)
                    $0.add(call?.start.seconds)
                    $0.add(call?.end.seconds)
                    $0.add(callKey.rawValue)
                }
                if let previous, previous != call?.customerKey {
                    customers.merge([previous: nil], uniquingKeysWith: StoredRows.earlier)
                }
            }
            // Counted once it is known whose call it is or which way it went (a row made for a
            // record that names a call before the call's own record arrived is not).
            if call?.customerKey != nil || call?.direction != nil { tally.calls += 1 }
            if let key = call?.customerKey, let start = call?.start {
                customers.merge([key: start], uniquingKeysWith: StoredRows.earlier)
            }
        }
        outcome.callsTouched = order.count
        // A call to a number someone keyed in the IVR for a callback settles that someone's callback.
        // Cached statements here and in the clock: an HTTP group commit runs these every few
        // milliseconds, and preparing them again each time was a visible cost.
        if try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM ivr_event WHERE callback_key IS NOT NULL)")) == true
        {
            for (customer, since) in customers {
                for requester in try String.fetchAll(
                    db.cachedStatement(sql: "SELECT DISTINCT customer_key FROM ivr_event WHERE callback_key = ?"),
                    arguments: [customer])
                {
                    customers.merge([requester: since], uniquingKeysWith: StoredRows.earlier)
                }
            }
        }
        for (customer, since) in customers where batchCustomers.needsMark(customer) {
            // Marked already for an IVR event: mark again only if this goes further back.
            if let marked = ivrCustomers[customer], StoredRows.earlier(since, marked) == marked { continue }
            try Self.markDirty(customer, since: since, db: db)
        }
        outcome.customersTouched += customers.keys.filter { ivrCustomers[$0] == nil }.count
        try SQLiteTally.add(tally, db)
        return outcome
    }
}

/// Stores rejects up to the per-source cap and counts the rest, reading each source's state
/// once per batch and writing its dropped count once (``flush(db:)``): a statement per dropped
/// row would make a flood of bad rows cost more than the rows themselves.
struct RejectLedger {
    let limit: Int
    private var sources: [Int64: SourceState] = [:]

    private struct SourceState {
        var stored: Int
        /// The highest offset stored or counted: a re-read of the same input counts nothing twice.
        var seenUpTo: Int64
        var dropped = 0
    }

    /// How old the rejects are, for retention: the newest record time held before this batch.
    var storedAt: Timestamp?
    /// Rejects stored (not counted as dropped) by this ledger.
    private(set) var inserted = 0

    init(limit: Int) { self.limit = limit }

    /// Stores `reject`, or counts it as dropped when its source is at the cap.
    /// - Returns: false when it was dropped.
    mutating func store(_ reject: Reject, source: Int64, db: Database) throws -> Bool {
        var state: SourceState
        if let known = self.sources[source] {
            state = known
        } else {
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM reject WHERE source_id = ?1) AS stored,
                        max(coalesce((SELECT max(byte_offset) FROM reject WHERE source_id = ?1), -1),
                            coalesce((SELECT high_offset FROM reject_dropped WHERE source_id = ?1), -1)) AS seen
                    """, arguments: [source])
            state = SourceState(stored: row?["stored"] ?? 0, seenUpTo: row?["seen"] ?? -1)
        }
        defer { self.sources[source] = state }
        if state.stored >= self.limit {
            guard reject.position.offset > state.seenUpTo else { return true }
            state.seenUpTo = reject.position.offset
            state.dropped += 1
            return false
        }
        let inserted = try db.run(
            """
            INSERT OR IGNORE INTO reject (source_id, byte_offset, line, reason, raw, raw_length, raw_sha256, stored_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) { StoredRows.bind(reject, source: source, storedAt: self.storedAt, into: &$0) }
        state.stored += inserted
        self.inserted += inserted
        state.seenUpTo = max(state.seenUpTo, reject.position.offset)
        return true
    }

    /// Writes the batch's dropped counts.
    func flush(db: Database) throws {
        for (source, state) in self.sources where state.dropped > 0 {
            try db.run(
                """
                INSERT INTO reject_dropped (source_id, dropped, high_offset) VALUES (?, ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET dropped = dropped + excluded.dropped, high_offset = excluded.high_offset
                """
            ) {
                $0.add(source)
                $0.add(state.dropped)
                $0.add(state.seenUpTo)
            }
        }
    }
}

/// The ids of the sources a batch names, each looked up (or added) once per batch.
struct SQLiteSourceIDs {
    private var known: [String: Int64] = [:]

    mutating func id(of name: String, db: Database) throws -> Int64 {
        if let id = self.known[name] { return id }
        let id: Int64
        if let stored = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM source WHERE name = ?"), arguments: [name])
        {
            id = stored
        } else {
            // Cached: each HTTP document is a source of its own, so this runs once per request.
            try db.cachedStatement(sql: "INSERT INTO source (name) VALUES (?)").execute(arguments: [name])
            id = db.lastInsertedRowID
        }
        self.known[name] = id
        return id
    }
}
