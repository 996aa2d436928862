import FirstContactStore

/// Opens the store a `--db` value names.
package enum StoreLocator {
    /// - Parameter live: `serve`'s store, whose clock is the wall clock (late records are a
    ///   backfill whose overdue obligations wait for it to settle).
    package static func open(_ location: String, live: Bool = false) throws -> any ContactStore {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            throw StoreLocatorError.postgresNotYetSupported
        }
        return try SQLiteContactStore(path: location, live: live)
    }

    /// Claims `location` for one long-running writer (see ``SQLiteWriterLock``); nil for a server
    /// database, where several instances are the server's business.
    package static func claimWriter(_ location: String) throws -> SQLiteWriterLock? {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") { return nil }
        return try SQLiteWriterLock(database: location)
    }

    /// Opens the store read-only for a command that only reads: nothing is created, migrated or
    /// written (see ``SQLiteContactStore/init(readingAt:)`` for the errors).
    package static func openForReading(_ location: String) throws -> any ContactStore {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            throw StoreLocatorError.postgresNotYetSupported
        }
        return try SQLiteContactStore(readingAt: location)
    }
}

package enum StoreLocatorError: Error, CustomStringConvertible {
    case postgresNotYetSupported

    package var description: String {
        "PostgreSQL URLs are not supported by this build yet; use a SQLite file path for --db"
    }
}
