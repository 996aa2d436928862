import CSQLiteConfig
import FirstContactCore
import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode (GRDB `DatabasePool`).
///
/// Ingest keeps the source records themselves (legs, queue events) keyed by a hash of their
/// bytes, so a record seen twice is stored once; calls are re-assembled from all their
/// records and customers re-derived from all their calls, which is what makes the derived
/// state independent of arrival order and batching.
package final class SQLiteContactStore: ContactStore {
    let pool: SQLiteStoragePool
    var reader: SQLiteStoragePool { self.pool }
    /// Whether writes fail for lack of space, and the space left (`/healthz`, `/metrics`, 507s).
    package var storage: StorageWatch { self.pool.watch }
    /// Whether the stored clock is the wall clock (`serve`): then records arriving later than
    /// `lateness` behind it are a backfill, whose overdue obligations wait for it to settle
    /// (SPEC "Backfill in `serve`"). Batch commands keep event time and never hold anything.
    let live: Bool
    /// Customers derived per write transaction (``derivationChunk``); smaller in tests, so that
    /// one clock move takes several transactions.
    let derivationChunk: Int
    /// Customers of a chunk read, computed and written together (``derivationSlice``); smaller in
    /// tests, so that a small chunk takes the pipeline of several slices.
    let derivationSlice: Int
    /// The routing read's own connections (``openContact(of:)``).
    let directReaders: SQLiteDirectReaders

    deinit { self.directReaders.close() }

    /// Opens (creating if needed) and migrates the database at `path`.
    /// - Parameters:
    ///   - live: `serve`'s store (see ``live``).
    ///   - derivationChunk: customers derived per write transaction.
    ///   - derivationSlice: customers of a chunk read, computed and written together.
    /// - Throws: ``StoreError/newerSchema(path:database:build:)`` when a newer release migrated it.
    package init(
        path: String, live: Bool = false, derivationChunk: Int = SQLiteContactStore.derivationChunk,
        derivationSlice: Int = SQLiteContactStore.derivationSlice
    ) throws {
        _ = (Self.memoryStatisticsOff, Self.statementJournalSpillSet)
        self.live = live
        self.derivationChunk = derivationChunk
        self.derivationSlice = max(1, derivationSlice)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // A 64 MiB page cache keeps re-derivation off the read syscalls (with the 2 MB default,
            // 7 s of an 18 s 100k-call ingest were kernel copies) while memory stays flat however
            // large the file (the 256 MiB memory map counts as resident once touched, and no more).
            try db.execute(
                sql: "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 16384")
        }
        self.pool = SQLiteStoragePool(
            base: try DatabasePool(path: path, configuration: configuration), watch: StorageWatch(database: path))
        // WAL with synchronous=FULL on the one writer connection: every commit syncs the WAL
        // before it returns, so whatever is acknowledged afterwards (an HTTP 2xx, an action, a
        // follower checkpoint that lets a file rotate away) survives a power cut, not only a
        // kill -9. Group commit pays the sync once per group of concurrent requests. Set here,
        // after the pool opened: GRDB's WAL set-up runs after `prepareDatabase` and sets NORMAL.
        try self.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        if live {
            // serve commits small groups: checkpoint whenever the log passes 1,000 pages (4 MiB,
            // SQLite's default, passive: readers are never waited for) instead of the 64 MiB
            // batch ingest runs with, so the log stays small in steady state.
            try self.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000") }
        }
        try self.pool.read { db in
            if case .newer(let database, let build) = try Self.schema(db) {
                throw StoreError.newerSchema(path: path, database: database, build: build)
            }
        }
        do { try SQLiteMigrations.migrator.migrate(self.pool.base) } catch { throw self.pool.mapped(error) }
        self.directReaders = SQLiteDirectReaders(path: path, count: Self.directReaderCount)
    }

    /// Whether SQLite keeps no memory statistics in this process: set once, before the process
    /// opens its first store (false when a connection was opened before, which then changes
    /// nothing). Kept, every sqlite3_malloc and sqlite3_free takes one process-wide mutex for
    /// figures nothing here reads: 4.7 % of the CPU samples of a history day's ingest were that
    /// mutex's lock and unlock, 0.5 % without (perf, day 30 of the same customers; BENCHMARKS).
    static let memoryStatisticsOff = fc_sqlite3_memory_statistics_off() == SQLITE_OK

    /// Whether a savepoint's undo log stays in memory up to ``statementJournalInMemory`` bytes
    /// (SQLite's default: 64 KiB) in this process; set once, like ``memoryStatisticsOff``. One
    /// request of an HTTP group commit (a savepoint each) dirties 15–20 pages, so its log went to
    /// a temporary file created, written and unlinked per request. One savepoint is open at a
    /// time, so this is the most memory it holds.
    static let statementJournalSpillSet =
        fc_sqlite3_statement_journal_spill(SQLiteContactStore.statementJournalInMemory) == SQLITE_OK
    static let statementJournalInMemory: Int32 = 4 << 20

    /// One per core: the most route answers that run at once.
    static let directReaderCount = max(2, ProcessInfo.processInfo.activeProcessorCount)

    /// Opens the database at `path` read-only, for commands that only read: no migration and no
    /// write, so a backup, a copy or a read-only mount stays byte for byte what it was. Every
    /// method that changes state fails (SQLite refuses the write).
    /// - Throws: ``StoreError/noDatabase(path:)`` when there is no file,
    ///   ``StoreError/newerSchema(path:database:build:)`` when a newer release migrated it, and
    ///   ``StoreError/needsUpgrade(path:database:build:)`` when it lacks this build's migrations.
    package init(readingAt path: String) throws {
        _ = (Self.memoryStatisticsOff, Self.statementJournalSpillSet)
        self.live = false
        self.derivationChunk = Self.derivationChunk
        self.derivationSlice = Self.derivationSlice
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.noDatabase(path: path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456")
        }
        self.pool = SQLiteStoragePool(
            base: try DatabasePool(path: path, configuration: configuration), watch: StorageWatch(database: path))
        self.directReaders = SQLiteDirectReaders(path: path, count: Self.directReaderCount)
        try self.pool.read { db in
            switch try Self.schema(db) {
            case .current:
                break
            case .newer(let database, let build):
                throw StoreError.newerSchema(path: path, database: database, build: build)
            case .older(let database, let build):
                throw StoreError.needsUpgrade(path: path, database: database, build: build)
            }
        }
    }

    package func checkpointIfIdle(for idle: TimeInterval) async throws -> Bool {
        guard let last = self.pool.watch.lastWrite, Date().timeIntervalSince(last) >= idle,
            let wal = self.pool.watch.walBytes, wal > 0
        else { return false }
        // Not through the pool's write (it would count as a write): a checkpoint adds no data.
        // SQLITE_BUSY (a reader holds the log) leaves it for the next idle moment.
        return try await self.pool.base.writeWithoutTransaction { db in try Self.checkpointTruncating(db) }
    }

    /// The last migration this build applies (`firstcontact --version`).
    package static let schemaVersion = SQLiteMigrations.migrator.migrations.last ?? "none"

    /// How a database's migrations compare with this build's.
    enum Schema: Equatable {
        case current
        /// Migrated by a release that knows migrations this build does not (named in `database`).
        case newer(database: String, build: String)
        /// Lacking migrations this build has; `database` is the last one applied ("none" for a new file).
        case older(database: String, build: String)
    }

    static func schema(_ db: Database) throws -> Schema {
        let migrator = SQLiteMigrations.migrator
        let build = Self.schemaVersion
        let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations)
        if !unknown.isEmpty { return .newer(database: unknown.sorted().joined(separator: ", "), build: build) }
        if try migrator.hasCompletedMigrations(db) { return .current }
        return .older(database: try migrator.completedMigrations(db).last ?? "none", build: build)
    }
}
