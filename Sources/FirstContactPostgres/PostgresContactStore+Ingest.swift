import FirstContactCore
import FirstContactStore
import PostgresNIO

/// Records in: stored idempotently, their calls re-assembled, their customers marked for
/// derivation (the same steps as ``SQLiteContactStore``'s ingest).
extension PostgresContactStore {
    package func ingest(_ records: [IngestRecord], correlator: Correlator) async throws -> BatchOutcome {
        let live = self.live
        return try await self.write { tx in try await Self.ingest(records, correlator: correlator, live: live, tx: tx) }
    }

    package func ingest(batches: [[IngestRecord]], correlator: Correlator) async throws -> [Result<
        BatchOutcome, any Error
    >] {
        let live = self.live
        return try await self.write { tx in
            try await Self.ingest(batches: batches, correlator: correlator, live: live, tx: tx)
        }
    }

    package func ingest(
        _ records: [IngestRecord], checkpoint: FollowCheckpoint, holding lease: LeaseClaim?, correlator: Correlator
    ) async throws -> BatchOutcome {
        let live = self.live
        return try await self.write { tx in
            if let lease {
                // Held to the commit (FOR SHARE): another instance takes the lease over only after it.
                let held = try await tx.run(
                    """
                    SELECT 1 FROM lease WHERE name = ? AND holder = ? AND expires_at > clock_timestamp() FOR SHARE
                    """
                ) {
                    $0.add(lease.name)
                    $0.add(lease.holder)
                }
                guard held == 1 else { throw LeaseLost(name: lease.name) }
            }
            let outcome = try await Self.ingest(records, correlator: correlator, live: live, tx: tx)
            try await tx.run(
                """
                INSERT INTO follow_checkpoint (path, device, inode, byte_offset, next_line, fingerprint, fingerprint_length, generation)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (path) DO UPDATE SET device = excluded.device, inode = excluded.inode,
                    byte_offset = excluded.byte_offset, next_line = excluded.next_line, fingerprint = excluded.fingerprint,
                    fingerprint_length = excluded.fingerprint_length, generation = excluded.generation
                """
            ) { StoredRows.bind(checkpoint, into: &$0) }
            return outcome
        }
    }

    package func followCheckpoint(path: String) async throws -> FollowCheckpoint? {
        try await self.read { tx in
            try await tx.rows(
                """
                SELECT device, inode, byte_offset, next_line, fingerprint, fingerprint_length, generation
                FROM follow_checkpoint WHERE path = ?
                """
            ) { $0.add(path) }.first.map { row in
                let c = Columns(row)
                return FollowCheckpoint(
                    path: path, device: UInt64(bitPattern: try c.int64(0)), inode: UInt64(bitPattern: try c.int64(1)),
                    offset: try c.int64(2), nextLine: try c.int(3), fingerprint: try c.text(4),
                    fingerprintLength: try c.int(5), generation: try c.int(6))
            }
        }
    }

    /// The batches, each in a savepoint of the caller's transaction: one request's error rolls
    /// back that request only.
    static func ingest(batches: [[IngestRecord]], correlator: Correlator, live: Bool, tx: PostgresTransaction)
        async throws -> [Result<BatchOutcome, any Error>]
    {
        var results: [Result<BatchOutcome, any Error>] = []
        for records in batches {
            try await tx.run("SAVEPOINT batch")
            do {
                let outcome = try await Self.ingest(records, correlator: correlator, live: live, tx: tx)
                try await tx.run("RELEASE SAVEPOINT batch")
                results.append(.success(outcome))
            } catch {
                // A broken connection ends the transaction: then every batch fails with it; a
                // deadlock runs the whole transaction again (PostgresSession).
                if tx.connection.isClosed { throw error }
                if let error = error as? PSQLError, PostgresSession.isRetryable(error) { throw error }
                try await tx.run("ROLLBACK TO SAVEPOINT batch")
                try await tx.run("RELEASE SAVEPOINT batch")
                results.append(.failure(error))
            }
        }
        return results
    }

