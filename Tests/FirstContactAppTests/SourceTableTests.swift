import FirstContactApp
import FirstContactCore
import FirstContactPostgres
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

/// Record rows and rejects refer to their source by id (issue 19 §4): where the files were read
/// from no longer changes the database's size, and a database written before keeps its meaning.
@Suite("sources in a table of their own", .timeLimit(.scaled(minutes: 10)))
struct SourceTableTests {
    let config = Fixture.sampleConfig

    /// The sample day with one bad line, so that rejects name their source too.
    static func writeDay(into directory: URL) throws -> [String] {
        let asterisk = directory.appendingPathComponent("asterisk")
        try FileManager.default.createDirectory(at: asterisk, withIntermediateDirectories: true)
        let master = try Data(contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"))
        try (master + Data("not,a,cdr\n".utf8)).write(to: asterisk.appendingPathComponent("Master.csv"))
        try FileManager.default.copyItem(
            at: Fixture.sampleDay.appendingPathComponent("asterisk/queue_log"),
            to: asterisk.appendingPathComponent("queue_log"))
        try FileManager.default.copyItem(
            at: Fixture.sampleDay.appendingPathComponent("ivr"), to: directory.appendingPathComponent("ivr"))
        return [asterisk.path, directory.appendingPathComponent("ivr").path]
    }

    static func bytes(of database: String) throws -> Int {
        try [database, database + "-wal"].reduce(0) { total, path in
            guard FileManager.default.fileExists(atPath: path) else { return total }
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
            return total + (size ?? 0)
        }
    }

    @Test("the same day read from a directory 67 characters longer gives a database within 1 % of the size")
    func sizeDoesNotDependOnThePath() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let long = String(repeating: "x", count: 66) + "/d"
        var sizes: [Int] = []
        var exports: [String] = []
        for (name, folder) in [("short", "d"), ("long", long)] {
            let day = directory.appendingPathComponent(name).appendingPathComponent(folder)
            let inputs = try Self.writeDay(into: day)
            let db = directory.appendingPathComponent("\(name).sqlite").path
            let ingest = try await Fixture.run(
                ["ingest", "--allow-rejects", "--config", self.config, "--db", db] + inputs)
            #expect(ingest.status == 0, "\(ingest.output)")
            let tick = try await Fixture.run(["tick", "--config", self.config, "--db", db, "--now", Fixture.sampleEnd])
            #expect(tick.status == 0, "\(tick.output)")
            sizes.append(try Self.bytes(of: db))
            let export = try await Fixture.run(["export", "--config", self.config, "--db", db, "--json"])
            #expect(export.status == 0)
            exports.append(export.output.replacingOccurrences(of: day.path, with: "DAY"))
        }
        #expect(long.count == "d".count + 67)
        let difference = Double(abs(sizes[1] - sizes[0])) / Double(sizes[0])
        #expect(difference < 0.01, "\(sizes[0]) bytes from the short directory, \(sizes[1]) from the long one")
        #expect(exports[0].contains("DAY/asterisk/Master.csv"), "the reject names its file")
        #expect(exports[1] == exports[0])
    }

