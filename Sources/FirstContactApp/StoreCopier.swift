import FirstContactPostgres
import FirstContactStore

/// `firstcontact store copy`: a deployment's whole database from one store to the other (SQLite
/// file ↔ PostgreSQL URL, or file to file): every table but the migration bookkeeping, row for row,
/// with the ids people and receivers hold (outbox sequence numbers and keys, action and violation
/// ids, webhook cursors), so that the export after the move is the export before it.
package enum StoreCopier {
    /// Copies `from` into `to`. The source is opened read-only and read in one snapshot; the
    /// target must hold no rows and is written in one transaction, committed at the end.
    /// - Returns: the rows copied per table.
    package static func copy(from: String, to: String) async throws -> [String: Int] {
        guard from != to else { throw StoreCopyError.sameDatabase(Self.display(from)) }
        return try await Self.reading(from) { reader in
            try await Self.writing(to) { writer in
                let plan = try StoreCopyPlan.plan(source: try await reader.tables(), target: try await writer.tables())
                var counts: [String: Int] = [:]
                for (table, columns) in plan {
                    counts[table] = try await reader.rows(of: table, columns: columns) { chunk in
                        try await writer.insert(chunk, into: table, columns: columns)
                    }
                }
                try await writer.continueCounters(after: try await reader.counters())
                return counts
            }
        }
    }

    /// A location as it may be shown (a URL's password masked).
    package static func display(_ location: String) -> String {
        guard PostgresURL.isPostgres(location) else { return location }
        do {
            return try PostgresURL(location).redacted
        } catch {
            // Unusable as a URL: opening it says why; nothing of it is shown that may be a password.
            return "the PostgreSQL URL given"
        }
    }

    private static func reading<Result: Sendable>(
        _ location: String, _ body: @Sendable (any StoreCopyReader) async throws -> Result
    ) async throws -> Result {
        if PostgresURL.isPostgres(location) {
            return try await PostgresContactStore.copyReading(at: try PostgresURL(location), body)
        }
        return try await SQLiteContactStore.copyReading(at: location, body)
    }

    private static func writing<Result: Sendable>(
        _ location: String, _ body: @Sendable (any StoreCopyWriter) async throws -> Result
    ) async throws -> Result {
        if PostgresURL.isPostgres(location) {
            return try await PostgresContactStore.copyWriting(at: try PostgresURL(location), body)
        }
        return try await SQLiteContactStore.copyWriting(at: location, body)
    }
}
