import FirstContactCore
import FirstContactStore
import Foundation
import Logging
import PostgresNIO

/// The server store: the same contract as ``SQLiteContactStore`` on a PostgreSQL database, for
/// deployments that outgrow one machine. Same tables and the same rules (the row shapes come
/// from ``StoredRows``, the derivation from the Core), so for the same records and clock every
/// answer — and `export --json` — is the same as SQLite's.
///
/// Connecting and migrating happen at the first operation (``PostgresSession``), so opening the
/// store stays synchronous like opening a SQLite file.
package final class PostgresContactStore: ContactStore {
    package let url: PostgresURL
    let session: PostgresSession
    /// `serve`'s store: late records are a backfill (see ``SQLiteContactStore``'s `live`).
    let live: Bool
    /// Writes are the server's business: there is no local file whose disk could fill. Kept for
    /// the protocol (`/healthz` shows its free space as unknown: the watched "file" is the URL).
    package let storage: StorageWatch

    /// The store at `url`, created and migrated at its first operation.
    package init(url: PostgresURL, live: Bool = false, logger: Logger = PostgresContactStore.logger) {
        self.url = url
        self.live = live
        self.storage = StorageWatch(database: url.redacted)
        self.session = PostgresSession(url: url, readOnly: false, logger: logger) { tx in
            try await PostgresContactStore.migrate(tx, url: url)
        }
    }

    /// The store at `url` for commands that only read: every transaction is READ ONLY, nothing is
    /// created or migrated. The first operation throws ``StoreError/noDatabase(path:)`` when the
    /// database holds no FirstContact schema, ``StoreError/needsUpgrade(path:database:build:)``
    /// or ``StoreError/newerSchema(path:database:build:)`` when it is not this build's.
    package init(readingAt url: PostgresURL, logger: Logger = PostgresContactStore.logger) {
        self.url = url
        self.live = false
        self.storage = StorageWatch(database: url.redacted)
        self.session = PostgresSession(url: url, readOnly: true, logger: logger) { tx in
            try await PostgresContactStore.checkSchema(tx, url: url)
        }
    }

    package static let logger = Logger(label: "firstcontact.postgres")

    /// Closes the connection (tests drop their database after it).
    package func close() async {
        await self.session.close()
    }

    func write<Result: Sendable>(_ body: @Sendable (PostgresTransaction) async throws -> Result) async throws
        -> Result
    {
        let result = try await self.session.transaction(body)
        self.storage.wrote()
        return result
    }

    func read<Result: Sendable>(_ body: @Sendable (PostgresTransaction) async throws -> Result) async throws
        -> Result
    {
        try await self.session.transaction(reading: true, body)
    }

    /// The server checkpoints its own log.
    package func checkpointIfIdle(for idle: TimeInterval) async throws -> Bool { false }

    // MARK: Schema

    /// The last migration this build applies (`firstcontact --version`).
    package static var schemaVersion: String { PostgresMigrations.latest }

    /// Every instance may start at once: the first to take this lock migrates, the others then
    /// find the versions applied.
    private static let migrationLock: Int64 = 0x4643_5F6D_6967  // "FC_mig"

    static func migrate(_ tx: PostgresTransaction, url: PostgresURL) async throws {
        try await tx.run("SELECT pg_advisory_xact_lock(?)") { $0.add(Self.migrationLock) }
        try await tx.run(
            """
            CREATE TABLE IF NOT EXISTS schema_migration (
                version TEXT COLLATE "C" PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """)
        let applied = try await Self.appliedVersions(tx, url: url)
        for (version, sql) in PostgresMigrations.all where !applied.contains(version) {
            // The extended protocol takes one statement at a time.
            for statement in sql.components(separatedBy: ";\n") {
                let text = statement.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else { continue }
                try await tx.run(text.hasSuffix(";") ? String(text.dropLast()) : text)
            }
            try await tx.run("INSERT INTO schema_migration (version) VALUES (?)") { $0.add(version) }
        }
    }

    /// The versions applied to the database.
    /// - Throws: ``StoreError/newerSchema(path:database:build:)`` when one is unknown to this build.
    private static func appliedVersions(_ tx: PostgresTransaction, url: PostgresURL) async throws -> Set<String> {
        let applied = Set(try await tx.rows("SELECT version FROM schema_migration").map { try Columns($0).text(0) })
        let unknown = applied.subtracting(PostgresMigrations.all.map(\.version))
        if !unknown.isEmpty {
            throw StoreError.newerSchema(
                path: url.redacted, database: unknown.sorted().joined(separator: ", "), build: PostgresMigrations.latest
            )
        }
        return applied
    }

    static func checkSchema(_ tx: PostgresTransaction, url: PostgresURL) async throws {
        guard try await tx.value(Bool.self, "SELECT to_regclass('schema_migration') IS NOT NULL") == true else {
            throw StoreError.noDatabase(path: url.redacted)
        }
        let applied = try await Self.appliedVersions(tx, url: url)
        let known = PostgresMigrations.all.map(\.version)
        if applied != Set(known) {
            let last = known.last { applied.contains($0) } ?? "none"
            throw StoreError.needsUpgrade(path: url.redacted, database: last, build: PostgresMigrations.latest)
        }
    }

    // MARK: Meta

    static func storedClock(_ tx: PostgresTransaction) async throws -> Timestamp? {
        try await Self.metaTime(tx, "clock")
    }

    static func metaTime(_ tx: PostgresTransaction, _ key: String) async throws -> Timestamp? {
        guard let text = try await Self.meta(tx, key) else { return nil }
        guard let seconds = Int64(text) else {
            throw StoreError.corrupt(table: "meta", rowid: nil, reason: "\(key) \"\(text)\" is not epoch seconds")
        }
        return Timestamp(seconds: seconds)
    }

    static func meta(_ tx: PostgresTransaction, _ key: String) async throws -> String? {
        try await tx.value(String.self, "SELECT value FROM meta WHERE key = ?") { $0.add(key) }
    }

    static func setMeta(_ tx: PostgresTransaction, _ key: String, _ value: String) async throws {
        try await tx.run(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ) {
            $0.add(key)
            $0.add(value)
        }
    }
}

