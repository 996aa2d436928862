import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactSimulator
import FirstContactStore
import Foundation
import GRDB
import Testing

/// Retention of personal data (`policy.retention`): a purge removes old contacts and everything
/// naming their customers, keeps the figures of past months, and leaves what stays as it was.
@Suite("Retention")
struct RetentionTests {
    /// Two August days (purged at `now`) and two November days (kept). The first August day and
    /// the November days share a seed (the same customers call), the second August day has its
    /// own: some customers go whole and some keep their later contacts.
    static let august = [6, 7].map { CivilDate(year: 2026, month: 8, day: $0) }
    static let november = [5, 6].map { CivilDate(year: 2026, month: 11, day: $0) }
    static let end = Timestamp(iso8601: "2026-11-10T23:59:59+08:00") ?? Timestamp(seconds: 0)
    /// 60 days before it is in September: the horizon is 1 September, August goes.
    static let now = Timestamp(iso8601: "2026-11-10T23:59:59+08:00") ?? Timestamp(seconds: 0)
    static let augustPeriod = (
        Timestamp(iso8601: "2026-08-01T00:00:00+08:00") ?? Timestamp(seconds: 0),
        Timestamp(iso8601: "2026-09-01T00:00:00+08:00") ?? Timestamp(seconds: 0)
    )
    static let novemberPeriod = (
        Timestamp(iso8601: "2026-11-01T00:00:00+08:00") ?? Timestamp(seconds: 0),
        Timestamp(iso8601: "2026-12-01T00:00:00+08:00") ?? Timestamp(seconds: 0)
    )
    /// A number only a rejected August line holds.
    static let rejectedNumber = "13966661234"
    /// A caller who hung up within `abandon_grace` in August: no contact names them.
    static let hungUpNumber = "13955550000"
    static let hungUpLine = """
        "","13955550000","96116","from-trunk","13955550000","PJSIP/trunk-00000091","","Queue","hotline,t,,,300",\
        "2026-08-06 10:00:00",,"2026-08-06 10:00:03",3,0,"NO ANSWER","DOCUMENTATION","1785981600.91","","",\
        "1785981600.91",91

        """

    static func engine() throws -> Engine {
        var configuration = try ConfigurationLoader.load(path: Fixture.sampleConfig)
        configuration.policy.retention = 60 * 86_400
        return Engine(configuration: configuration)
    }

    struct Figures: Equatable {
        var sla: [Reports.DepartmentSLA]
        var agents: [Reports.AgentFigures]
    }

    static func figures(_ reports: Reports, _ period: (Timestamp, Timestamp)) async throws -> Figures {
        Figures(
            sla: try await reports.sla(scope: .all, from: period.0, to: period.1),
            agents: try await reports.agents(scope: .all, from: period.0, to: period.1))
    }

    /// Simulated days (asterisk + ivr) in `directory`, as the paths to ingest.
    static func days(_ dates: [CivilDate], engine: Engine, in directory: URL) throws -> [String] {
        try dates.flatMap { date -> [String] in
            let day = directory.appendingPathComponent("day-\(date.month)-\(date.day)")
            _ = try Simulator(configuration: engine.configuration).run(
                seed: date == Self.august[1] ? 8 : 7, calls: 150, date: date, outputDirectory: day.path,
                formats: [.asterisk, .ivr])
            return [day.appendingPathComponent("asterisk").path, day.appendingPathComponent("ivr").path]
        }
    }

    @Test(
        "a purge keeps past months' figures, removes every trace of a purged customer's number from the file, leaves what stays as it was, and ingest goes on",
        .timeLimit(.scaled(minutes: 5)))
    func purge() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Self.engine()
        let path = directory.appendingPathComponent("fc.sqlite").path
        let store = try SQLiteContactStore(path: path)
        let pipeline = IngestPipeline(engine: engine, store: store)
        let augustPaths = try Self.days(Self.august, engine: engine, in: directory)
        let bad = directory.appendingPathComponent("bad-Master.csv")
        try "\"\",\"\(Self.rejectedNumber)\",\"96116\",broken\n".write(to: bad, atomically: true, encoding: .utf8)
        _ = try await pipeline.ingest(paths: augustPaths, format: nil)
        _ = try await pipeline.ingest(paths: [bad.path], format: .asteriskCSV)
        let hungUp = directory.appendingPathComponent("hung-up-Master.csv")
        try Self.hungUpLine.write(to: hungUp, atomically: true, encoding: .utf8)
        #expect(try await pipeline.ingest(paths: [hungUp.path], format: .asteriskCSV).batches.newRecords == 1)
        _ = try await pipeline.ingest(paths: try Self.days(Self.november, engine: engine, in: directory), format: nil)
        _ = try await store.advanceClock(to: Self.end, correlator: engine.correlator)
        #expect(try await store.snapshot().rejects.count == 1)

