import FirstContactCore
import FirstContactPostgres
import FirstContactStore
import Foundation
import Testing

/// Several `serve` instances on one PostgreSQL database, each a ``PostgresContactStore`` of its
/// own (its own connection): what they write together must be what one of them would write alone.
/// Only with a server (`FC_TEST_POSTGRES_URL`, see scripts/with-postgres.sh).
@Suite("Several instances on one PostgreSQL database", .enabled(if: StoreFixture.postgresServer != nil))
struct MultiInstanceTests {
    let correlator = StoreFixture.correlator

    @Test(
        "a reader polling the outbox while two instances write sees every notification exactly once",
        .timeLimit(.minutes(3)))
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

    static func notice(_ key: String) -> Notice {
        Notice(
            key: key, kind: .routed, at: Timestamp(seconds: 1_795_745_520), contact: ContactID("c-\(key)"),
            detail: "notice \(key)")
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
        let name = "fc_multi_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await PostgresDatabases.create(name, on: server)
        var url = server
        url.database = name
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
