import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactPostgres
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Two instances' services on one PostgreSQL database (two stores, two holders): work that one
/// instance of several does — a webhook URL, a followed file — is done by the holder of its
/// lease, and taken over when the holder dies. Runs where FC_TEST_POSTGRES_URL names a server.
@Suite(
    "Leases between instances", .enabled(if: PostgresSampleDayTests.server != nil), .serialized,
    .timeLimit(.scaled(minutes: 8)))
struct MultiInstanceServiceTests {
    /// Leases short enough that a takeover takes seconds, long enough that a loaded test run
    /// (where a task may wait seconds for a thread) renews them in time.
    static let ttl = Duration.seconds(12)
    static func terms(_ holder: String, ttl: Duration = Self.ttl) -> LeaseTerms {
        LeaseTerms(holder: holder, ttl: ttl, renewEvery: .milliseconds(500))
    }

    @Test(
        "each notification reaches a webhook once from two instances; a holder that died is taken over after its lease, from the cursor, with the same delivery ids"
    )
    func webhookLease() async throws {
        try await Self.withDatabase { stores in
            let receiver = WebhookReceiver { _ in .noContent }
            let url = try await receiver.start()
            defer { receiver.stop() }
            let target = WebhookDelivery.Target(url: url, secret: Array("s3cret".utf8), from: .start)
            let first = (0..<20).map { Self.notice("first-\($0)") }
            try await stores[0].announce(first.map { Announcement($0, customerKey: nil) })

            // Two instances side by side send each entry once only while the holder's lease outlives
            // its slowest try: a try runs without renewing, and one that outlives the lease hands the
            // entry to the other instance. A whole sanitizer run (one try took over 10 s there and
            // entries came two and three times) stretches both by the test time scale.
            let delivery = { (index: Int, holder: String, ttl: Duration) in
                WebhookDelivery(
                    store: stores[index], targets: [target], transport: WebhookTests.transport,
                    pollInterval: .milliseconds(100), logger: Fixture.quietLogger, lease: Self.terms(holder, ttl: ttl))
            }
            let slowestTry = Duration.seconds(10 * TestTime.scale)
            let services = ["a", "b"].enumerated().map { index, holder in
                delivery(index, holder, slowestTry + Self.ttl)
            }
            let running = services.map { service in Task { try await service.run() } }
            try await Self.waitUntil { receiver.requests.count >= first.count }
            // Received is not yet acknowledged: the cursor moves once the receiver has answered, and
            // instances stopped before that send the last one again (at least once, by design; under
            // ThreadSanitizer a fixed 300 ms was not enough and first-19 came twice).
            let lastFirst = try await stores[0].outbox(after: 0, limit: 1_000).last?.seq ?? 0
            try await Self.waitUntil {
                try await stores[0].webhookCursor(url, startingAtEnd: false, at: Timestamp(seconds: 0)) >= lastFirst
            }
            #expect(receiver.requests.compactMap { $0.header("X-FirstContact-Delivery") } == first.map(\.key))
            for task in running { task.cancel() }
            for task in running { _ = await task.result }

            // An instance died holding the lease (renewed just before): nobody delivers until it expires.
            #expect(try await stores[0].acquireLease("webhook \(url)", holder: "dead", ttl: Self.ttl))
            let died = ContinuousClock.now
            let second = (0..<10).map { Self.notice("second-\($0)") }
            try await stores[0].announce(second.map { Announcement($0, customerKey: nil) })
            // Alone, the survivor may keep the short lease: there is nobody to hand an entry to.
            let survivor = Task { try await delivery(1, "b", Self.ttl).run() }
            try await Task.sleep(for: .milliseconds(1_000))
            // (A loaded test run may wake up later than the lease lasts: then only the check below holds.)
            if died.duration(to: .now) < Self.ttl - .seconds(1) {
                #expect(receiver.requests.count == first.count, "the lease still holds")
            }
            try await Self.waitUntil { receiver.requests.count >= first.count + second.count }
            #expect(died.duration(to: .now) >= Self.ttl)
            try await Task.sleep(for: .milliseconds(300))
            survivor.cancel()
            _ = await survivor.result
            #expect(
                receiver.requests.compactMap { $0.header("X-FirstContact-Delivery") } == (first + second).map(\.key))
        }
    }

    @Test(
        "a followed file is read by one instance; when its holder dies another takes it over after the lease and goes on from the checkpoint"
    )
    func followLease() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8
        ).split(separator: "\n").prefix(300).map { $0 + "\n" }
        let path = directory.appendingPathComponent("Master.csv")
        try lines.prefix(200).joined().write(to: path, atomically: false, encoding: .utf8)
        let engine = try Fixture.engine()
        let followed = [FollowedFile(path: path.path, format: .asteriskCSV)]

        try await Self.withDatabase { stores in
            let statuses = [FollowerStatus(), FollowerStatus()]
            let services = (0..<2).map { index in
                FollowService(
                    files: followed, engine: engine, store: stores[index],
                    scheduler: ObligationScheduler(
                        engine: engine, store: stores[index], clock: ManualClock(now: Timestamp(seconds: 0))),
                    status: statuses[index], logger: Fixture.quietLogger, interval: .milliseconds(100),
                    lease: Self.terms(index == 0 ? "a" : "b"))
            }
            let read = { (index: Int) in statuses[index].snapshot().first?.linesRead ?? 0 }
            var running = services.map { service in Task { try await service.run() } }
            try await Self.waitUntil { read(0) + read(1) >= 200 }
            try await Task.sleep(for: .milliseconds(500))
            #expect(read(0) + read(1) == 200, "one instance read the file")
            #expect(read(0) == 0 || read(1) == 0)
            let holder = read(0) > 0 ? 0 : 1
            let other = 1 - holder
            let before = try await stores[other].totals().records
            #expect(before > 0)

            // The holder dies with its lease renewed just before; more lines arrive.
            running[holder].cancel()
            _ = await running[holder].result
            // A stopped follower gives its lease up at once; taken back here, the holder "died"
            // with it freshly renewed. When the other instance was quicker (a loaded run), the
            // handover was a graceful one and only what follows the timing is checked.
            let reclaimed = try await stores[holder].acquireLease(
                "follow \(path.path)", holder: holder == 0 ? "a" : "b", ttl: Self.ttl)
            let died = ContinuousClock.now
            let handle = try FileHandle(forWritingTo: path)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(lines.dropFirst(200).joined().utf8))
            try handle.close()
            try await Task.sleep(for: .milliseconds(1_000))
            if reclaimed, died.duration(to: .now) < Self.ttl - .seconds(1) {
                #expect(read(other) == 0, "the lease still holds")
            }
            try await Self.waitUntil { read(other) >= 100 }
            if reclaimed { #expect(died.duration(to: .now) >= Self.ttl, "taken over only once the lease expired") }
            try await Task.sleep(for: .milliseconds(300))
            #expect(read(other) == 100, "read on from the checkpoint, not from the start")
            #expect(try await stores[other].totals().records > before)
            running[other].cancel()
            _ = await running[other].result
            running = []
        }
    }

    @Test(
        "a notification committed by one instance wakes another's event feed at once (LISTEN/NOTIFY), with polling a minute apart"
    )
    func eventsOfEveryInstance() async throws {
        try await Self.withDatabase { stores in
            let feed = OutboxFeed(
                store: stores[1], interval: .seconds(60), listeningInterval: .seconds(60), logger: Fixture.quietLogger)
            let running = Task { try await feed.run() }
            try await Self.waitUntil { feed.head != nil && feed.isListening }
            for round in 0..<3 {
                let head = try #require(feed.head)
                let written = ContinuousClock.now
                try await stores[0].announce([Announcement(Self.notice("ring-\(round)"), customerKey: nil)])
                try await Self.waitUntil { try await !feed.entries(after: head, limit: 10).isEmpty }
                let waited = written.duration(to: .now)
                // Well under a second on an idle machine (scripts/multi-instance-e2e.sh); the bound
                // leaves room for a loaded test run, and is far below the polling interval.
                #expect(waited < .seconds(5), "round \(round) took \(waited)")
                #expect(try await feed.entries(after: head, limit: 10).map(\.key) == ["ring-\(round)"])
            }
            running.cancel()
            _ = await running.result
        }
    }

    @Test(
        "signed in on one instance, 'my work' loads on another; its CSRF token is checked there, and signing out there ends the session"
    )
    func webSignInThroughAnyInstance() async throws {
        try await Self.withDatabase { stores in
            let engine = try Fixture.engine()
            func instance(_ store: PostgresContactStore) async throws -> some ApplicationProtocol {
                let sessions = try await WebSessions.configured(store: store, tokens: engine.configuration.tokens)
                return buildApplication(
                    engine: engine, store: store, clock: ManualClock(now: Timestamp(seconds: 1_795_745_520)),
                    host: "127.0.0.1", port: 0, sessions: sessions, logger: Fixture.quietLogger)
            }
            let (cookie, csrf) = try await instance(stores[0]).test(.router) { client in
                let login = try await client.execute(uri: "/ui/login", method: .get)
                let nonce = try #require(WebTests.field("nonce", in: WebTests.body(login)))
                let response = try await client.execute(
                    uri: "/ui/login", method: .post,
                    headers: [
                        .cookie: "\(WebSessions.loginCookie)=\(nonce)",
                        .contentType: "application/x-www-form-urlencoded",
                    ],
                    body: ByteBuffer(string: "nonce=\(nonce)&token=demo-agent-1001"))
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/my")
                let session = try #require(WebTests.cookieValue(WebSessions.cookie, in: response))
                let cookie: HTTPFields = [.cookie: "\(WebSessions.cookie)=\(session)"]
                let page = try await client.execute(uri: "/ui/my", method: .get, headers: cookie)
                return (cookie, try #require(WebTests.field("csrf", in: WebTests.body(page))))
            }
            try await instance(stores[1]).test(.router) { client in
                let page = try await client.execute(uri: "/ui/my", method: .get, headers: cookie)
                #expect(page.status == .ok)
                #expect(WebTests.field("csrf", in: WebTests.body(page)) == csrf)
                let (headers, forged) = WebTests.form(cookie, "csrf=\(String(csrf.reversed()))")
                let refused = try await client.execute(uri: "/ui/logout", method: .post, headers: headers, body: forged)
                #expect(refused.status == .forbidden)
                let (_, body) = WebTests.form(cookie, "csrf=\(csrf)")
                let out = try await client.execute(uri: "/ui/logout", method: .post, headers: headers, body: body)
                #expect(out.status == .seeOther)
                let after = try await client.execute(uri: "/ui/my", method: .get, headers: cookie)
                #expect(after.status == .seeOther || after.status == .found)
                #expect(after.headers[.location] == "/ui/login")
            }
        }
    }

    @Test(
        "a signed session expires with its lifetime, and ends when its token leaves the configuration or gets a new secret; a forged one is nobody's"
    )
    func signedSessionRules() throws {
        let tokens = try Fixture.engine().configuration.tokens
        let key = Array("a key every instance shares, 32b".utf8)
        let sessions = WebSessions(signingKey: key, tokens: tokens)
        let token = try #require(tokens.first { $0.role == .agent })
        let principal = Principal(
            name: token.name, role: token.role, agent: token.agent, departments: Set(token.departments))
        let now: Int64 = 1_795_745_520
        let session = sessions.start(principal, now: now)
        #expect(sessions.session(session.id, now: now + 60)?.principal == principal)
        #expect(sessions.session(session.id, now: now + 60)?.csrf == session.csrf)
        #expect(
            WebSessions(signingKey: key, tokens: tokens).session(session.id, now: now)?.principal == principal,
            "another instance")
        #expect(sessions.session(session.id, now: now + WebSessions.lifetime) == nil, "expired")
        #expect(WebSessions(signingKey: Array("another key".utf8), tokens: tokens).session(session.id, now: now) == nil)
        let without = tokens.filter { $0.name != token.name }
        #expect(WebSessions(signingKey: key, tokens: without).session(session.id, now: now) == nil, "token removed")
        var rotated = tokens
        for i in rotated.indices where rotated[i].name == token.name { rotated[i].hash = "sha256:" + SHA256.hex("new") }
        #expect(WebSessions(signingKey: key, tokens: rotated).session(session.id, now: now) == nil, "new secret")
        let parts = session.id.split(separator: ".").map(String.init)
        let admin = try #require(tokens.first { $0.role == .admin })
        let forged = [parts[0], parts[1], Data(admin.name.utf8).base64EncodedString(), parts[3], parts[4]]
            .joined(separator: ".")
        #expect(sessions.session(forged, now: now) == nil)
        sessions.end(session.id, now: now + 60)
        #expect(sessions.session(session.id, now: now + 61) == nil, "signed out")
    }

    static func notice(_ key: String) -> Notice {
        Notice(
            key: key, kind: .routed, at: Timestamp(seconds: 1_795_745_520), contact: ContactID("c-\(key)"),
            detail: "notice \(key)")
    }

    /// Polls `condition` every 20 ms for at most 90 s (times `TestTime.scale`).
    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        let limit = Duration.seconds(90 * TestTime.scale)
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("condition not met within \(limit)")
    }

    /// Two stores on one fresh database of the test server, as two instances open it.
    static func withDatabase(_ body: ([PostgresContactStore]) async throws -> Void) async throws {
        let server = try #require(PostgresSampleDayTests.server)
        let url = try await PostgresDatabases.createUnique("fc_lease_", on: server)
        let name = url.database
        let stores = [PostgresContactStore(url: url, live: true), PostgresContactStore(url: url, live: true)]
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