        let reports = Reports(store: store, directory: engine.directory)
        let augustBefore = try await Self.figures(reports, Self.augustPeriod)
        let novemberBefore = try await Self.figures(reports, Self.novemberPeriod)
        #expect(augustBefore.sla.contains { $0.callbacks.due > 0 }, "August has no obligations: nothing to keep")
        #expect(augustBefore.agents.contains { $0.firstResponded > 0 })
        let before = try await store.snapshot().contacts
        #expect(!before.contains { $0.customer.text == "+86" + Self.hungUpNumber })
        let hungUpCalls = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM call WHERE customer_key = ?", arguments: ["+86" + Self.hungUpNumber])
        }
        #expect(hungUpCalls == 1, "the caller who hung up quickly was not stored: the purge of them proves nothing")

        let retention = Retention(engine: engine, store: store)
        #expect(retention.horizon(at: Self.now) == Self.augustPeriod.1)
        let dry = try #require(try await retention.purge(at: Self.now, dryRun: true))
        #expect(try await store.snapshot().contacts == before, "a dry run changed the contacts")
        let outcome = try #require(try await retention.purge(at: Self.now, dryRun: false))
        var expected = dry
        expected.dryRun = false
        #expect(outcome == expected, "the dry run did not say what the purge did")
        #expect(outcome.contacts > 0)
        #expect(outcome.customersRemoved > 0)
        #expect(outcome.customersTrimmed > 0, "no customer kept later contacts: the floor was not exercised")
        #expect(outcome.rejects == 1)
        #expect(outcome.periodsSummarised.map(\.start).contains(Self.augustPeriod.0))

        // Figures for the purged month, and for the month that stays, are unchanged.
        #expect(try await Self.figures(reports, Self.augustPeriod) == augustBefore)
        #expect(try await Self.figures(reports, Self.novemberPeriod) == novemberBefore)

        // What stays is what was: no contact changed, and a re-derivation of every customer
        // (from the purged past at the earliest) resurrects or changes nothing.
        let after = try await store.snapshot().contacts
        let byID = Dictionary(uniqueKeysWithValues: before.map { ($0.id, $0) })
        #expect(after.count == before.count - outcome.contacts)
        for contact in after { #expect(byID[contact.id] == contact, "contact \(contact.id) changed") }
        try await DatabaseQueue(path: path).write { db in
            try db.execute(
                sql: """
                    UPDATE customer SET dirty = 1, settled_before = purged_before, settled_contact = purged_contact,
                    settled_closed = purged_closed
                    """)
        }
        _ = try await store.advanceClock(to: Self.end, correlator: engine.correlator)
        #expect(try await store.snapshot().contacts == after, "a re-derivation changed what stayed")

        // The purged customers' numbers are nowhere in the file or its WAL.
        let kept = Set(after.map(\.customer.text))
        let stillNamed = try await DatabaseQueue(path: path).read { db in
            Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT callback_key FROM ivr_event WHERE callback_key IS NOT NULL
                        UNION SELECT callback_number FROM obligation WHERE callback_number IS NOT NULL
                        """))
        }
        let gone = Set(before.map(\.customer.text)).subtracting(kept).subtracting(stillNamed)
            .filter { $0.hasPrefix("+86") && $0.count >= 12 }.map { String($0.dropFirst(3)) }
        #expect(gone.count > 10)
        let bytes = try [path, path + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }
            .map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        for number in gone + [Self.rejectedNumber, Self.hungUpNumber] {
            for file in bytes {
                #expect(file.range(of: Data(number.utf8)) == nil, "\(number) is still in the database file")
            }
        }
        for number in kept.filter({ $0.hasPrefix("+86") }).prefix(3) {
            #expect(bytes[0].range(of: Data(number.utf8)) != nil, "a kept number is missing: the check proves nothing")
        }

        // Records older than the purge come back refused; new days are ingested as before.
        let again = try await pipeline.ingest(paths: augustPaths, format: nil)
        #expect(again.batches.newRecords == 0)
        #expect(again.batches.beyondRetention > 0)
        _ = try await store.advanceClock(to: Self.end, correlator: engine.correlator)
        #expect(try await store.snapshot().contacts == after)
        let monday = try await pipeline.ingest(
            paths: try Self.days([CivilDate(year: 2026, month: 11, day: 9)], engine: engine, in: directory), format: nil
        )
        #expect(monday.batches.newRecords > 0)
        #expect(monday.batches.beyondRetention == 0)
        _ = try await store.advanceClock(to: Self.end, correlator: engine.correlator)
        #expect(try await store.snapshot().contacts.count > after.count)
        #expect(try await Self.figures(reports, Self.augustPeriod) == augustBefore)

        // A second purge at the same time finds nothing more to remove.
        let second = try #require(try await retention.purge(at: Self.now, dryRun: false))
        #expect(second.contacts == 0)
        #expect(second.periodsSummarised.isEmpty)
    }

    @Test(
        "firstcontact purge --dry-run writes nothing and says what would go; purge removes it; without policy.retention it refuses",
        .timeLimit(.scaled(minutes: 3)))
    func command() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
        let config = directory.appendingPathComponent("fc.yaml").path
        try sample.replacingOccurrences(of: "\npolicy:\n", with: "\npolicy:\n  retention: 60d\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("fc.sqlite").path
        let day = Fixture.sampleDay.appendingPathComponent("asterisk").path
        #expect(
            try Fixture.runBlocking(["ingest", "--config", config, "--db", db, "--allow-rejects", day]).status == 0)
        #expect(
            try Fixture.runBlocking(["tick", "--config", config, "--db", db, "--now", "2026-12-20T00:00:00+08:00"])
                .status == 0)
        let files = [db, db + "-wal", db + "-shm"]
        func bytes() throws -> [Data?] {
            try files.map {
                FileManager.default.fileExists(atPath: $0) ? try Data(contentsOf: URL(fileURLWithPath: $0)) : nil
            }
        }
        func contacts() throws -> Int {
            let listing = try Fixture.runBlocking([
                "contacts", "--config", config, "--db", db, "--json", "--limit", "100000",
            ])
            #expect(listing.status == 0, "\(listing.output.prefix(300))")
            return try #require(try JSONSerialization.jsonObject(with: Data(listing.output.utf8)) as? [Any]).count
        }
        // The first reader after the writer settles the -wal and -shm (ReadOnlyCommandTests).
        let held = try contacts()
        let before = try bytes()
        let now = "2027-03-01T00:00:00+08:00"
        let dry = try Fixture.runBlocking(["purge", "--config", config, "--db", db, "--dry-run", "--now", now])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("Would remove"), "\(dry.output)")
        #expect(dry.output.contains("closed before 2026-11-30T16:00:00Z"), "\(dry.output)")
        #expect(try bytes() == before, "a dry run changed the database files")
        let purge = try Fixture.runBlocking(["purge", "--config", config, "--db", db, "--now", now])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.output.hasPrefix(dry.output.replacingOccurrences(of: "Would remove", with: "Removed").prefix(40)))
        // Contacts still owing something (a breached callback never made) are not closed: they stay.
        let removed = try #require(
            purge.output.split(separator: " ").dropFirst().first.flatMap { Int($0) }, "\(purge.output)")
        #expect(removed > 0)
        #expect(try contacts() == held - removed)

        let refused = try Fixture.runBlocking(["purge", "--config", Fixture.sampleConfig, "--db", db])
        #expect(refused.status == 1)
        #expect(refused.output.contains("sets no policy.retention"), "\(refused.output)")
    }

    @Test(
        "serve's retention service purges when it starts and sleeps a day until the next purge",
        .timeLimit(.scaled(minutes: 5))
    )
    func daily() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Self.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        _ = try await IngestPipeline(engine: engine, store: store).ingest(
            paths: [Fixture.sampleDay.appendingPathComponent("asterisk").path], format: nil)
        let closed = try #require(Timestamp(iso8601: "2026-12-20T00:00:00+08:00"))
        _ = try await store.advanceClock(to: closed, correlator: engine.correlator)
        let held = try await store.totals().contacts
        // 60 days before 30 January is in December: November goes.
        let start = try #require(Timestamp(iso8601: "2027-01-30T12:00:00+08:00"))
        let clock = ManualClock(now: start)
        let service = RetentionService(
            retention: Retention(engine: engine, store: store), clock: clock, logger: Fixture.quietLogger)
        let wake = try await withThrowingTaskGroup(of: Void.self, returning: Timestamp?.self) { group in
            group.addTask { try await service.run() }
            await clock.waitForSleepers()
            let wake = clock.nextWake
            group.cancelAll()
            return wake
        }
        #expect(wake == start + 86_400)
        #expect(try await store.totals().contacts < held)
        #expect(try await store.summarisedPeriods().map(\.start) == [Timestamp(iso8601: "2026-11-01T00:00:00+08:00")])
    }

    @Test(
        "policy.retention reads like the other durations and must outlast auto_close + repeat_window + lateness",
        arguments: [
            ("400d", nil), ("2d", "must be longer than auto_close + repeat_window + lateness"),
            ("soon", "is not a duration"),
        ] as [(String, String?)])
    func retentionSetting(value: String, expected: String?) throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
        let config = directory.appendingPathComponent("fc.yaml")
        try sample.replacingOccurrences(of: "\npolicy:\n", with: "\npolicy:\n  retention: \(value)\n")
            .write(to: config, atomically: true, encoding: .utf8)
        do {
            let configuration = try ConfigurationLoader.load(path: config.path)
            #expect(expected == nil)
            #expect(configuration.policy.retention.map { $0 == 400 * 86_400 } == true)
        } catch {
            let text = "\(error)"
            let wanted = try #require(expected, "\(text)")
            #expect(text.contains("retention"), "\(text)")
            #expect(text.contains(wanted), "\(text)")
        }
    }
}
