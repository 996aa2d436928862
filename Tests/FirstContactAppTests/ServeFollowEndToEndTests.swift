import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `firstcontact serve` binary following a Master.csv and a queue_log while a simulated
/// day is appended to them in chunks cut mid-line, with a rename rotation of Master.csv, a
/// logrotate-style copy-truncate of queue_log, FreeSWITCH CDRs and IVR events
/// posted over HTTP, and a SIGKILL while the files keep growing. The end state must equal a
/// one-shot batch ingest of the same files and bodies: nothing lost, nothing doubled.
@Suite(
    "serve follows files end to end", .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.skipped),
    .timeLimit(.scaled(minutes: 10)))
struct ServeFollowEndToEndTests {
    /// A running `serve` and where it listens.
    final class Server {
        let process: Process
        let base: String

        /// Starts `firstcontact` with `arguments`, or `executable` (a tracer running it) when given;
        /// `environment` is added to (and overrides) the test process's own.
        init(executable given: URL? = nil, arguments: [String], environment: [String: String] = [:]) async throws {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("firstcontact")
            let candidates = [given ?? binary, Fixture.root.appendingPathComponent(".build/debug/firstcontact")]
            guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) })
            else {
                throw FixtureError("the firstcontact binary was not built next to the tests")
            }
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = Fixture.environment(adding: environment)
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            self.process = process
            // The service prints where it listens once the socket is bound (port 0: a free one).
            var output = Data()
            var base: String?
            while base == nil {
                let chunk = pipe.fileHandleForReading.availableData
                guard !chunk.isEmpty else { break }
                output.append(chunk)
                let text = String(decoding: output, as: UTF8.self)
                if let match = text.firstMatch(of: #/serving (http://[0-9.]+:[0-9]+)/#) {
                    base = String(match.output.1)
                }
            }
            guard let base else {
                process.terminate()
                throw FixtureError("serve did not say where it listens: \(String(decoding: output, as: UTF8.self))")
            }
            self.base = base
            // Keep draining stdout so that the service never blocks on a full pipe.
            pipe.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
        }

        func kill() {
            Foundation.kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }

        /// Stops the server; once stopped, does nothing (its pid may belong to another process by then).
        func stop() {
            guard self.process.isRunning else { return }
            self.process.terminate()
            self.process.waitUntilExit()
        }

        func request(_ path: String, method: String = "GET", token: String, basic: Bool = false, body: Data? = nil)
            async throws -> (Int, String)
        {
            var request = URLRequest(url: try #require(URL(string: self.base + path)))
            request.httpMethod = method
            request.httpBody = body
            request.setValue(
                basic ? "Basic " + Data("freeswitch:\(token)".utf8).base64EncodedString() : "Bearer \(token)",
                forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        func json(_ path: String) async throws -> [[String: Any]] {
            let (status, text) = try await self.request(path, token: "demo-admin")
            #expect(status == 200, "\(path): \(text)")
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
            if let array = object as? [[String: Any]] { return array }
            for value in (object as? [String: Any] ?? [:]).values {
                if let array = value as? [[String: Any]] { return array }
            }
            return []
        }
    }

    /// Appends `text` (any bytes, a partial line included) to the file at `path`, creating it.
    static func append(_ text: Substring, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Waits until the stored checkpoints say both files were read up to their last line feed
    /// (a partial line after it waits for its end).
    static func waitUntilCaughtUp(_ store: SQLiteContactStore, _ paths: [String]) async throws {
        for _ in 0..<1200 {
            var done = true
            for path in paths {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
                let complete = Int64(bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 - bytes.startIndex + 1 } ?? 0)
                let offset = try await store.followCheckpoint(path: path)?.offset ?? -1
                if offset != complete { done = false }
            }
            if done { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("the followers did not catch up within two minutes")
    }

    @Test(
        "SIGKILL while the files grow, rename rotation, copy-truncate and partial lines: the followed result equals one batch ingest"
    )
    func killedWhileFollowing() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logs = directory.appendingPathComponent("log/asterisk")
        let cdr = logs.appendingPathComponent("cdr-csv/Master.csv").path
        let queueLog = logs.appendingPathComponent("queue_log").path
        let config = directory.appendingPathComponent("fc.yaml")
        // The sample configuration, following the temporary files; the directories do not exist yet.
        let sample = try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
        try sample
            .replacingOccurrences(of: "\"/var/log/asterisk/cdr-csv/Master.csv\"", with: "\"\(cdr)\"")
            .replacingOccurrences(of: "\"/var/log/asterisk/queue_log\"", with: "\"\(queueLog)\"")
            .write(to: config, atomically: true, encoding: .utf8)
        #expect(try String(contentsOf: config, encoding: .utf8).contains(cdr))

        let day = directory.appendingPathComponent("day")
        let simulate = try await Fixture.run([
            "simulate", "--config", config.path, "--date", "2026-11-27", "--calls", "300", "--seed", "7", "--out",
            day.path,
        ])
        #expect(simulate.status == 0, "\(simulate.output)")
        let cdrText = try String(contentsOf: day.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8)
        let queueText = try String(contentsOf: day.appendingPathComponent("asterisk/queue_log"), encoding: .utf8)
        // What the IVR posted during the day, sent in slices as the dialplan would (PBX-neutral, by HTTP).
        let ivrFile = day.appendingPathComponent("ivr/events-0001.xml")
        let ivrEvents = try String(contentsOf: ivrFile, encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("<ivr-event ") }
        #expect(ivrEvents.count > 100)
        var ivrPosted = 0

        let db = directory.appendingPathComponent("serve.sqlite").path
        let serve = ["serve", "--config", config.path, "--db", db, "--port", "0"]
        var server = try await Server(arguments: serve)
        let observer = try SQLiteContactStore(path: db)

        // Cut both files into 12 chunks at byte positions that fall mid-line, except where
        // Master.csv is rotated: Asterisk renames it between two rows, never inside one.
        let chunks = 12
        let rotation = 4
        let copyTruncate = 7
        func cuts(_ text: String, lineBoundaryAfter boundary: Int? = nil) -> [String.Index] {
            let bytes = text.utf8
            return (0...chunks).map { i in
                var position = bytes.index(bytes.startIndex, offsetBy: bytes.count * i / chunks)
                if i == boundary.map({ $0 + 1 }) {
                    position =
                        bytes[position...].firstIndex(of: UInt8(ascii: "\n")).map { bytes.index(after: $0) }
                        ?? bytes.endIndex
                }
                // Never inside a UTF-8 sequence (names are Chinese): the chunk is written as text.
                while position < bytes.endIndex, bytes[position] & 0xC0 == 0x80 {
                    position = bytes.index(after: position)
                }
                return position
            }
        }
        let cdrCuts = cuts(cdrText, lineBoundaryAfter: rotation)
        let queueCuts = cuts(queueText, lineBoundaryAfter: copyTruncate)
        #expect(cdrText[cdrCuts[0]..<cdrCuts[1]].last != "\n", "the chunks cut lines in two")

        try FileManager.default.createDirectory(
            atPath: (cdr as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let xmlDirectory = Fixture.corpus.appendingPathComponent("freeswitch-xml-cdr")
        let xmlFiles = try FileManager.default.contentsOfDirectory(atPath: xmlDirectory.path).filter {
            $0.hasSuffix(".xml")
        }.sorted()
        for index in 0..<chunks {
            try Self.append(cdrText[cdrCuts[index]..<cdrCuts[index + 1]], to: cdr)
            try Self.append(queueText[queueCuts[index]..<queueCuts[index + 1]], to: queueLog)
            if index == rotation - 2 {
                // The follower has the file open before it is rotated (a file created and rotated
                // before the service ever saw it is not followed: ingest such files in batch);
                // the next two chunks are appended at once, so the rename usually lands before
                // they are read and the old file is finished from its descriptor.
                try await Self.waitUntilCaughtUp(observer, [cdr, queueLog])
            }
            if index == copyTruncate {
                // logrotate copytruncate: queue_log copied to queue_log.1, then emptied in place.
                try FileManager.default.copyItem(atPath: queueLog, toPath: queueLog + ".1")
                let handle = try #require(FileHandle(forWritingAtPath: queueLog))
                try handle.truncate(atOffset: 0)
                try handle.close()
            }
            if index == rotation {
                // logger rotate: Master.csv renamed, a new one started with the next rows.
                try FileManager.default.moveItem(atPath: cdr, toPath: cdr + ".1")
            }
            if index < xmlFiles.count {
                let body = try Data(contentsOf: xmlDirectory.appendingPathComponent(xmlFiles[index]))
                let (status, answer) = try await server.request(
                    "/v1/ingest/freeswitch-xml-cdr", method: "POST", token: "demo-pbx", basic: true, body: body)
                #expect(status == 200, "\(answer)")
            }
            if index == 6 {
                // Before the kill: contacts, obligations and events are visible through the API.
                try await Self.waitUntilCaughtUp(observer, [cdr, queueLog])
                #expect(try await server.json("/v1/contacts").count > 10)
                #expect(try await server.json("/v1/obligations").count > 0)
                let (status, events) = try await server.request("/v1/events?follow=false", token: "demo-admin")
                #expect(status == 200)
                #expect(events.contains("event: "), "\(events.prefix(500))")
                let (_, metrics) = try await server.request("/metrics", token: "demo-admin")
                #expect(metrics.contains("firstcontact_follow_lag_bytes{path=\"\(cdr)\"}"), "\(metrics)")
            }
            if index == 8 {
                // Killed mid-stream: the chunk just appended may be read in part, or not at all.
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
                server.kill()
            }
            if index == 10 {
                server = try await Server(arguments: serve)
            }
            if index != 8, index != 9 {  // the service is down from the kill (end of 8) to the restart (10)
                let upTo = index == chunks - 1 ? ivrEvents.count : ivrEvents.count * (index + 1) / chunks
                let body =
                    "<ivr-events xmlns=\"urn:firstcontact:ivr-events:1\">\n"
                    + ivrEvents[ivrPosted..<upTo].joined(separator: "\n") + "\n</ivr-events>\n"
                let (status, answer) = try await server.request(
                    "/v1/ingest/ivr-events", method: "POST", token: "demo-pbx", body: Data(body.utf8))
                #expect(status == 200, "\(answer)")
                ivrPosted = upTo
            }
        }
        try await Self.waitUntilCaughtUp(observer, [cdr, queueLog])
        server.stop()
        #expect(server.process.terminationStatus == 0, "SIGTERM stops serve gracefully")
        #expect(
            try await observer.followCheckpoint(path: cdr)?.generation == 2, "the rotated Master.csv and the new one")
        #expect(
            try await observer.followCheckpoint(path: queueLog)?.generation == 2,
            "queue_log before and after copy-truncate")

        // The reference: one batch ingest of the same files and CDR documents into a fresh database.
        let reference = directory.appendingPathComponent("batch.sqlite").path
        let ingest = try Fixture.runBlocking(
            [
                "ingest", "--quiet", "--config", config.path, "--db", reference, cdr + ".1", cdr, queueLog + ".1",
                queueLog, ivrFile.path,
            ]
                + xmlFiles.prefix(chunks).map { xmlDirectory.appendingPathComponent($0).path })
        #expect(ingest.status == 0, "\(ingest.output)")
        var exports: [String] = []
        for database in [db, reference] {
            let tick = try Fixture.runBlocking([
                "tick", "--config", config.path, "--db", database, "--now", "2030-01-01T00:00:00Z",
            ])
            #expect(tick.status == 0, "\(tick.output)")
            let export = try Fixture.runBlocking(["export", "--config", config.path, "--db", database, "--json"])
            #expect(export.status == 0)
            exports.append(export.output)
        }
        #expect(exports[0] == exports[1])
        let totals = (try await observer.totals(), try await SQLiteContactStore(path: reference).totals())
        #expect(totals.0.records == totals.1.records)
        #expect(totals.0.rejects == 0)
        #expect(ivrPosted == ivrEvents.count)
        #expect(totals.0.contacts > 100)
    }
}
