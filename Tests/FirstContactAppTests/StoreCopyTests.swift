import FirstContactApp
import FirstContactCore
import FirstContactPostgres
import FirstContactStore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

/// `firstcontact store copy` (issue 14): a deployment moves between SQLite and PostgreSQL and
/// back with everything people and receivers hold, and the export does not change.
@Suite("store copy", .timeLimit(.scaled(minutes: 10)))
struct StoreCopyTests {
    let config = Fixture.sampleConfig
    static let released = UpgradeTests.released[0]

    /// The sample day with an acknowledgement, a review, a webhook cursor with a dead letter and
    /// a follow checkpoint: one of everything the copy must carry.
    static func writeDeployment(at path: String) async throws {
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: path)
        let inputs = Self.released.inputs.map { UpgradeTests.fixtures.appendingPathComponent($0).path }
        let bad = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("bad.csv")
        try Data("not,a,cdr\n".utf8).write(to: bad)
        _ = try await IngestPipeline(engine: engine, store: store).ingest(paths: inputs + [bad.path], format: nil)
        try await engine.applyWatermark(store: store)
        let at = try #require(Timestamp(iso8601: Self.released.acknowledgement.at))
        _ = try await engine.acknowledge(
            ObligationID(Self.released.renamed.obligation), by: AgentID(Self.released.acknowledgement.agent), at: at,
            store: store)
        try await engine.review(
            ViolationID(Self.released.renamed.violation), decision: Self.released.review.decision,
            reason: Self.released.review.reason, by: Self.released.review.by, at: at, store: store)
        try await engine.applyWatermark(store: store)
        let url = "https://receiver.example/hook"
        _ = try await store.webhookCursor(url, startingAtEnd: false, at: at)
        let entries = try await store.outbox(after: 0, limit: 5)
        let dead = try #require(entries.last)
        try await store.finishWebhookDelivery(
            url, seq: dead.seq, at: at,
            deadLetter: DeadLetter(
                url: url, seq: dead.seq, key: dead.key, kind: dead.kind.rawValue, attempts: 3, lastStatus: 500,
                lastError: "HTTP 500", firstAttemptAt: at, lastAttemptAt: at))
        _ = try await store.ingest(
            [],
            checkpoint: FollowCheckpoint(
                path: "/var/log/asterisk/queue_log", device: UInt64.max - 1, inode: 42, offset: 1_234, nextLine: 17,
                fingerprint: "abc", fingerprintLength: 64, generation: 2),
            correlator: engine.correlator)
    }

    /// What people and receivers hold besides the export: every outbox row, cursors, dead letters,
    /// checkpoints, rejects and actions, as SQL reads them.
    static func heldRows(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            var rows: [String] = []
            for sql in [
                "SELECT * FROM outbox ORDER BY seq", "SELECT * FROM webhook_cursor ORDER BY url",
                "SELECT * FROM webhook_dead_letter ORDER BY id", "SELECT * FROM follow_checkpoint ORDER BY path",
                "SELECT * FROM action ORDER BY id", "SELECT * FROM violation_review ORDER BY violation_id",
                "SELECT count(*), max(seq) FROM amendment", "SELECT name, seq FROM sqlite_sequence ORDER BY name",
            ] {
                rows += try Row.fetchAll(db, sql: sql).map(\.description)
            }
            return rows
        }
    }

    static func digest(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return SHA256.digest([UInt8](data)).map { String(format: "%02x", $0) }.joined()
    }

    func export(_ db: String) throws -> String {
        let export = try Fixture.runBlocking(["export", "--config", self.config, "--db", db, "--json"])
        #expect(export.status == 0, "\(export.output)")
        return export.output
    }

    @Test(
        "SQLite to PostgreSQL and back: the exports, the outbox with its seq and keys, cursors, dead letters, checkpoints, actions and reviews are the same",
        arguments: PostgresSampleDayTests.servers)
    func roundTrip(server: PostgresURL) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.sqlite").path
        try await Self.writeDeployment(at: original)
        let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
        let database = url.database
        let postgres = url.redacted
        let back = directory.appendingPathComponent("back.sqlite").path

        let before = try self.export(original)
        let digest = try Self.digest(original)
        let there = try await Fixture.run(["store", "copy", "--from", original, "--to", postgres])
        #expect(there.status == 0, "\(there.output)")
        #expect(try Self.digest(original) == digest, "the source is never written")
        #expect(try self.export(postgres) == before)
        let home = try await Fixture.run(["store", "copy", "--from", postgres, "--to", back])
        #expect(home.status == 0, "\(home.output)")
        #expect(try self.export(back) == before)
        #expect(before.contains("bad.csv"), "the reject is in the export")
        let held = try Self.heldRows(original)
        #expect(held.count > 100)
        #expect(try Self.heldRows(back) == held)
        // Customer numbers are SQLite's own: the copy numbers its customers and files their calls.
        #expect(try Fixture.misfiled(back) == 0)

        // The copy goes on where the original would: the next notification takes the next seq.
        let engine = try Fixture.engine()
        let stores = [try SQLiteContactStore(path: original), try SQLiteContactStore(path: back)]
        let pg = PostgresContactStore(url: url)
        // The copy's totals (SQLite keeps them in a table the copy counts again) are the original's.
        let totals = try await stores[0].totals()
        #expect(totals.contacts > 0 && totals.records > 0 && totals.rejects > 0 && totals.deadLetters > 0)
        #expect(try await stores[1].totals() == totals)
        #expect(try await pg.totals() == totals)
        #expect(try await stores[1].countedTotals() == totals)
        var next: [Int64] = []
        let all: [any ContactStore] = [stores[0], stores[1], pg]
        for store in all {
            let last = try await store.outbox(after: 0, limit: 100_000).last?.seq ?? 0
            try await engine.review(
                ViolationID(Self.released.renamed.violation), decision: .excuse, reason: "the line was down",
                by: Self.released.review.by, at: try #require(Timestamp(iso8601: Fixture.sampleEnd)), store: store)
            let added = try await store.outbox(after: last, limit: 10)
            next.append(added.first?.seq ?? -1)
        }
        await pg.close()
        try await PostgresDatabases.drop(database, on: server)
        #expect(next[0] > 0)
        #expect(next == [next[0], next[0], next[0]])
    }

    @Test("copying into a database that holds anything refuses and writes nothing to either side")
    func nonEmptyTargetRefused() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.sqlite").path
        try await Self.writeDeployment(at: original)
        let target = directory.appendingPathComponent("target.sqlite").path
        let ingest = try await Fixture.run([
            "ingest", "--config", self.config, "--db", target,
            Fixture.sampleDay.appendingPathComponent("ivr").path,
        ])
        #expect(ingest.status == 0, "\(ingest.output)")
        let digests = [try Self.digest(original), try Self.digest(target)]
        let copy = try await Fixture.run(["store", "copy", "--from", original, "--to", target])
        #expect(copy.status == 1)
        #expect(copy.output.contains("is not empty"), "\(copy.output)")
        #expect(copy.output.contains("nothing was written"), "\(copy.output)")
        #expect([try Self.digest(original), try Self.digest(target)] == digests)
    }

    @Test("a PostgreSQL target that holds anything is refused as it is", arguments: PostgresSampleDayTests.servers)
    func nonEmptyPostgresRefused(server: PostgresURL) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.sqlite").path
        try await Self.writeDeployment(at: original)
        let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
        let database = url.database
        let ingest = try await Fixture.run([
            "ingest", "--config", self.config, "--db", url.redacted,
            Fixture.sampleDay.appendingPathComponent("ivr").path,
        ])
        #expect(ingest.status == 0, "\(ingest.output)")
        let before = try self.export(url.redacted)
        let copy = try await Fixture.run(["store", "copy", "--from", original, "--to", url.redacted])
        let after = try self.export(url.redacted)
        try await PostgresDatabases.drop(database, on: server)
        #expect(copy.status == 1)
        #expect(copy.output.contains("is not empty"), "\(copy.output)")
        #expect(after == before)
    }

    @Test("a SQLite file that does not exist is created by the copy, and is gone again when the copy fails")
    func failedCopyLeavesNoFile() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.sqlite").path
        let target = directory.appendingPathComponent("target.sqlite").path
        let copy = try await Fixture.run(["store", "copy", "--from", missing, "--to", target])
        #expect(copy.status != 0)
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(!FileManager.default.fileExists(atPath: missing), "the source is not created either")
    }

    @Test("store copy --help says what moves, that the source is read-only and the target must be empty")
    func help() throws {
        let help = try Fixture.runBlocking(["store", "copy", "--help"])
        #expect(help.status == 0)
        for phrase in [
            "--from", "--to", "read-only", "must hold no rows", "outbox", "webhook cursors", "postgresql://",
        ] {
            #expect(help.output.contains(phrase), "\(phrase)")
        }
    }
}
