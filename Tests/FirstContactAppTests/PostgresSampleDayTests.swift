import FirstContactApp
import FirstContactStore
import Foundation
import Testing

@testable import FirstContactPostgres

/// The sample day through the `firstcontact` binary on PostgreSQL and on SQLite: the same
/// commands, the same clock, the same export to the byte. Runs where FC_TEST_POSTGRES_URL names
/// a server (scripts/test.sh starts one); without it the suite has no tests.
@Suite("The sample day on PostgreSQL", .timeLimit(.scaled(minutes: 10)))
struct PostgresSampleDayTests {
    static let server: PostgresURL? = {
        guard let text = ProcessInfo.processInfo.environment["FC_TEST_POSTGRES_URL"], !text.isEmpty else { return nil }
        do {
            return try PostgresURL(text)
        } catch {
            fatalError("FC_TEST_POSTGRES_URL is not a usable URL: \(error)")
        }
    }()
    static let servers: [PostgresURL] = Self.server.map { [$0] } ?? []

    let config = Fixture.sampleConfig
    let inputs = [
        Fixture.sampleDay.appendingPathComponent("asterisk").path, Fixture.sampleDay.appendingPathComponent("ivr").path,
    ]

    @Test(
        "ingest, tick and export --json of the sample day on PostgreSQL are byte-identical to SQLite's at the same clock",
        arguments: Self.servers)
    func exportMatchesSQLite(server: PostgresURL) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
        let database = url.database
        let postgres = url.redacted
        let sqlite = directory.appendingPathComponent("fc.sqlite").path

        var exports: [String] = []
        for db in [sqlite, postgres] {
            let ingest = try await Fixture.run(["ingest", "--config", self.config, "--db", db] + self.inputs)
            #expect(ingest.status == 0, "\(ingest.output)")
            let tick = try await Fixture.run(["tick", "--config", self.config, "--db", db, "--now", Fixture.sampleEnd])
            #expect(tick.status == 0, "\(tick.output)")
            let export = try await Fixture.run(["export", "--config", self.config, "--db", db, "--json"])
            #expect(export.status == 0)
            exports.append(export.output)
        }
        try await PostgresDatabases.drop(database, on: server)
        #expect(exports[0].count > 100_000, "the day's export is large")
        #expect(exports[1] == exports[0])
    }

    @Test(
        "the PostgreSQL stores a command opened are closed before it exits: their sessions end, and the database can be dropped without forcing them",
        arguments: Self.servers)
    func commandStoresAreClosed(server: PostgresURL) async throws {
        let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
        let store = try StoreLocator.open(url.redacted)
        _ = try await store.totals()
        // The server's own list of the client sessions connected to the database, asked in a
        // session of the test's to the server's default database; a session that stays is named
        // by its state, client and last query, which say whose socket kept it (see Fixture.spawn).
        let observer = PostgresSession(url: server, readOnly: true, logger: PostgresContactStore.logger) { _ in }
        func sessions() async throws -> [String] {
            try await observer.transaction(reading: true) { tx in
                try await tx.rows(
                    """
                    SELECT coalesce(state, '') || ' ' || coalesce(application_name, '') || ' since '
                        || coalesce(backend_start::text, '') || ': ' || coalesce(query, '')
                    FROM pg_stat_activity WHERE datname = ? AND backend_type = 'client backend'
                    """
                ) { $0.add(url.database) }.map { try $0.decode(String.self) }
            }
        }
        #expect(try await sessions().count == 1)
        await StoreLocator.closeOpened()
        // A backend ends once it has read the client's Terminate, on its own time: waited for.
        let deadline = ContinuousClock.now + .seconds(60 * TestTime.scale)
        var left = try await sessions()
        while !left.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            left = try await sessions()
        }
        await observer.close()
        #expect(
            left.isEmpty, "sessions still connected to the database after closeOpened:\n\(left.joined(separator: "\n"))"
        )
        do {
            try await PostgresDatabases.execute(["DROP DATABASE \(url.database)"], on: server)
        } catch {
            Issue.record("DROP DATABASE without FORCE: \(String(reflecting: error))")
            try await PostgresDatabases.drop(url.database, on: server)
        }
    }

    @Test(
        "a reading command on a PostgreSQL database with no FirstContact schema says so and creates nothing",
        arguments: Self.servers)
    func readingAnEmptyDatabase(server: PostgresURL) async throws {
        let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
        let database = url.database
        let export = try await Fixture.run(["export", "--config", self.config, "--db", url.redacted, "--json"])
        // Nothing was created: the database still holds no schema for a reader to find. (Not
        // through StoreLocator, whose stores another test closes: it keeps them process-wide.)
        let reader = PostgresContactStore(readingAt: url)
        let again = await #expect(throws: StoreError.self) { _ = try await reader.totals() }
        try await PostgresDatabases.drop(database, on: server)
        #expect(export.status != 0)
        #expect(export.output.contains("no database at postgresql://"))
        #expect(again.map { "\($0)" }?.contains("no database at postgresql://") == true, "\(String(describing: again))")
    }

    @Test(
        "a PostgreSQL that cannot be reached says where and why, as psql would, not postgres-nio's generic text",
        arguments: [
            (
                "postgresql://postgres@/fc?host=DIR/no-server-here",
                "DIR/no-server-here/.s.PGSQL.5432: No such file or directory"
            ),
            ("postgresql://postgres@127.0.0.1:1/fc", "127.0.0.1:1: Connection refused"),
            ("postgresql://postgres@no-such-host.invalid/fc", "unknown host no-such-host.invalid"),
        ])
    func unreachableServer(url: String, reason: String) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = url.replacingOccurrences(of: "DIR", with: directory.path)
        for command in [["export", "--json"], ["ingest", self.inputs[0]]] {
            let run = try await Fixture.run([command[0], "--config", self.config, "--db", url] + command.dropFirst())
            #expect(run.status != 0)
            #expect(run.output.contains("PostgreSQL at postgresql://postgres@"), "\(run.output)")
            #expect(
                run.output.contains("cannot connect: " + reason.replacingOccurrences(of: "DIR", with: directory.path)),
                "\(run.output)")
            #expect(!run.output.contains("Generic description") && !run.output.contains("errno"), "\(run.output)")
        }
    }

    @Test(
        "a database the server does not have: the server's own message and SQLSTATE, not a generic error",
        arguments: Self.servers)
    func missingDatabase(server: PostgresURL) async throws {
        var url = server
        url.database = "fc_no_such_database"
        let run = try await Fixture.run(["ingest", "--config", self.config, "--db", url.redacted, self.inputs[0]])
        #expect(run.status != 0)
        #expect(run.output.contains("database \"fc_no_such_database\" does not exist"), "\(run.output)")
        #expect(run.output.contains("SQLSTATE 3D000"), "\(run.output)")
    }
}
