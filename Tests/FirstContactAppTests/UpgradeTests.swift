import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

/// Databases written by released builds open, migrate and mean what they meant (issue 15 §4).
/// Tests/Fixtures/upgrade/README.md says how each fixture was made.
@Suite("upgrades")
struct UpgradeTests {
    static let fixtures = Fixture.root.appendingPathComponent("Tests/Fixtures/upgrade")

    /// A database written by a released build, and the people's actions recorded in it after its ingest.
    struct ReleasedDatabase: Sendable, CustomStringConvertible {
        var file: String
        var inputs: [String]
        var acknowledgement: (obligation: String, agent: String, at: String)
        var review: (violation: String, decision: ViolationReview.Decision, reason: String, by: String)
        /// The ids the acknowledged obligation and the reviewed violation have now: obligation ids
        /// became derived from what created them (v11), and the migration moved both along.
        var renamed: (obligation: String, violation: String)

        var description: String { self.file }
    }

    static let released: [ReleasedDatabase] = [
        ReleasedDatabase(
            file: "f125971.sqlite", inputs: ["Master.csv", "queue_log"],
            acknowledgement: (obligation: "C488f1d6238e19c40-ho1", agent: "8003", at: "2026-11-27T10:05:00+08:00"),
            review: (
                violation: "Cc0606c54f362b802-cb1.v", decision: .accept, reason: "called back after the deadline",
                by: "lin-supervisor"
            ),
            renamed: (obligation: "ho-840751a767d39a2c", violation: "cb-fd4df2447c5807c3.v"))
    ]

    @Test(
        "a database written by a released build migrates and exports what a fresh ingest of its records exports",
        arguments: Self.released)
    func releasedDatabaseMigrates(_ released: ReleasedDatabase) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let inputs = released.inputs.map { Self.fixtures.appendingPathComponent($0).path }
        let acknowledgedAt = try #require(Timestamp(iso8601: released.acknowledgement.at))

