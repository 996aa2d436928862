import FirstContactPostgres
import FirstContactStore
import NIOConcurrencyHelpers

/// Opens the store a `--db` value names: a `postgres://` or `postgresql://` URL (libpq form, see
/// ``PostgresURL``) selects PostgreSQL, anything else is a SQLite file path.
package enum StoreLocator {
    /// - Parameter live: `serve`'s store, whose clock is the wall clock (late records are a
    ///   backfill whose overdue obligations wait for it to settle).
    /// - Throws: ``PostgresURLError`` for a PostgreSQL URL that cannot be used.
    package static func open(_ location: String, live: Bool = false) throws -> any ContactStore {
        if PostgresURL.isPostgres(location) {
            return Self.opened(PostgresContactStore(url: try PostgresURL(location), live: live))
        }
        return try SQLiteContactStore(path: location, live: live)
    }

    /// The schema this build migrates each store to, one line per store: what to compare with a
    /// "written by a newer release" error before an upgrade or a downgrade.
    package static var schemaVersions: String {
        """
        SQLite schema: \(SQLiteContactStore.schemaVersion)
        PostgreSQL schema: \(PostgresContactStore.schemaVersion)
        """
    }

    /// Claims `location` for one long-running writer (see ``SQLiteWriterLock``); nil for a server
    /// database, where several instances are the server's business.
    package static func claimWriter(_ location: String) throws -> SQLiteWriterLock? {
        if PostgresURL.isPostgres(location) { return nil }
        return try SQLiteWriterLock(database: location)
    }

    /// Opens the store read-only for a command that only reads: nothing is created, migrated or
    /// written (see ``SQLiteContactStore/init(readingAt:)`` and
    /// ``PostgresContactStore/init(readingAt:logger:)`` for the errors).
    package static func openForReading(_ location: String) throws -> any ContactStore {
        if PostgresURL.isPostgres(location) {
            return Self.opened(PostgresContactStore(readingAt: try PostgresURL(location)))
        }
        return try SQLiteContactStore(readingAt: location)
    }

    /// Closes every PostgreSQL store this process opened, so that a command ends its sessions
    /// with the server (a Terminate message rather than a socket dropped at exit) and frees what
    /// its connections hold (AddressSanitizer reported the socket addresses of connections left
    /// open at exit as leaks). The CLI calls it once its command is done; `serve`'s store is
    /// among them.
    package static func closeOpened() async {
        let stores = Self.openStores.withLockedValue { stores in
            defer { stores = [] }
            return stores
        }
        for store in stores { await store.close() }
    }

    private static let openStores = NIOLockedValueBox<[PostgresContactStore]>([])

    private static func opened(_ store: PostgresContactStore) -> PostgresContactStore {
        Self.openStores.withLockedValue { $0.append(store) }
        return store
    }

    /// Whether `location` names a server database rather than a file.
    package static func isServer(_ location: String) -> Bool {
        PostgresURL.isPostgres(location)
    }
}
