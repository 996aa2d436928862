import FirstContactCore
import GRDB

/// The clock: the stored watermark, the customers it makes due, and the meta values it lives in.
extension SQLiteContactStore {
    package func advanceClock(to time: Timestamp, correlator: Correlator) async throws -> ClockOutcome {
        let (chunk, slice) = (self.derivationChunk, self.derivationSlice)
        let first = try await self.pool.write { db in
            try Self.clockStep(to: time, correlator: correlator, chunk: chunk, slice: slice, db: db)
        }
        return try await self.finishClock(after: first, correlator: correlator)
    }

    package func ingest(batches: [[IngestRecord]], advancingClockTo time: Timestamp, correlator: Correlator)
        async throws -> (batches: [Result<BatchOutcome, any Error>], clock: ClockOutcome)
    {
        // One transaction for the group's records and their derivation: one commit, one sync,
        // and the pages both touch (the customers' rows, meta) written once.
        let (chunk, slice) = (self.derivationChunk, self.derivationSlice)
        let (results, first) = try await self.pool.write { db in
            let results = try self.ingest(batches: batches, correlator: correlator, db: db)
            return (results, try Self.clockStep(to: time, correlator: correlator, chunk: chunk, slice: slice, db: db))
        }
        return (results, try await self.finishClock(after: first, correlator: correlator))
    }

    /// The first step of moving the clock, inside a write transaction: the clock, the feeds and
    /// the first chunk of customers with new records, and of those due when that chunk was short.
    struct ClockStep {
        var clock: Timestamp
        var gaps: [FeedGap]
        var hold: BackfillHold?
        var outcome: ClockOutcome
        /// Whether every dirty (then every due) customer was derived.
        var dirtyDone: Bool
        var dueDone: Bool
    }

    static func clockStep(to time: Timestamp, correlator: Correlator, chunk: Int, slice: Int, db: Database) throws
        -> ClockStep
    {
        let clock = max(try Self.storedClock(db) ?? time, time)
        try Self.setMeta(db, "clock", String(clock.seconds))
        let gaps = try Self.checkFeeds(correlator.directory.configuration, clock: clock, db: db)
        let hold = try Self.backfillHold(clock: clock, lateness: correlator.directory.policy.lateness, db: db)
        var step = ClockStep(
            clock: clock, gaps: gaps, hold: hold, outcome: ClockOutcome(clock: clock), dirtyDone: false,
            dueDone: false)
        let dirty = try Self.deriveChunk(
            .dirty, clock: clock, gaps: gaps, hold: hold, correlator: correlator, chunk: chunk, slice: slice, db: db)
        step.outcome.derived = dirty.derived
        step.outcome.amendments = dirty.amendments
        // A short chunk was all there was; the due customers then fit in the same commit.
        step.dirtyDone = dirty.derived < chunk
        if step.dirtyDone {
            let due = try Self.deriveChunk(
                .due, clock: clock, gaps: gaps, hold: hold, correlator: correlator, chunk: chunk, slice: slice, db: db)
            step.outcome.derived += due.derived
            step.outcome.amendments += due.amendments
            step.dueDone = due.derived < chunk
        }
        return step
    }

    /// The chunks a first step left: customers with new records or whose next change is due,
    /// never a scan of everything pending (both come from partial indexes). One transaction per
    /// chunk keeps the WAL and memory bounded; a crash between chunks leaves the rest dirty or
    /// due, and the next call picks them up.
    private func finishClock(after first: ClockStep, correlator: Correlator) async throws -> ClockOutcome {
        var outcome = first.outcome
        let (size, slice) = (self.derivationChunk, self.derivationSlice)
        for (selection, done) in [(CustomerSelection.dirty, first.dirtyDone), (.due, first.dueDone)] where !done {
            while true {
                let chunk = try await self.pool.write { db in
                    // Another writer (an HTTP group, a follower, the scheduler) may have moved the
                    // clock on since the first step: a customer derived at an older clock than one
                    // already committed would lose a breach it had, announced as a reversal.
                    var (clock, gaps, hold) = (first.clock, first.gaps, first.hold)
                    if let stored = try Self.storedClock(db), stored > clock {
                        clock = stored
                        gaps = try Self.checkFeeds(correlator.directory.configuration, clock: clock, db: db)
                        hold = try Self.backfillHold(
                            clock: clock, lateness: correlator.directory.policy.lateness, db: db)
                    }
                    return try Self.deriveChunk(
                        selection, clock: clock, gaps: gaps, hold: hold, correlator: correlator, chunk: size,
                        slice: slice, db: db)
                }
                outcome.derived += chunk.derived
                outcome.amendments += chunk.amendments
                if chunk.derived < size { break }
            }
        }
        return outcome
    }

    /// Customers derived per transaction. Each customer's rows sit at random places of the
    /// customer-keyed indexes, so a commit writes about one page per customer per index until
    /// the indexes are smaller than the chunk: 10,000 instead of 1,000 wrote 281 MB instead of
    /// 735 MB for a 10,000-story day over nine days of history (BENCHMARKS.md, history), at the
    /// price of holding the writer ≈ 1 s per chunk when a tick finds that many customers due.
    package static let derivationChunk = 10_000

    /// Which customers a chunk of derivation takes.
    enum CustomerSelection {
        /// Customers with new records (or actions, or a changed feed) since they were last derived.
        case dirty
        /// Customers whose derived state changes with the clock alone by `clock`.
        case due
    }

