import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

/// A real HTTP receiver on an ephemeral loopback port: records every POST and answers with the
/// status `respond` chooses for the n-th request (0-based).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        /// Header values by lower-cased name.
        var headers: [String: String]
        var body: [UInt8]
        var status: Int

        func header(_ name: String) -> String? { self.headers[name.lowercased()] }
    }

    private let received = NIOLockedValueBox<[Received]>([])
    private let respond: @Sendable (Int) -> HTTPResponse.Status
    private let task: NIOLockedValueBox<Task<Void, any Error>?> = NIOLockedValueBox(nil)

    init(respond: @escaping @Sendable (Int) -> HTTPResponse.Status) {
        self.respond = respond
    }

    var requests: [Received] { self.received.withLockedValue { $0 } }

    /// Starts the server; returns the URL to post to.
    func start() async throws -> String {
        let router = Router()
        router.post("hooks/firstcontact") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let status = self.received.withLockedValue { list in
                let status = self.respond(list.count)
                list.append(Received(headers: headers, body: [UInt8](buffer: body), status: Int(status.code)))
                return status
            }
            return Response(status: status)
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        self.task.withLockedValue { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        return "http://127.0.0.1:\(port)/hooks/firstcontact"
    }

    func stop() {
        self.task.withLockedValue { $0?.cancel() }
    }
}

/// Records the back-off delays asked for instead of sleeping.
final class SleepRecorder: Sendable {
    private let delays = NIOLockedValueBox<[Duration]>([])
    var recorded: [Duration] { self.delays.withLockedValue { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.delays.withLockedValue { $0.append(duration) } }
    }
}

@Suite("Webhooks")
struct WebhookTests {
    static let secret = Array("s3cret-shared".utf8)
    /// A try that outlives its deadline is sent again (at least once, by design), which these
    /// tests would count as a second request: under a sanitizer an answer can take longer than
    /// the default 10 s.
    static let transport = HTTPClientWebhookTransport(timeout: .seconds(10 * Int64(TestTime.scale)))

