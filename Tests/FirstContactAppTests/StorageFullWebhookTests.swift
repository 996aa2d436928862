import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import Foundation
import GRDB
import NIOConcurrencyHelpers
import Testing

@testable import FirstContactStore

@Suite("Webhooks on a full disk")
struct StorageFullWebhookTests {
    @Test(
        "a notification delivered while its cursor cannot be written for lack of space is not sent again: the cursor write waits with back-off until there is room"
    )
    func deliveredOnceThroughAFullDisk() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, _) = try await WebhookTests.store(in: directory)
        let outbox = try await store.outbox(after: 0, limit: 100)
        try #require(outbox.count >= 3)
        let receiver = WebhookReceiver { _ in .ok }
        let url = try await receiver.start()
        defer { receiver.stop() }
        let target = WebhookDelivery.Target(url: url, secret: WebhookTests.secret, from: .start)
        _ = try await store.webhookCursor(url, startingAtEnd: false, at: Timestamp(seconds: 0))

        // Every cursor move now needs new pages, and the database may not grow (max_page_count
        // standing in for the disk): the first cursor write after a delivery fails for space.
        try await store.pool.writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    CREATE TABLE filler (bytes BLOB);
                    CREATE TRIGGER grow AFTER UPDATE ON webhook_cursor BEGIN
                        INSERT INTO filler VALUES (zeroblob(100000));
                    END;
                    """)
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        // Room is made during the first wait.
        let waits = NIOLockedValueBox<[Duration]>([])
        let delivery = WebhookDelivery(
            store: store, targets: [target], clock: ManualClock(now: try SchedulerFixture.at("2026-11-27T12:00:00")),
            sleep: { duration in
                let first = waits.withLockedValue { waits in
                    waits.append(duration)
                    return waits.count == 1
                }
                if first {
                    #expect(store.storage.snapshot.isFull)
                    try await store.pool.writeWithoutTransaction { db in
                        try db.execute(sql: "PRAGMA max_page_count = 1073741823")
                    }
                }
            }, logger: Fixture.quietLogger)

        #expect(try await delivery.deliverPending(target) == outbox.count)
        let keys = receiver.requests.compactMap { $0.header("X-FirstContact-Delivery") }
        #expect(keys == outbox.map(\.key), "each notification sent once, in order")
        #expect(waits.withLockedValue { $0 } == [.seconds(1)])
        #expect(!store.storage.snapshot.isFull)
        #expect(try await store.webhookCursor(url, startingAtEnd: false, at: Timestamp(seconds: 0)) == outbox.last?.seq)
    }
}