        // Opening migrates in place: the checked-in file is copied first.
        let copy = directory.appendingPathComponent(released.file)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(released.file), to: copy)
        let before = try await DatabaseQueue(path: copy.path).read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(!before.isEmpty)
        let migrated = try SQLiteContactStore(path: copy.path)
        #expect(try await migrated.pool.read { db in try SQLiteMigrations.migrator.hasCompletedMigrations(db) })
        // v22 numbered every customer and filed each call and IVR event under its customer's number.
        #expect(try Fixture.misfiled(copy.path) == 0)
        try await engine.applyWatermark(store: migrated)
        let migratedExport = ExportDocument.render(try await migrated.snapshot())

        let fresh = try SQLiteContactStore(path: directory.appendingPathComponent("fresh.sqlite").path)
        _ = try await IngestPipeline(engine: engine, store: fresh).ingest(paths: inputs, format: nil)
        try await engine.applyWatermark(store: fresh)
        _ = try await engine.acknowledge(
            ObligationID(released.renamed.obligation), by: AgentID(released.acknowledgement.agent),
            at: acknowledgedAt,
            store: fresh)
        try await engine.review(
            ViolationID(released.renamed.violation), decision: released.review.decision, reason: released.review.reason,
            by: released.review.by, at: acknowledgedAt, store: fresh)
        try await engine.applyWatermark(store: fresh)
        let freshExport = ExportDocument.render(try await fresh.snapshot())

        #expect(migratedExport == freshExport)
        // The people's action and the supervisor's review survived the migration.
        let obligation = try #require(try await migrated.obligation(ObligationID(released.renamed.obligation)))
        #expect(try await migrated.obligation(ObligationID(released.acknowledgement.obligation)) == nil)
        #expect(obligation.obligation.acknowledgedAt == acknowledgedAt)
        let reviews = try await migrated.violations().reviews
        let review = try #require(reviews[ViolationID(released.renamed.violation)])
        #expect(review.decision == released.review.decision)
        #expect(review.reason == released.review.reason)
        #expect(review.by == released.review.by)
        #expect(try await migrated.totals().contacts > 50)
        // The tally the migration filled holds what the rows count.
        #expect(try await migrated.totals() == migrated.countedTotals())
    }

    /// Released migrations are never edited: what each one executes is hashed and compared with
    /// the hashes checked in when it was released (Tests/Fixtures/upgrade/released-migrations.txt).
    /// A migration's closure is opaque, so its SQL is caught as SQLite runs it (the statement
    /// trace), leaving out GRDB's own bookkeeping; comments and layout are not part of the hash.
    @Test("released migrations are unchanged: same identifiers, in the same order, executing the same SQL")
    func releasedMigrationsUnchanged() throws {
        let listing = try String(
            contentsOf: Self.fixtures.appendingPathComponent("released-migrations.txt"), encoding: .utf8)
        let released: [(identifier: String, hash: String)] = listing.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, !line.hasPrefix("#") else { return nil }
            return (String(fields[0]), String(fields[1]))
        }
        #expect(released.count >= 11)

        let executed = try Self.executedSQL(SQLiteMigrations.migrator)
        let registered = executed.map(\.identifier)
        #expect(
            Array(registered.prefix(released.count)) == released.map(\.identifier),
            "released migrations are registered first, in their order")
        let hashes = Dictionary(uniqueKeysWithValues: executed.map { ($0.identifier, SHA256.hex($0.sql)) })
        // Migrations registered after the released ones are not checked: each joins the list
        // when the build that has it is released (list it with any hash; this message gives the line).
        for migration in released {
            let hash = hashes[migration.identifier] ?? "missing"
            #expect(
                hash == migration.hash,
                "the released migration \(migration.identifier) was edited (now `\(migration.identifier) \(hash)`); add a new migration instead"
            )
        }
    }

    @Test("the migration hash notices an edited statement and ignores comments and layout")
    func migrationHashSeesEdits() throws {
        func migrator(_ sql: String) -> DatabaseMigrator {
            var migrator = DatabaseMigrator()
            migrator.registerMigration("m") { db in try db.execute(sql: sql) }
            return migrator
        }
        let original = try Self.executedSQL(migrator("CREATE TABLE t (a INTEGER); -- why\nCREATE INDEX t_a ON t(a);"))
        let relaid = try Self.executedSQL(
            migrator("-- a comment\nCREATE TABLE t (\n    a INTEGER\n);\nCREATE INDEX t_a ON t(a);"))
        let edited = try Self.executedSQL(migrator("CREATE TABLE t (a INTEGER NOT NULL); CREATE INDEX t_a ON t(a);"))
        #expect(original.map(\.sql) == relaid.map(\.sql))
        #expect(original.map(\.sql) != edited.map(\.sql))
        #expect(original.first?.sql.contains("CREATE INDEX t_a ON t(a)") == true)
    }

    /// Runs `migrator` one migration at a time on an empty in-memory database and returns, per
    /// migration, the statements SQLite executed for it without comments, one per line.
    static func executedSQL(_ migrator: DatabaseMigrator) throws -> [(identifier: String, sql: String)] {
        let queue = try DatabaseQueue()
        let log = StatementLog()
        queue.inDatabase { db in db.trace(options: .statement) { log.append($0) } }
        var result: [(identifier: String, sql: String)] = []
        for identifier in migrator.migrations {
            log.clear()
            try migrator.migrate(queue, upTo: identifier)
            result.append(
                (
                    identifier,
                    log.statements.map(Self.normalised).filter(Self.isMigrationStatement).joined(separator: "\n")
                ))
        }
        return result
    }

    /// The statement without `--` comments, a final `;` and layout: runs of white space as one
    /// space, none next to parentheses and commas.
    static func normalised(_ sql: String) -> String {
        var text = sql.split(separator: "\n")
            .map { line in line.range(of: "--").map { line[..<$0.lowerBound] } ?? line }
            .joined(separator: " ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for (spaced, tight) in [("( ", "("), (" (", "("), (" )", ")"), (" ,", ","), (", ", ",")] {
            text = text.replacingOccurrences(of: spaced, with: tight)
        }
        while text.hasSuffix(";") || text.hasSuffix(" ") { text.removeLast() }
        return text
    }

    /// GRDB's own statements around each migration (its table, transactions, foreign key checks,
    /// schema introspection) change with GRDB versions, not with ours.
    static func isMigrationStatement(_ sql: String) -> Bool {
        let upper = sql.uppercased()
        guard !sql.isEmpty, !upper.contains("GRDB_MIGRATIONS"), !upper.contains("SQLITE_MASTER"),
            !upper.contains("SQLITE_SCHEMA")
        else { return false }
        return !["PRAGMA", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"].contains { upper.hasPrefix($0) }
    }
}

/// Statements seen by a trace, appended on the database's queue and read after the migration.
final class StatementLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ event: Database.TraceEvent) {
        guard case .statement(let statement) = event else { return }
        self.lock.withLock { self.lines.append(statement.sql) }
    }

    func clear() { self.lock.withLock { self.lines.removeAll() } }

    var statements: [String] { self.lock.withLock { self.lines } }
}