    /// A store whose outbox holds a hand-off's breach, escalations and violation (as of 12:00).
    static func store(in directory: URL) async throws -> (SQLiteContactStore, Engine) {
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.failedTransferStore(in: directory, engine: engine)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)
        return (store, engine)
    }

    /// A missed call arrives later and its callback breaches and escalates by 18:00: new outbox entries.
    static func missedCallLater(in directory: URL, store: SQLiteContactStore, engine: Engine) async throws {
        let master = directory.appendingPathComponent("later.csv")
        let log = directory.appendingPathComponent("later_queue_log")
        try (SchedulerFixture.missedCall + "\n").write(to: master, atomically: true, encoding: .utf8)
        try (SchedulerFixture.missedQueueLog + "\n").write(to: log, atomically: true, encoding: .utf8)
        _ = try await IngestPipeline(engine: engine, store: store).ingest(paths: [master.path, log.path], format: nil)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T18:00:00"), correlator: engine.correlator)
    }

    @Test("each notification is POSTed signed, retried after 500, 500 and delivered once, in outbox order")
    func signedRetriedInOrder() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, _) = try await Self.store(in: directory)
        let outbox = try await store.outbox(after: 0, limit: 100)
        try #require(outbox.count >= 3)
        let receiver = WebhookReceiver { $0 < 2 ? .internalServerError : .ok }
        let url = try await receiver.start()
        defer { receiver.stop() }
        let sleeps = SleepRecorder()
        let delivery = WebhookDelivery(
            store: store, targets: [.init(url: url, secret: Self.secret, from: .start)], transport: Self.transport,
            clock: ManualClock(now: try SchedulerFixture.at("2026-11-27T12:00:00")),
            backoff: .init(base: .milliseconds(100), maximum: .seconds(10)), sleep: sleeps.sleep)

        #expect(try await delivery.deliverPending(.init(url: url, secret: Self.secret, from: .start)) == outbox.count)

        let requests = receiver.requests
        #expect(requests.count == outbox.count + 2)
        // The first entry was tried three times with the same delivery id; every entry reached the receiver once with 200.
        #expect(
            requests.prefix(3).map { $0.header("X-FirstContact-Delivery") } == Array(repeating: outbox[0].key, count: 3)
        )
        #expect(
            requests.filter { $0.status == 200 }.compactMap { $0.header("X-FirstContact-Delivery") }
                == outbox.map(\.key))
        for request in requests {
            let timestamp = try #require(request.header("X-FirstContact-Timestamp").flatMap { Int64($0) })
            #expect(timestamp == (try SchedulerFixture.at("2026-11-27T12:00:00")).seconds)
            let signature = try #require(request.header("X-FirstContact-Signature"))
            #expect(WebhookSignature.verify(signature, secret: Self.secret, timestamp: timestamp, body: request.body))
            #expect(
                !WebhookSignature.verify(
                    signature, secret: Array("wrong".utf8), timestamp: timestamp, body: request.body))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(json["kind"] as? String == request.header("X-FirstContact-Event"))
            #expect(json["key"] as? String == request.header("X-FirstContact-Delivery"))
        }
        // Exponential back-off with jitter in [0.5, 1]: ≤ 100 ms, then ≤ 200 ms.
        let delays = sleeps.recorded
        #expect(delays.count == 2)
        #expect(delays.count == 2 && delays[0] >= .milliseconds(50) && delays[0] <= .milliseconds(100))
        #expect(delays.count == 2 && delays[1] >= .milliseconds(100) && delays[1] <= .milliseconds(200))
        #expect(try await store.webhookCursor(url, startingAtEnd: false, at: Timestamp(seconds: 0)) == outbox.last?.seq)
        #expect(try await store.deadLetters(limit: 10).isEmpty)
    }

    @Test("a receiver that always fails gets dead letters (visible to admins only); another URL is served meanwhile")
    func deadLetters() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, engine) = try await Self.store(in: directory)
        let outbox = try await store.outbox(after: 0, limit: 100)
        let failing = WebhookReceiver { _ in .serviceUnavailable }
        let good = WebhookReceiver { _ in .noContent }
        let failingURL = try await failing.start()
        let goodURL = try await good.start()
        defer {
            failing.stop()
            good.stop()
        }
        let delivery = WebhookDelivery(
            store: store,
            targets: [
                .init(url: failingURL, secret: Self.secret, maxAttempts: 3, from: .start),
                .init(url: goodURL, secret: Self.secret, from: .start),
            ],
            transport: Self.transport,
            backoff: .init(base: .milliseconds(1), maximum: .milliseconds(4)), pollInterval: .milliseconds(10))
        // The service itself, as `serve` runs it, until both URLs are through (bounded: 30 s).
        let service = Task { try await delivery.run() }
        for _ in 0..<3000 {
            if try await store.webhookCursor(failingURL, startingAtEnd: false, at: Timestamp(seconds: 0))
                == outbox.last?.seq,
                try await store.webhookCursor(goodURL, startingAtEnd: false, at: Timestamp(seconds: 0))
                    == outbox.last?.seq
            {
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        service.cancel()
        _ = await service.result

        #expect(good.requests.compactMap { $0.header("X-FirstContact-Delivery") } == outbox.map(\.key))
        #expect(failing.requests.count == outbox.count * 3)
        let letters = try await store.deadLetters(limit: 100)
        #expect(letters.map(\.key) == outbox.map(\.key))
        #expect(letters.allSatisfy { $0.url == failingURL && $0.attempts == 3 && $0.lastStatus == 503 })

        let app = buildApplication(
            engine: engine, store: store, clock: ManualClock(now: try SchedulerFixture.at("2026-11-27T12:00:00")),
            host: "127.0.0.1", port: 0, logger: Fixture.quietLogger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/webhooks/dead-letters", method: .get, headers: APITests.admin) {
                response in
                #expect(response.status == .ok)
                let list = try #require(try APITests.json(response) as? [[String: Any]])
                #expect(list.count == outbox.count)
                #expect(list.first?["delivery"] as? String == outbox.first?.key)
                #expect(list.first?["last_status"] as? Int == 503)
                #expect(list.first?["attempts"] as? Int == 3)
            }
            try await client.execute(uri: "/v1/webhooks/dead-letters", method: .get, headers: APITests.supervisor) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/webhooks/dead-letters", method: .get, headers: APITests.agent1001) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test("a connection refused is retried and dead-lettered with no status")
    func connectionRefused() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, _) = try await Self.store(in: directory)
        // A port that was just listening and is closed now.
        let gone = WebhookReceiver { _ in .ok }
        let url = try await gone.start()
        gone.stop()
        try await Task.sleep(for: .milliseconds(200))
        let sleeps = SleepRecorder()
        let target = WebhookDelivery.Target(url: url, secret: Self.secret, maxAttempts: 2, from: .start)
        let delivery = WebhookDelivery(
            store: store, targets: [target], transport: HTTPClientWebhookTransport(timeout: .milliseconds(500)),
            sleep: sleeps.sleep)
        let handled = try await delivery.deliverPending(target)
        let letters = try await store.deadLetters(limit: 100)
        #expect(letters.count == handled)
        #expect(letters.first?.lastStatus == nil)
        #expect(letters.first?.lastError.isEmpty == false)
        #expect(sleeps.recorded.count == handled)  // one wait between the two tries of each entry
    }

    @Test("a restarted delivery resumes from its cursor: new notifications only, nothing sent twice")
    func resumesFromCursor() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, engine) = try await Self.store(in: directory)
        let before = try await store.outbox(after: 0, limit: 100)
        let receiver = WebhookReceiver { _ in .ok }
        let url = try await receiver.start()
        defer { receiver.stop() }
        let target = WebhookDelivery.Target(url: url, secret: Self.secret, from: .start)
        #expect(
            try await WebhookDelivery(store: store, targets: [target], transport: Self.transport).deliverPending(target)
                == before.count)

        // While it is down, a missed call arrives and its callback breaches and escalates: new outbox entries.
        try await Self.missedCallLater(in: directory, store: store, engine: engine)
        let after = try await store.outbox(after: 0, limit: 100)
        try #require(after.count > before.count)

        // A new instance, as after a restart of `serve`, over the same database file.
        let reopened = try SQLiteContactStore(path: directory.appendingPathComponent("s.sqlite").path)
        #expect(
            try await WebhookDelivery(store: reopened, targets: [target], transport: Self.transport).deliverPending(
                target)
                == after.count - before.count)
        let keys = receiver.requests.compactMap { $0.header("X-FirstContact-Delivery") }
        #expect(keys == after.map(\.key))
        #expect(Set(keys).count == keys.count)
    }

    @Test(
        "a webhook first served on a database with history starts at the end of the outbox (from: now, the default); later notifications are delivered, and a restart does not replay the history"
    )
    func newWebhookStartsNow() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (store, engine) = try await Self.store(in: directory)
        let history = try await store.outbox(after: 0, limit: 100)
        try #require(!history.isEmpty)
        let receiver = WebhookReceiver { _ in .ok }
        let url = try await receiver.start()
        defer { receiver.stop() }
        let target = WebhookDelivery.Target(url: url, secret: Self.secret)
        #expect(target.from == .now)
        #expect(
            try await WebhookDelivery(store: store, targets: [target], transport: Self.transport).deliverPending(target)
                == 0)
        #expect(receiver.requests.isEmpty)

        try await Self.missedCallLater(in: directory, store: store, engine: engine)
        let fresh = try await store.outbox(after: history.last?.seq ?? 0, limit: 100)
        try #require(!fresh.isEmpty)
        let reopened = try SQLiteContactStore(path: directory.appendingPathComponent("s.sqlite").path)
        #expect(
            try await WebhookDelivery(store: reopened, targets: [target], transport: Self.transport).deliverPending(
                target)
                == fresh.count)
        #expect(receiver.requests.compactMap { $0.header("X-FirstContact-Delivery") } == fresh.map(\.key))
    }

    @Test("serve's webhooks need their secret in the environment")
    func secretFromEnvironment() throws {
        var configuration = try Fixture.engine().configuration
        configuration.webhooks = [
            Webhook(url: "http://127.0.0.1:9000/hooks/firstcontact", secretEnv: "FC_WEBHOOK_SECRET", maxAttempts: 5)
        ]
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("w.sqlite").path)
        #expect(throws: WebhookConfigurationError.self) {
            _ = try WebhookDelivery.configured(configuration, store: store, environment: [:])
        }
        do {
            _ = try WebhookDelivery.configured(configuration, store: store, environment: ["FC_WEBHOOK_SECRET": ""])
            Issue.record("an empty secret was accepted")
        } catch let error as WebhookConfigurationError {
            #expect(error.message.contains("FC_WEBHOOK_SECRET"))
        }
        let delivery = try #require(
            try WebhookDelivery.configured(configuration, store: store, environment: ["FC_WEBHOOK_SECRET": "x"]))
        #expect(delivery.targets.map(\.maxAttempts) == [5])
        #expect(delivery.targets.first?.secret == Array("x".utf8))
        configuration.webhooks = []
        #expect(try WebhookDelivery.configured(configuration, store: store, environment: [:]) == nil)
    }

    @Test("the signature is hex HMAC-SHA256(secret, timestamp + \".\" + body), as a receiver computes it")
    func signatureVector() {
        // Expected value from Python: hmac.new(b"Jefe", b"1795744800.what do ya want for nothing?", hashlib.sha256).
        let body = Array("what do ya want for nothing?".utf8)
        let signature = WebhookSignature.sign(secret: Array("Jefe".utf8), timestamp: 1_795_744_800, body: body)
        #expect(signature == "sha256=4954f96a2086459ec24c2c45dd5e77b3bd747de3ccd0980fa35d7b0a04d7e075")
        #expect(!WebhookSignature.verify(signature, secret: Array("Jefe".utf8), timestamp: 1_795_744_801, body: body))
    }
}
