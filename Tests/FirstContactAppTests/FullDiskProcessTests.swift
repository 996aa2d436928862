import FirstContactApp
import FirstContactCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Small file systems that really fill, for the tests of a full disk.
enum Tmpfs {
    /// Root, and `mount -t tmpfs` works here (a container may forbid it): tried once on a scratch directory.
    static let canMount: Bool = {
        guard getuid() == 0, let scratch = try? Fixture.temporaryDirectory() else { return false }
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard (try? Self.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", scratch.path])) == 0 else {
            return false
        }
        return (try? Self.run("/usr/bin/umount", [scratch.path])) == 0
    }()

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// The real `firstcontact serve` with its database on a small tmpfs: a disk that really fills
/// (the WAL cannot grow, `SQLITE_FULL` and `ENOSPC` as in production), then really grows.
@Suite(
    "serve on a full disk", .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.skipped),
    .enabled(if: Tmpfs.canMount, "needs root and a working mount: a small tmpfs is the full disk"),
    .timeLimit(.scaled(minutes: 10)))
struct FullDiskProcessTests {
    struct Answer {
        var status: Int
        var retryAfter: String?
        var body: String
    }

    static func post(_ base: String, _ path: String, token: String, body: String) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: base + path)))
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return Answer(
            status: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"),
            body: String(decoding: data, as: UTF8.self))
    }

    /// The value of the series `series` (name and labels as exposed) in a `/metrics` text.
    static func metric(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
            Double($0.dropFirst(series.count + 1))
        }
    }

    /// Polls `condition` every half second for at most `seconds`.
    static func eventually(within seconds: Int, _ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 2) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(500))
        }
        return try await condition()
    }

    @Test(
        "filled over HTTP, serve answers 507, stays up through the scheduler's failing ticks and says it once a minute; grown, it takes records again, the follower catches up, and every 2xx record is stored"
    )
    func tmpfsFillsAndGrows() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let disk = directory.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        try #require(try Tmpfs.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", disk.path]) == 0)
        defer { _ = try? Tmpfs.run("/usr/bin/umount", ["-l", disk.path]) }
        let db = disk.appendingPathComponent("fc.sqlite").path

        // The sample configuration, following a queue_log outside the small disk.
        let queueLog = directory.appendingPathComponent("queue_log").path
        let config = directory.appendingPathComponent("fc.yaml")
        try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
            .replacingOccurrences(
                of: "\"/var/log/asterisk/cdr-csv/Master.csv\"",
                with: "\"\(directory.appendingPathComponent("Master.csv").path)\""
            )
            .replacingOccurrences(of: "\"/var/log/asterisk/queue_log\"", with: "\"\(queueLog)\"")
            .write(to: config, atomically: true, encoding: .utf8)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("firstcontact")
        let candidates = [binary, Fixture.root.appendingPathComponent(".build/debug/firstcontact")]
        let executable = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
        // The log (standard error) kept outside the small disk, to count what it says.
        let log = directory.appendingPathComponent("serve.log").path
        func serve(logging to: String) async throws -> ServeFollowEndToEndTests.Server {
            try await ServeFollowEndToEndTests.Server(
                executable: URL(fileURLWithPath: "/bin/bash"),
                arguments: [
                    "-c", "exec \"$0\" \"$@\" 2>'\(to)'", executable.path, "serve", "--config", config.path, "--db",
                    db, "--port", "0",
                ])
        }
        var server = try await serve(logging: log)
        defer { server.stop() }

        let day = Fixture.sampleDay.appendingPathComponent("asterisk")
        let lines = try String(contentsOf: day.appendingPathComponent("Master.csv"), encoding: .utf8)
            .split(separator: "\n").map { String($0) + "\n" }
        var next = 0
        func take(_ count: Int) -> String {
            defer { next += count }
            return lines[next..<min(next + count, lines.count)].joined()
        }
        var acknowledged: [String] = []
        var refused: [String] = []

        // Fill: five lines a post until the disk is full, then a few more posts, all refused.
        while refused.isEmpty, next < lines.count {
            let body = take(5)
            let answer = try await Self.post(server.base, "/v1/ingest/asterisk-csv", token: "demo-pbx", body: body)
            if answer.status == 507 {
                refused.append(body)
                #expect(answer.retryAfter == "60")
                let json = try #require(
                    try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
                let error = try #require(json["error"] as? [String: Any])
                #expect(error["database"] as? String == db)
                #expect((error["free_bytes"] as? Int).map { $0 >= 0 } == true, "\(answer.body)")
            } else {
                #expect(answer.status == 200, "\(answer.body)")
                acknowledged.append(body)
            }
        }
        try #require(!refused.isEmpty, "6 MB never filled")
        #expect(acknowledged.count > 3)
        // More posts on the full disk: refused, unless a checkpoint has let the next transaction
        // reuse frames of the write-ahead log (serve checkpoints past 1,000 pages), when the
        // records fit and are stored (checked with every other 2xx at the end). Never a 500.
        var refusedAfter = 0
        for _ in 0..<5 {
            let body = take(5)
            let answer = try await Self.post(server.base, "/v1/ingest/asterisk-csv", token: "demo-pbx", body: body)
            #expect(answer.status == 507 || answer.status == 200, "\(answer.body)")
            if answer.status == 200 {
                acknowledged.append(body)
            } else {
                refused.append(body)
                refusedAfter += 1
            }
        }
        #expect(refusedAfter > 0, "the full disk refused nothing more")
        // The followed file grows while the disk is full: its follower fails and backs off.
        let queueLines = try String(contentsOf: day.appendingPathComponent("queue_log"), encoding: .utf8)
            .split(separator: "\n").prefix(300).map { $0 + "\n" }.joined()
        try queueLines.write(toFile: queueLog, atomically: false, encoding: .utf8)

        var (status, health) = try await server.request("/healthz", token: "demo-admin")
        #expect(status == 200)
        #expect(health.hasPrefix("degraded: storage full since "), "\(health)")
        let (_, metrics) = try await server.request("/metrics", token: "demo-admin")
        #expect(Self.metric(metrics, "firstcontact_storage_full") == 1, "\(metrics)")
        #expect(Self.metric(metrics, "firstcontact_storage_free_bytes") != nil, "\(metrics)")

        // The scheduler's own loop ticks on the full disk (within its minute); serve stays up. A tick
        // that writes only the clock may still fit in the WAL's free frames and succeed, so failing
        // is not required: waiting a whole tick interval with serve alive is.
        let schedulerFailed = try await Self.eventually(within: 75) {
            try await server.request("/healthz", token: "demo-admin").1.contains("scheduler failing")
        }
        #expect(server.process.isRunning, "serve exited on a full disk (scheduler failing seen: \(schedulerFailed))")
        #expect(
            try await Self.eventually(within: 10) {
                let text = try await server.request("/metrics", token: "demo-admin").1
                return Self.metric(text, "firstcontact_follow_failing{path=\"\(queueLog)\"}") == 1
            }, "the follower never tried the full disk")
        #expect(server.process.isRunning, "serve exited on a full disk")

        // Restarted on the full disk, serve comes up (writing its pid into the lock file may not
        // fit; the lock is the claim, the pid only names the holder) and answers 507.
        server.stop()
        // As on a first start there: no lock file yet, so even its pid needs a block, and not
        // one is left (a file takes whatever serve's failed writes had freed).
        try FileManager.default.removeItem(atPath: db + ".lock")
        let filler = disk.appendingPathComponent("filler").path
        #expect(try Tmpfs.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=4096"]) != 0, "dd stops at a full disk")
        let restartLog = directory.appendingPathComponent("serve-restarted.log").path
        server = try await serve(logging: restartLog)
        let restartBody = take(5)
        let onFullDisk = try await Self.post(
            server.base, "/v1/ingest/asterisk-csv", token: "demo-pbx", body: restartBody)
        #expect(onFullDisk.status == 507 || onFullDisk.status == 200, "\(onFullDisk.body)")
        if onFullDisk.status == 200 { acknowledged.append(restartBody) } else { refused.append(restartBody) }

        // The disk grows: no restart.
        try #require(try Tmpfs.run("/usr/bin/mount", ["-o", "remount,size=64m", disk.path]) == 0)
        for body in refused + [take(5), take(5)] {
            let answer = try await Self.post(server.base, "/v1/ingest/asterisk-csv", token: "demo-pbx", body: body)
            #expect(answer.status == 200, "\(answer.body)")
            acknowledged.append(body)
        }
        (status, health) = try await server.request("/healthz", token: "demo-admin")
        #expect(!health.contains("storage full"), "\(health)")
        #expect(
            try await Self.eventually(within: 90) {
                let text = try await server.request("/metrics", token: "demo-admin").1
                return Self.metric(text, "firstcontact_storage_full") == 0
                    && Self.metric(text, "firstcontact_follow_failing{path=\"\(queueLog)\"}") == 0
                    && Self.metric(text, "firstcontact_follow_lag_bytes{path=\"\(queueLog)\"}") == 0
                    && Self.metric(text, "firstcontact_scheduler_failing") == 0
            }, "the follower and the scheduler did not resume")

        // Every acknowledged line is stored: posted again, none of its records is new.
        let again = try await Self.post(
            server.base, "/v1/ingest/asterisk-csv", token: "demo-pbx", body: acknowledged.joined())
        #expect(again.status == 200, "\(again.body)")
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(again.body.utf8)) as? [String: Any])
        #expect(counts["new"] as? Int == 0, "\(again.body)")
        #expect(counts["records"] as? Int == acknowledged.joined().split(separator: "\n").count)
        #expect(server.process.isRunning)

        // Said at start (6 MB is below the default storage.min_free), and the full disk at most
        // once a minute however many requests and retries met it.
        let said = try String(contentsOfFile: log, encoding: .utf8)
        #expect(said.contains("storage low: "), "\(said.suffix(2000))")
        let reports = said.split(separator: "\n").filter { $0.contains("storage full: writes to the database fail") }
        #expect(reports.count >= 1 && reports.count <= 3, "\(reports)")
        #expect(reports.count < refused.count)
    }
}