    /// Derives the customers `selection` picks (at most a chunk), at `clock`.
    static func deriveChunk(
        _ selection: CustomerSelection, clock: Timestamp, gaps: [FeedGap], hold: BackfillHold?,
        correlator: Correlator, chunk size: Int, slice: Int, db: Database
    ) throws -> ClockOutcome {
        var chunk = ClockOutcome(clock: clock)
        let tables = try RecordTables.present(db)
        let statement: Statement
        let arguments: StatementArguments
        switch selection {
        case .dirty:
            statement = try db.cachedStatement(
                sql: """
                    SELECT customer_key, derived, settled_before, settled_contact, settled_closed, resume_before,
                    \(StoredRows.resumeState("customer")) FROM customer WHERE dirty = 1 LIMIT ?
                    """)
            arguments = [size]
        case .due:
            statement = try db.cachedStatement(
                sql: """
                    SELECT customer_key, derived, settled_before, settled_contact, settled_closed, resume_before,
                    \(StoredRows.resumeState("customer")) FROM customer WHERE next_check IS NOT NULL AND next_check <= ?
                    ORDER BY next_check, customer_key LIMIT ?
                    """)
            arguments = [clock.seconds, size]
        }
        let names = SourceNames()
        var tally = TallyDelta()
        let customers = try Row.fetchAll(statement, arguments: arguments)
        let dueBy = hold?.lastArrival ?? .beforeAnyRecord
        let compute: @Sendable ([DerivationInputs]) -> [ComputedDerivation] = { inputs in
            inputs.map { $0.derive(correlator: correlator, clock: clock, gaps: gaps, undecidedDueBy: dueBy) }
        }
        // Slices of the chunk in a pipeline: the writer reads a slice's inputs while the slice
        // before is computed on another thread, then writes that one (in the chunk's order).
        // A chunk of one slice (an HTTP post's few customers) is computed here: a hand-over to
        // another thread would only add latency.
        let pipelined = customers.count > slice
        var pending: (inputs: [DerivationInputs], computed: BackgroundResult<[ComputedDerivation]>)?
        func writePending() throws {
            guard let (inputs, computed) = pending else { return }
            chunk.amendments += try Self.writeSlice(
                computed.take(), of: inputs, clock: clock, hold: hold, tally: &tally, db: db)
            pending = nil
        }
        for start in stride(from: 0, to: customers.count, by: slice) {
            let inputs = try customers[start...].prefix(slice).map { row in
                try Self.derivationInputs(
                    row[0], replacing: row[1], past: Self.settledPast(row, from: 2),
                    resume: ResumeState.point(before: row[5], bytes: Self.blob(row[6])), correlator: correlator,
                    hold: hold, tables: tables, names: names, db: db)
            }
            try writePending()
            if pipelined {
                pending = (inputs, BackgroundResult { compute(inputs) })
            } else {
                chunk.amendments += try Self.writeSlice(
                    compute(inputs), of: inputs, clock: clock, hold: hold, tally: &tally, db: db)
            }
        }
        try writePending()
        chunk.derived = customers.count
        try SQLiteTally.add(tally, db)
        return chunk
    }

    /// Customers whose inputs are read, computed and written together in ``deriveChunk``: large
    /// enough that handing a slice to another thread costs little against computing it, small
    /// enough that two slices of inputs in memory stay small. 64, 256 and 1,024 took the same
    /// time on a 300,000-row slice of the 1M-call day (BENCHMARKS.md, twenty-third session).
    package static let derivationSlice = 256

    /// Writes the derivations of a slice's customers, in order.
    private static func writeSlice(
        _ computed: [ComputedDerivation], of inputs: [DerivationInputs], clock: Timestamp, hold: BackfillHold?,
        tally: inout TallyDelta, db: Database
    ) throws -> Int {
        var amendments = 0
        for (computed, inputs) in zip(computed, inputs) {
            amendments += try Self.writeDerivation(
                computed, of: inputs, clock: clock, hold: hold, tally: &tally, db: db)
        }
        return amendments
    }

    /// A BLOB column's bytes; nil for NULL or a value of another type (never a conversion trap).
    static func blob(_ value: DatabaseValue) -> [UInt8]? {
        guard case .blob(let data) = value.storage else { return nil }
        return [UInt8](data)
    }

    package func clock() async throws -> Timestamp? {
        try await self.pool.read { db in try Self.storedClock(db) }
    }

    package func awaitingDerivation() async throws -> Int {
        try await self.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM customer WHERE dirty = 1") ?? 0
        }
    }

    package func latestEventTime() async throws -> Timestamp? {
        try await self.pool.read { db in try Self.metaTime(db, "latest_event") }
    }

    static func storedClock(_ db: Database) throws -> Timestamp? {
        try Self.metaTime(db, "clock")
    }

    /// A time kept in `meta` as epoch seconds.
    static func metaTime(_ db: Database, _ key: String) throws -> Timestamp? {
        guard let text = try Self.meta(db, key) else { return nil }
        guard let seconds = Int64(text) else {
            throw StoreError.corrupt(table: "meta", rowid: nil, reason: "\(key) \"\(text)\" is not epoch seconds")
        }
        return Timestamp(seconds: seconds)
    }

    static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    static func setMeta(_ db: Database, _ key: String, _ value: String) throws {
        try db.cachedStatement(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        )
        .execute(arguments: [key, value])
    }
}