    /// Puts a database back into the layout before v18 (every row naming its source in full) and
    /// forgets the migration, as a database written by the release before it is.
    static func writeAsBeforeV18(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            for table in SQLiteMigrations.sourcedRecordTables {
                try SQLiteMigrations.rebuild(
                    table, db: db, values: ["source": "(SELECT s.name FROM source s WHERE s.id = \(table).source_id)"]
                ) {
                    $0.replacingOccurrences(of: "source_id INTEGER NOT NULL,", with: "source TEXT NOT NULL,")
                }
            }
            try db.execute(
                sql: """
                    CREATE TABLE reject_old (
                        source TEXT NOT NULL, byte_offset INTEGER NOT NULL, line INTEGER NOT NULL,
                        reason TEXT NOT NULL, raw BLOB NOT NULL, raw_length INTEGER, raw_sha256 TEXT, stored_at INTEGER,
                        PRIMARY KEY (source, byte_offset)
                    ) WITHOUT ROWID;
                    INSERT INTO reject_old SELECT (SELECT name FROM source WHERE id = source_id), byte_offset, line,
                        reason, raw, raw_length, raw_sha256, stored_at FROM reject;
                    DROP TABLE reject;
                    ALTER TABLE reject_old RENAME TO reject;
                    CREATE TABLE reject_dropped_old (
                        source TEXT NOT NULL PRIMARY KEY, dropped INTEGER NOT NULL, high_offset INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO reject_dropped_old SELECT (SELECT name FROM source WHERE id = source_id), dropped,
                        high_offset FROM reject_dropped;
                    DROP TABLE reject_dropped;
                    ALTER TABLE reject_dropped_old RENAME TO reject_dropped;
                    CREATE TABLE source_activity_old (
                        source TEXT NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (source, minute)
                    ) WITHOUT ROWID;
                    INSERT INTO source_activity_old SELECT (SELECT name FROM source WHERE id = source_id), minute
                        FROM source_activity;
                    DROP TABLE source_activity;
                    ALTER TABLE source_activity_old RENAME TO source_activity;
                    DROP TABLE source;
                    DELETE FROM grdb_migrations WHERE identifier = 'v18-sources';
                    """)
        }
    }

    @Test("a database written before sources had their table migrates keeping every row and reads the same")
    func migratedDatabaseReadsTheSame() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = try Self.writeDay(into: directory.appendingPathComponent("day"))
        let db = directory.appendingPathComponent("fc.sqlite").path
        let ingest = try await Fixture.run(["ingest", "--allow-rejects", "--config", self.config, "--db", db] + inputs)
        #expect(ingest.status == 0, "\(ingest.output)")
        let tick = try await Fixture.run(["tick", "--config", self.config, "--db", db, "--now", Fixture.sampleEnd])
        #expect(tick.status == 0, "\(tick.output)")

        func reading() throws -> [String] {
            let export = try Fixture.runBlocking(["export", "--config", self.config, "--db", db, "--json"])
            let contacts = try Fixture.runBlocking(["contacts", "--config", self.config, "--db", db, "--json"])
            let listed = try #require(
                try JSONSerialization.jsonObject(with: Data(contacts.output.utf8)) as? [[String: Any]])
            let ids = listed.compactMap { $0["id"] as? String }.prefix(20)
            #expect(ids.count == 20)
            return [export.output]
                + (try ids.map { try Fixture.runBlocking(["explain", "--config", self.config, "--db", db, $0]).output })
        }
        func rows() throws -> [String: Int] {
            let queue = try DatabaseQueue(path: db)
            return try queue.read { db in
                var counts: [String: Int] = [:]
                for table in SQLiteMigrations.sourcedRecordTables + ["reject", "source_activity"] {
                    counts[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
                }
                return counts
            }
        }
        let before = try reading()
        let stored = try rows()
        #expect((stored["reject"] ?? 0) > 0 && (stored["leg"] ?? 0) > 3_000 && (stored["ivr_event"] ?? 0) > 0)

        try Self.writeAsBeforeV18(db)
        let old = try DatabaseQueue(path: db)
        #expect(try await old.read { try $0.tableExists("source") } == false)
        try old.close()
        // A writing command migrates; readers after it read the migrated file.
        let migrate = try Fixture.runBlocking(["tick", "--config", self.config, "--db", db, "--now", Fixture.sampleEnd])
        #expect(migrate.status == 0, "\(migrate.output)")
        #expect(try rows() == stored)
        let after = try reading()
        #expect(after.count == before.count)
        for (a, b) in zip(after, before) { #expect(a == b) }
        #expect(before.joined().contains("Master.csv"), "explain and export name the records' files")
    }

    /// The same on PostgreSQL: the record tables and rejects back to naming their source, the
    /// v2 migration forgotten.
    static func writeAsBeforeV2(_ url: PostgresURL) async throws {
        var statements: [String] = []
        for table in SQLiteMigrations.sourcedRecordTables {
            statements += [
                "ALTER TABLE \(table) ADD COLUMN source TEXT COLLATE \"C\"",
                "UPDATE \(table) SET source = s.name FROM source s WHERE s.id = \(table).source_id",
                "ALTER TABLE \(table) ALTER COLUMN source SET NOT NULL, DROP COLUMN source_id",
            ]
        }
        for (table, key) in [
            ("reject", "source, byte_offset"), ("reject_dropped", "source"), ("source_activity", "source, minute"),
        ] {
            statements += [
                "ALTER TABLE \(table) ADD COLUMN source TEXT COLLATE \"C\"",
                "UPDATE \(table) SET source = s.name FROM source s WHERE s.id = \(table).source_id",
                "ALTER TABLE \(table) DROP CONSTRAINT \(table)_pkey",
                "ALTER TABLE \(table) ALTER COLUMN source SET NOT NULL, DROP COLUMN source_id",
                "ALTER TABLE \(table) ADD PRIMARY KEY (\(key))",
            ]
        }
        statements += ["DROP TABLE source", "DELETE FROM schema_migration WHERE version = 'v3-sources'"]
        try await PostgresDatabases.execute(statements, on: url)
    }

    @Test(
        "a PostgreSQL database written before sources had their table migrates and reads the same",
        arguments: PostgresSampleDayTests.servers)
    func migratedPostgresReadsTheSame(server: PostgresURL) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = try Self.writeDay(into: directory.appendingPathComponent("day"))
        let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
        let database = url.database
        let db = url.redacted
        let ingest = try await Fixture.run(["ingest", "--allow-rejects", "--config", self.config, "--db", db] + inputs)
        #expect(ingest.status == 0, "\(ingest.output)")
        func reading() throws -> [String] {
            let export = try Fixture.runBlocking(["export", "--config", self.config, "--db", db, "--json"])
            return [export.output]
                + (try ["C03f50cd291328fe0"].map {
                    try Fixture.runBlocking(["explain", "--config", self.config, "--db", db, $0]).output
                })
        }
        let tick = try Fixture.runBlocking(["tick", "--config", self.config, "--db", db, "--now", Fixture.sampleEnd])
        #expect(tick.status == 0, "\(tick.output)")
        let before = try reading()
        try await Self.writeAsBeforeV2(url)
        let stale = try Fixture.runBlocking(["export", "--config", self.config, "--db", db, "--json"])
        #expect(stale.status != 0, "a reader refuses the older schema: \(stale.output)")
        let migrate = try Fixture.runBlocking(["tick", "--config", self.config, "--db", db, "--now", Fixture.sampleEnd])
        #expect(migrate.status == 0, "\(migrate.output)")
        let after = try reading()
        try await PostgresDatabases.drop(database, on: server)
        #expect(before[0].contains("Master.csv"), "the export names the reject's file")
        #expect(before[1].contains("Why"), "\(before[1])")
        #expect(after == before)
    }
}
