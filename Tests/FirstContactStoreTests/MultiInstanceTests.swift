import FirstContactCore
import FirstContactPostgres
import FirstContactStore
import Foundation
import Testing

/// Several `serve` instances on one PostgreSQL database, each a ``PostgresContactStore`` of its
/// own (its own connection): what they write together must be what one of them would write alone.
/// Only with a server (`FC_TEST_POSTGRES_URL`, see scripts/with-postgres.sh); one test at a
/// time, as each runs several instances at once.
@Suite("Several instances on one PostgreSQL database", .enabled(if: StoreFixture.postgresServer != nil), .serialized)
struct MultiInstanceTests {
    let correlator = StoreFixture.correlator

    @Test(
        "a reader polling the outbox while two instances write sees every notification exactly once",
        .timeLimit(.minutes(6 * StoreFixture.timeScale)))
    func outboxReadInCommitOrder() async throws {
        try await PostgresInstances.with(count: 3) { stores in
            let (writers, reader) = (Array(stores.prefix(2)), stores[2])
            let transactions = 30
            let perTransaction = 40
            let done = Flag()
            async let seen: [String] = {
                var keys: [String] = []
                var after: Int64 = 0
                while true {
                    // Read the state of "done" before the poll: the last poll then sees everything.
                    let finished = await done.isSet
                    let page = try await reader.outbox(after: after, limit: 10_000)
                    keys += page.map(\.key)
                    after = page.last?.seq ?? after
                    if finished && page.isEmpty { return keys }
                }
            }()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (w, writer) in writers.enumerated() {
                    group.addTask {
                        for t in 0..<transactions {
                            // Several notices per transaction: the first is numbered long before
                            // the commit, while the other instance commits in between.
                            try await writer.announce(
                                (0..<perTransaction).map { i in
                                    Announcement(Self.notice("w\(w)-\(t)-\(i)"), customerKey: nil)
                                })
                        }
                    }
                }
                try await group.waitForAll()
            }
            await done.set()
            let keys = try await seen
            let written = Set(
                (0..<writers.count).flatMap { w in
                    (0..<transactions).flatMap { t in (0..<perTransaction).map { "w\(w)-\(t)-\($0)" } }
                })
            #expect(keys.count == written.count, "every notification read once")
            #expect(written.subtracting(keys).count == 0, "none skipped")
        }
    }

    @Test(
        "two instances moving the clock together derive each dirty or due customer once: the same export and notifications as one store alone",
        .timeLimit(.minutes(6 * StoreFixture.timeScale)))
    func eachCustomerDerivedOnce() async throws {
        let records = try StoreFixture.records(calls: 600)
        let latest = try #require(StoreFixture.latest(records))
        // The clock's steps: the last record, then every hour to the end of the day.
        let steps =
            [latest]
            + stride(from: latest.seconds + 3_600, to: StoreFixture.endOfDay.seconds, by: 3_600).map {
                Timestamp(seconds: $0)
            } + [StoreFixture.endOfDay]
        let alone = try await StoreKind.sqlite.make()
        var expected: [Int] = []
        let touched = try await alone.store.ingest(records, correlator: self.correlator).customersTouched
        for step in steps {
            expected.append(try await alone.store.advanceClock(to: step, correlator: self.correlator).derived)
        }
        #expect(expected[0] == touched)
        #expect(expected.dropFirst().reduce(0, +) > 0, "deadlines pass during the day")
        let reference = try await alone.store.snapshot()
        let referenceKeys = try await alone.store.outbox(after: 0, limit: 1_000_000).map(\.key)
        try await alone.dispose()

        try await PostgresInstances.with(count: 2) { stores in
            _ = try await stores[0].ingest(records, correlator: self.correlator)
            for (step, alone) in zip(steps, expected) {
                let derived = try await withThrowingTaskGroup(of: Int.self) { group in
                    for store in stores {
                        group.addTask { try await store.advanceClock(to: step, correlator: self.correlator).derived }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(derived == alone, "customers derived at \(step)")
            }
            let snapshot = try await stores[1].snapshot()
            #expect(snapshot.contacts == reference.contacts)
            #expect(snapshot.violations == reference.violations)
            #expect(snapshot.clock == reference.clock)
            let keys = try await stores[1].outbox(after: 0, limit: 1_000_000).map(\.key)
            #expect(keys.count == referenceKeys.count)
            #expect(Set(keys) == Set(referenceKeys))
        }
    }

    @Test(
        "two instances ingesting shuffled chunks of a day at once, each moving the clock as serve does, end with the export of one store",
        .timeLimit(.minutes(6 * StoreFixture.timeScale)))
    func concurrentIngestEqualsOneStore() async throws {
        let records = try StoreFixture.records(calls: 600)
        let alone = try await StoreKind.sqlite.make()
        _ = try await alone.store.ingest(records, correlator: self.correlator)
        _ = try await alone.store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        let reference = try await alone.store.snapshot()
        try await alone.dispose()

        var generator = SeededGenerator(seed: 14)
        let chunks = stride(from: 0, to: records.count, by: 40).map { Array(records[$0..<min($0 + 40, records.count)]) }
            .shuffled(using: &generator)
        try await PostgresInstances.with(count: 2) { stores in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (i, store) in stores.enumerated() {
                    let mine = chunks.enumerated().filter { $0.offset % stores.count == i }.map(\.element)
                    group.addTask {
                        for chunk in mine {
                            let time = StoreFixture.latest(chunk) ?? StoreFixture.endOfDay
                            let (results, _) = try await store.ingest(
                                batches: [chunk], advancingClockTo: time, correlator: self.correlator)
                            for result in results { _ = try result.get() }
                        }
                    }
                }
                try await group.waitForAll()
            }
            _ = try await stores[0].advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
            let snapshot = try await stores[1].snapshot()
            #expect(snapshot.contacts == reference.contacts)
            #expect(snapshot.violations == reference.violations)
            let keys = try await stores[1].outbox(after: 0, limit: 1_000_000).map(\.key)
            #expect(Set(keys).count == keys.count)
        }
    }

    static func notice(_ key: String) -> Notice {
        Notice(
            key: key, kind: .routed, at: Timestamp(seconds: 1_795_745_520), contact: ContactID("c-\(key)"),
            detail: "notice \(key)")
    }
}

/// A reproducible order for shuffles (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A one-way switch shared between tasks.
actor Flag {
    private(set) var isSet = false
    func set() { self.isSet = true }
}

/// `count` stores on one fresh database of the test server, as `count` instances would open it.
enum PostgresInstances {
    static func with(count: Int, _ body: ([PostgresContactStore]) async throws -> Void) async throws {
        let server = try #require(StoreFixture.postgresServer, "FC_TEST_POSTGRES_URL is not set")
        let url = try await PostgresDatabases.createUnique("fc_multi_", on: server)
        let name = url.database
        let stores = (0..<count).map { _ in PostgresContactStore(url: url) }
        do {
            try await body(stores)
        } catch {
            for store in stores { await store.close() }
            try await PostgresDatabases.drop(name, on: server)
            throw error
        }
        for store in stores { await store.close() }
        try await PostgresDatabases.drop(name, on: server)
    }
}
