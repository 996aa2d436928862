import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A log handler that keeps every line as text (message and metadata), to search afterwards.
struct CapturingLogHandler: LogHandler {
    final class Lines: Sendable {
        private let lines = NIOLockedValueBox<[String]>([])
        func append(_ line: String) { self.lines.withLockedValue { $0.append(line) } }
        var all: [String] { self.lines.withLockedValue { $0 } }
    }

    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
        function: String,
        line: UInt
    ) {
        let merged = self.metadata.merging(metadata ?? [:]) { _, new in new }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        self.lines.append("\(level) \(message) \(fields)")
    }
}

@Suite("Customer numbers in logs")
struct LogMaskingTests {
    @Test(
        "long digit runs are masked like CustomerNumber.masked; short ones stay",
        arguments: [
            ("from 13800002222 at", "from 138****2222 at"),
            ("+8613800002222", "+86*******2222"),
            ("ext 1001 line 21", "ext 1001 line 21"),
            ("96116", "96116"),
            ("a 1234567 b 12345678", "a 1234567 b 123*5678"),
            ("", ""),
            ("张敏 13800002222;13800003333", "张敏 138****2222;138****3333"),
            ("呼叫+8613800002222号", "呼叫+86*******2222号"),
            ("/v1/route?format=text&caller=13912345678", "/v1/route?format=text&caller=139****5678"),
        ])
    func masking(input: String, expected: String) {
        #expect(LogMasking.maskNumbers(input) == expected)
    }

    @Test("serve logs requests, ingests and rejects without a full customer number")
    func serveLogsAreMasked() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        let lines = CapturingLogHandler.Lines()
        let logger = Logger(label: "firstcontact.test") { _ in CapturingLogHandler(lines: lines) }
        let app = buildApplication(
            engine: engine, store: store, clock: ManualClock(now: try SchedulerFixture.at("2026-11-27T10:20:00")),
            host: "127.0.0.1", port: 0,
            logger: logger)
        // A good CDR of 13800003333 and a queue_log line whose bad epoch quotes 13800009999.
        let csv = SchedulerFixture.failedTransfer
        let queueLog = "13800009999x|1795744800.21|hotline|NONE|ENTERQUEUE||13800003333|1\n"
        try await app.test(.live) { client in
            // Real HTTP through URLSession rather than the test client, whose 20 s read timeout is
            // fixed: under a sanitizer an answer can take longer.
            let base = "http://127.0.0.1:\(try #require(client.port))"
            func send(_ path: String, token: String, body: String? = nil) async throws -> (status: Int, body: Data) {
                var request = URLRequest(
                    url: try #require(URL(string: base + path)), timeoutInterval: 20 * Double(TestTime.scale))
                request.httpMethod = body == nil ? "GET" : "POST"
                request.httpBody = body.map { Data($0.utf8) }
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                let (data, response) = try await URLSession.shared.data(for: request)
                return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
            }
            #expect(try await send("/v1/ingest/asterisk-csv", token: "demo-pbx", body: csv).status == 200)
            let rejected = try await send("/v1/ingest/asterisk-queue-log", token: "demo-pbx", body: queueLog)
            let result = try #require(try JSONSerialization.jsonObject(with: rejected.body) as? [String: Any])
            #expect((result["rejects"] as? [Any])?.count == 1)
            #expect(try await send("/v1/contacts?agent=13800002222", token: "demo-admin").status == 200)
        }
        let text = lines.all.joined(separator: "\n")
        #expect(text.contains("http.target=/v1/contacts?agent=138****2222"), "\(text)")
        #expect(text.contains("rejected"))
        #expect(text.contains("138****9999"))
        #expect(text.contains("ingest.new=2"))
        for number in ["13800002222", "13800003333", "13800009999"] {
            #expect(!text.contains(number), "\(number) appears in the log")
        }
        #expect(!text.contains("demo-pbx") && !text.contains("demo-admin"), "a token appears in the log")
    }
}