    static func ingest(_ records: [IngestRecord], correlator: Correlator, live: Bool, tx: PostgresTransaction)
        async throws -> BatchOutcome
    {
        if live { try await Self.noteBackfill(records, lateness: correlator.directory.policy.lateness, tx: tx) }
        var outcome = BatchOutcome()
        var batchRecords: [CallKey: [CallRecord]] = [:]
        var order: [CallKey] = []
        var activity: [Int64: Set<Int64>] = [:]
        var ivrCustomers: [String: Timestamp?] = [:]
        var sources = PostgresSourceIDs()
        var rejectLedger = PostgresRejectLedger(limit: correlator.maxRejectsPerSource)
        // Read once: nothing in this batch writes it before the end.
        let latestStored = try await Self.metaTime(tx, "latest_event")
        rejectLedger.storedAt = latestStored
        let horizon = try await Self.metaTime(tx, "purged_before")
        var pending: [(record: CallRecord, source: Int64)] = []
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
                let source = try await sources.id(of: reject.position.source, tx: tx)
                if try await !rejectLedger.store(reject, source: source, tx: tx) { outcome.rejectsDropped += 1 }
            case .record(.ivr(let event)):
                outcome.maxEventTime = max(outcome.maxEventTime ?? event.time, event.time)
                let filing = StoredRows.IVRFiling(event, directory: correlator.directory)
                let source = try await sources.id(of: event.position.source, tx: tx)
                let inserted = try await tx.run(
                    """
                    INSERT INTO ivr_event (event_key, customer_key, callback_key, source_id, line, byte_offset, time, kind,
                    caller, digit, number, call_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT DO NOTHING RETURNING 1
                    """
                ) { StoredRows.bind(event, filed: filing, source: source, into: &$0) }
                if inserted > 0 {
                    outcome.newRecords += 1
                    activity[source, default: []].insert(event.time.seconds / 60)
                    ivrCustomers.merge([filing.customer: event.time], uniquingKeysWith: StoredRows.earlier)
                } else {
                    outcome.duplicates += 1
                }
            case .record(let record):
                let time = record.eventTime
                outcome.maxEventTime = max(outcome.maxEventTime ?? time, time)
                pending.append((record, try await sources.id(of: record.position.source, tx: tx)))
            }
        }
        // Call records go in a few multi-row statements; then, in the batch's order, a record is
        // new when its key was inserted and it is the first of the batch with that key.
        let inserted = try await Self.insertNew(pending, tx: tx)
        var seen: Set<String> = []
        for (record, source) in pending {
            if inserted.contains(record.key.rawValue), seen.insert(record.key.rawValue).inserted {
                outcome.newRecords += 1
                activity[source, default: []].insert(record.eventTime.seconds / 60)
                if batchRecords[record.call] == nil { order.append(record.call) }
                batchRecords[record.call, default: []].append(record)
            } else {
                outcome.duplicates += 1
            }
        }
        try await rejectLedger.flush(tx: tx)
        for (source, minutes) in activity {
            for minute in minutes.sorted() {
                try await tx.run("INSERT INTO source_activity (source_id, minute) VALUES (?, ?) ON CONFLICT DO NOTHING")
                {
                    $0.add(source)
                    $0.add(minute)
                }
            }
        }
        if let time = outcome.maxEventTime {
            if latestStored.map({ time > $0 }) ?? true {
                try await Self.setMeta(tx, "latest_event", String(time.seconds))
            }
        }
        // In key order, as every instance marks them: two batches never wait for each other's rows crosswise.
        for (customer, since) in ivrCustomers.sorted(by: { $0.key < $1.key }) {
            try await Self.markDirty(customer, since: since, tx: tx)
        }
        outcome.customersTouched = ivrCustomers.count
        guard !order.isEmpty else { return outcome }

        let assembler = CallAssembler(directory: correlator.directory)
        var customers: [String: Timestamp?] = [:]
        // Most calls are new: their records are all in this batch, and one statement stores them.
        let assembled = order.map { ($0, assembler.assemble($0, records: batchRecords[$0] ?? [])) }
        let newCalls = Set(
            try await Self.insertRows(
                assembled, into: "call", columns: "call_key, customer_key, direction, start, \"end\"", count: 5,
                returning: "call_key", tx: tx
            ) { entry, row in
                let (callKey, call) = entry
                row.add(callKey.rawValue)
                row.add(call?.customerKey)
                row.add(call?.direction.rawValue)
                row.add(call?.start.seconds)
                row.add(call?.end.seconds)
            })
        for (callKey, first) in assembled {
            var call = first
            if !newCalls.contains(callKey.rawValue) {
                let previous = try await tx.value(String.self, "SELECT customer_key FROM call WHERE call_key = ?") {
                    $0.add(callKey.rawValue)
                }
                call = assembler.assemble(callKey, records: try await Self.records(of: callKey, tx: tx))
                // Written only when it changes (see the SQLite store: most joining records change nothing).
                try await tx.run(
                    """
                    UPDATE call SET customer_key = ?1, direction = ?2, start = ?3, "end" = ?4
                    WHERE call_key = ?5 AND (customer_key, direction, start, "end") IS DISTINCT FROM (?1, ?2, ?3, ?4)
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
            if let key = call?.customerKey, let start = call?.start {
                customers.merge([key: start], uniquingKeysWith: StoredRows.earlier)
            }
        }
        outcome.callsTouched = order.count
        // A call to a number someone keyed in the IVR for a callback settles that someone's callback.
        if try await tx.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM ivr_event WHERE callback_key IS NOT NULL)")
            == true
        {
            for (customer, since) in customers {
                for row in try await tx.rows(
                    "SELECT DISTINCT customer_key FROM ivr_event WHERE callback_key = ?",
                    {
                        $0.add(customer)
                    })
                {
                    customers.merge([try Columns(row).text(0): since], uniquingKeysWith: StoredRows.earlier)
                }
            }
        }
        for (customer, since) in customers.sorted(by: { $0.key < $1.key }) {
            if let marked = ivrCustomers[customer], StoredRows.earlier(since, marked) == marked { continue }
            try await Self.markDirty(customer, since: since, tx: tx)
        }
        outcome.customersTouched += customers.keys.filter { ivrCustomers[$0] == nil }.count
        return outcome
    }

    /// Stores the call records whose keys are not stored yet, a few statements per table.
    /// - Returns: the keys inserted.
    static func insertNew(_ records: [(record: CallRecord, source: Int64)], tx: PostgresTransaction) async throws
        -> Set<String>
    {
        var legs: [(LegRecord, Int64)] = []
        var queue: [(QueueRecord, Int64)] = []
        var sip: [(SIPRecord, Int64)] = []
        var cel: [(CELRecord, Int64)] = []
        for (record, source) in records {
            switch record {
            case .leg(let leg): legs.append((leg, source))
            case .queue(let entry): queue.append((entry, source))
            case .sip(let row): sip.append((row, source))
            case .cel(let row): cel.append((row, source))
            case .ivr: preconditionFailure("IVR events are filed by customer in ingest")
            }
        }
        var inserted: Set<String> = []
        inserted.formUnion(
            try await Self.insertRows(
                legs, into: "leg",
                columns: """
                    event_key, call_key, source_id, line, byte_offset, unique_id, src, caller_name, dst, context, channel,
                    peer_channel, app, app_data, start, answer, "end", billsec, disposition, sequence
                    """, count: 20, tx: tx
            ) { StoredRows.bind($0.0, source: $0.1, into: &$1) })
        inserted.formUnion(
            try await Self.insertRows(
                queue, into: "queue_event",
                columns:
                    "event_key, call_key, source_id, line, byte_offset, time, queue, agent, event, text1, text2, number",
                count: 12, tx: tx
            ) { StoredRows.bind($0.0, source: $0.1, into: &$1) })
        inserted.formUnion(
            try await Self.insertRows(
                sip, into: "sip_event",
                columns: """
                    event_key, call_key, source_id, line, byte_offset, kind, method, code, reason, from_tag, to_tag, caller,
                    dialled, target, agent, time, start, answer
                    """, count: 18, tx: tx
            ) { StoredRows.bind($0.0, source: $0.1, into: &$1) })
        inserted.formUnion(
            try await Self.insertRows(
                cel, into: "cel_event",
                columns: """
                    event_key, call_key, source_id, line, byte_offset, event, time, micros, cid_name, cid_num, exten, context,
                    channel, app, app_data, unique_id, peer, hangup_cause, dial_status, bridge_id, transfer_exten,
                    transfer_context, transferee, transfer_target
                    """, count: 24, tx: tx
            ) { StoredRows.bind($0.0, source: $0.1, into: &$1) })
        return inserted
    }

    /// Inserts `rows` (`count` values each, bound in `columns`' order) with multi-row VALUES,
    /// skipping those that conflict with a stored row, in statements under the protocol's limit
    /// of 65,535 parameters. - Returns: the `returning` column of the rows inserted.
    static func insertRows<Row>(
        _ rows: [Row], into table: String, columns: String, count: Int, returning: String = "event_key",
        tx: PostgresTransaction, _ bind: (Row, inout PostgresBinder) -> Void
    ) async throws -> [String] {
        let perStatement = 60_000 / count
        let one = "(" + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
        var keys: [String] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            let values = Array(repeating: one, count: chunk.count).joined(separator: ", ")
            keys += try await tx.rows(
                "INSERT INTO \(table) (\(columns)) VALUES \(values) ON CONFLICT DO NOTHING RETURNING \(returning)"
            ) { binder in
                for row in chunk { bind(row, &binder) }
            }.map { try Columns($0).text(0) }
            start += perStatement
        }
        return keys
    }

    /// Marks a customer for derivation (see ``SQLiteContactStore``'s `markDirty`: a settled past
    /// or resume point that does not end before `since` is dropped, the past down to the purged
    /// one, and a mark that changes nothing writes nothing).
    static func markDirty(_ customer: String, since: Timestamp?, tx: PostgresTransaction) async throws {
        let marked = StoredRows.markedColumns(keepingBefore: "?2", row: "c.", dirty: "TRUE")
        try await tx.run(
            """
            INSERT INTO customer AS c (customer_key, dirty) VALUES (?1, TRUE)
            ON CONFLICT (customer_key) DO UPDATE SET \(marked.set)
            WHERE \(marked.stored) IS DISTINCT FROM \(marked.values)
            """
        ) {
            $0.add(customer)
            $0.add(since?.seconds)
        }
    }

    // MARK: Backfill (SPEC "Backfill in `serve`"; kept in meta as SQLite keeps it)

    static func noteBackfill(_ records: [IngestRecord], lateness: Int64, tx: PostgresTransaction) async throws {
        guard lateness > 0, let clock = try await Self.storedClock(tx) else { return }
        var latest: Timestamp?
        for case .record(let record) in records { latest = max(latest ?? record.eventTime, record.eventTime) }
        guard let latest, latest < clock - lateness else { return }
        let last = try await Self.metaTime(tx, "backfill_last")
        if last.map({ clock - $0 >= lateness }) ?? true {
            var mark: [Int64] = []
            for table in SQLiteContactStore.markedTables {
                mark.append(try await tx.value(Int64.self, "SELECT coalesce(max(rowid), 0) FROM \(table)") ?? 0)
            }
            try await Self.setMeta(tx, "backfill_mark", mark.map(String.init).joined(separator: ","))
        }
        try await Self.setMeta(tx, "backfill_last", String(clock.seconds))
    }

    static func backfillHold(clock: Timestamp, lateness: Int64, tx: PostgresTransaction) async throws
        -> SQLiteContactStore.BackfillHold?
    {
        guard let last = try await Self.metaTime(tx, "backfill_last"), clock - last < lateness,
            let text = try await Self.meta(tx, "backfill_mark")
        else { return nil }
        return try SQLiteContactStore.BackfillHold(mark: text, last: last, lateness: lateness)
    }

    static func undecidedCalls(of customer: String, hold: SQLiteContactStore.BackfillHold?, tx: PostgresTransaction)
        async throws -> Set<CallKey>
    {
        guard let hold else { return [] }
        var calls: Set<CallKey> = []
        for (table, mark) in zip(SQLiteContactStore.markedTables, hold.mark) {
            if table == "ivr_event" {
                for row in try await tx.rows(
                    "SELECT event_key FROM ivr_event WHERE customer_key = ? AND rowid > ?",
                    {
                        $0.add(customer)
                        $0.add(mark)
                    })
                {
                    calls.insert(CallRecord.ivrCallKey(EventKey(rawValue: try Columns(row).text(0))))
                }
                continue
            }
            for row in try await tx.rows(
                """
                SELECT DISTINCT call_key FROM \(table) WHERE rowid > ?2
                AND call_key = ANY (ARRAY(SELECT call_key FROM call WHERE customer_key = ?1))
                """,
                {
                    $0.add(customer)
                    $0.add(mark)
                })
            {
                calls.insert(CallKey(rawValue: try Columns(row).text(0)))
            }
        }
        return calls
    }
}

/// Rejects up to the per-source cap, the rest counted (as ``SQLiteContactStore``'s ledger does).
struct PostgresRejectLedger {
    let limit: Int
    private var sources: [Int64: SourceState] = [:]
    var storedAt: Timestamp?

    private struct SourceState {
        var stored: Int
        var seenUpTo: Int64
        var dropped = 0
    }

    init(limit: Int) { self.limit = limit }

    mutating func store(_ reject: Reject, source: Int64, tx: PostgresTransaction) async throws -> Bool {
        var state: SourceState
        if let known = self.sources[source] {
            state = known
        } else {
            let row = try await tx.rows(
                """
                SELECT (SELECT count(*) FROM reject WHERE source_id = ?1),
                    GREATEST(coalesce((SELECT max(byte_offset) FROM reject WHERE source_id = ?1), -1),
                        coalesce((SELECT high_offset FROM reject_dropped WHERE source_id = ?1), -1))
                """
            ) { $0.add(source) }.first
            let columns = row.map(Columns.init)
            state = SourceState(stored: try columns?.int(0) ?? 0, seenUpTo: try columns?.int64(1) ?? -1)
        }
        defer { self.sources[source] = state }
        if state.stored >= self.limit {
            guard reject.position.offset > state.seenUpTo else { return true }
            state.seenUpTo = reject.position.offset
            state.dropped += 1
            return false
        }
        let storedAt = self.storedAt
        let inserted = try await tx.run(
            """
            INSERT INTO reject (source_id, byte_offset, line, reason, raw, raw_length, raw_sha256, stored_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1
            """
        ) { StoredRows.bind(reject, source: source, storedAt: storedAt, into: &$0) }
        state.stored += inserted
        state.seenUpTo = max(state.seenUpTo, reject.position.offset)
        return true
    }

    func flush(tx: PostgresTransaction) async throws {
        for (source, state) in self.sources where state.dropped > 0 {
            try await tx.run(
                """
                INSERT INTO reject_dropped AS d (source_id, dropped, high_offset) VALUES (?, ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET dropped = d.dropped + excluded.dropped, high_offset = excluded.high_offset
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
struct PostgresSourceIDs {
    private var known: [String: Int64] = [:]

    mutating func id(of name: String, tx: PostgresTransaction) async throws -> Int64 {
        if let id = self.known[name] { return id }
        // Another instance may add the same name meanwhile: then the insert does nothing and the
        // select (a statement of its own, read committed) sees its row.
        let id: Int64
        if let stored = try await tx.value(Int64.self, "SELECT id FROM source WHERE name = ?", { $0.add(name) }) {
            id = stored
        } else if let added = try await tx.value(
            Int64.self, "INSERT INTO source (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id",
            { $0.add(name) })
        {
            id = added
        } else if let stored = try await tx.value(Int64.self, "SELECT id FROM source WHERE name = ?", { $0.add(name) })
        {
            id = stored
        } else {
            throw StoreError.corrupt(table: "source", rowid: nil, reason: "no id for the source \(name)")
        }
        self.known[name] = id
        return id
    }
}
