import Foundation
import GRDB
import NIOConcurrencyHelpers

/// Read-only connections of their own for the reads a PBX waits on (`GET /v1/route` on every
/// inbound call), run on the calling thread.
///
/// Why not the pool's `read`: it hands the work to a dispatch queue and back, and under load
/// libdispatch starts and ends worker threads for it (`perf`: thread wake-ups and the `munmap`
/// of exited threads' stacks were a quarter of the server's time). Against a database of
/// 182,045 open contacts the route answered at 0.22× `/healthz` that way (BENCHMARKS.md,
/// `/v1/route`). A WAL reader never waits for the writer, so the read is a few index probes.
///
/// Each connection is taken only if free: a caller that finds them all busy gets nil and uses
/// the pool, so no thread ever waits here for another's read. A connection is opened by the first
/// read that takes it: only `serve` routes, and every store opening two connections it never used
/// (each a file and a log descriptor) put the test process past 1,300 descriptors, where
/// Foundation's `Process.run()` crashed reading `/proc/self/fd`.
final class SQLiteDirectReaders: Sendable {
    private final class Connection: Sendable {
        /// Whether a read holds the connection, and the connection (nil until a read opens it).
        /// The lock is held only to look: a read on another connection never waits for this one.
        let state = NIOLockedValueBox<(busy: Bool, queue: DatabaseQueue?)>((false, nil))
    }

    private let path: String
    private let connections: [Connection]

    init(path: String, count: Int) {
        self.path = path
        self.connections = (0..<max(1, count)).map { _ in Connection() }
    }

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(1)
        configuration.label = "route-reader"
        configuration.prepareDatabase { db in
            // As the pool's readers: pages mapped, not copied in with a read syscall each.
            try db.execute(sql: "PRAGMA cache_size = -8192; PRAGMA mmap_size = 268435456")
        }
        return configuration
    }

    /// Closes every connection. The store calls it before its pool closes: SQLite folds the
    /// write-ahead log back into the database and deletes it when the last connection closes,
    /// which a read-only connection cannot do, so readers closing last left the whole log on
    /// disk after every command (100 MB after a 10,000-story day).
    func close() {
        for connection in self.connections {
            connection.state.withLockedValue { state in try? state.queue?.close() }
        }
    }

    /// `body` in one transaction on the first free connection; nil when every one is in use (or
    /// cannot be opened: the pool's read then says why).
    func read<T: Sendable>(_ body: (Database) throws -> T) throws -> T? {
        for connection in self.connections {
            let taken: DatabaseQueue? = connection.state.withLockedValue { state in
                guard !state.busy else { return nil }
                if state.queue == nil {
                    state.queue = try? DatabaseQueue(path: self.path, configuration: Self.configuration)
                }
                state.busy = state.queue != nil
                return state.queue
            }
            guard let open = taken else { continue }
            defer { connection.state.withLockedValue { $0.busy = false } }
            return try open.inDatabase { db in try Self.inTransaction(db, body) }
        }
        return nil
    }

    /// `body` between a BEGIN and a COMMIT prepared once per connection, so its reads see one
    /// state. GRDB's `read` also toggles `query_only` and prepares both statements on every call:
    /// an unknown caller's answer took 215 µs of server CPU that way and 168 µs this way
    /// (BENCHMARKS.md, `/v1/route`). The connection is read-only already.
    private static func inTransaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN").execute()
        do {
            let value = try body(db)
            try db.cachedStatement(sql: "COMMIT").execute()
            return value
        } catch {
            try? db.cachedStatement(sql: "ROLLBACK").execute()
            throw error
        }
    }
}