/// Databases on a server, created and dropped by name (tests give each store a database of its own).
package enum PostgresDatabases {
    /// Creates database `name` on the server `server` points at (its own database is only
    /// where the statement runs). `name` must be a plain identifier: lower-case letters, digits, `_`.
    package static func create(_ name: String, on server: PostgresURL) async throws {
        try await Self.run("CREATE DATABASE \(try Self.identifier(name))", on: server)
    }

    /// Creates a database of its own for one test or run, `prefix` and a random part as its name
    /// (drop it by `url.database`), and returns the URL of it on `server`.
    package static func createUnique(_ prefix: String, on server: PostgresURL) async throws -> PostgresURL {
        let name = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await Self.create(name, on: server)
        var url = server
        url.database = name
        return url
    }

    /// Drops database `name`, ending the sessions still connected to it.
    package static func drop(_ name: String, on server: PostgresURL) async throws {
        try await Self.run("DROP DATABASE IF EXISTS \(try Self.identifier(name)) WITH (FORCE)", on: server)
    }

    /// Runs `statements` in turn on the database `url` names, each on its own (tests shape a
    /// database as an earlier release left it with this).
    package static func execute(_ statements: [String], on url: PostgresURL) async throws {
        let session = PostgresSession(url: url, readOnly: false, logger: PostgresContactStore.logger) { _ in }
        do {
            for statement in statements { try await session.statement(statement) }
        } catch {
            await session.close()
            throw error
        }
        await session.close()
    }

    private static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 })
        else { throw PostgresURLError(url: name, problem: "not a plain database name") }
        return name
    }

    private static func run(_ sql: String, on server: PostgresURL) async throws {
        // Outside a transaction: CREATE and DROP DATABASE refuse to run inside one.
        let session = PostgresSession(url: server, readOnly: false, logger: PostgresContactStore.logger) { _ in }
        try await session.statement(sql)
        await session.close()
    }
}
