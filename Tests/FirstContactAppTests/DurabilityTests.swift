import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real `firstcontact serve` under `strace`: what the kernel was asked to do, in order, decides
/// whether a 2xx was given after the write-ahead log holding its record reached the disk.
@Suite(
    "acknowledged means synced", .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.skipped),
    .timeLimit(.scaled(minutes: 10)))
struct DurabilityTests {
    /// One traced system call: which file or socket it touched and what it was.
    struct Call {
        enum Kind { case walWrite, walSync, okResponse, other }
        let kind: Kind
    }

    /// Reads `strace -f -y` output (one call a line, `<unfinished ...>` lines counted where they
    /// start, their `resumed` halves skipped) into the calls that matter here.
    static func calls(_ trace: String) -> [Call] {
        trace.split(separator: "\n").compactMap { line in
            if line.contains("resumed>") { return nil }
            guard let name = line.firstMatch(of: #/^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\(/#)?.output.1 else { return nil }
            let fileIsWAL = line.contains("-wal>")
            switch name {
            case "fsync", "fdatasync": return Call(kind: fileIsWAL ? .walSync : .other)
            case "pwrite64", "write", "writev", "pwritev", "pwritev2":
                if fileIsWAL { return Call(kind: .walWrite) }
                if line.contains("\"HTTP/1.1 2") { return Call(kind: .okResponse) }
                return Call(kind: .other)
            case "sendto", "sendmsg":
                return Call(kind: line.contains("\"HTTP/1.1 2") ? .okResponse : .other)
            default: return Call(kind: .other)
            }
        }
    }

    @Test("every 2xx of sequential single-line posts is written to the socket after a sync of the WAL written for it")
    func everyAcknowledgementFollowsASync() async throws {
        let strace = "/usr/bin/strace"
        try #require(FileManager.default.isExecutableFile(atPath: strace), "install strace (apt-get install strace)")
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "firstcontact")
        let candidates = [binary, Fixture.root.appendingPathComponent(".build/debug/firstcontact")]
        let executable = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let trace = directory.appendingPathComponent("trace.txt")
        let server = try await ServeFollowEndToEndTests.Server(
            executable: URL(fileURLWithPath: strace),
            arguments: [
                "-f", "-y", "-s", "64", "-o", trace.path, "-e",
                "trace=fdatasync,fsync,write,pwrite64,writev,pwritev,sendto,sendmsg",
                executable.path, "serve", "--config", Fixture.sampleConfig, "--db",
                directory.appendingPathComponent("fc.sqlite").path,
                "--port", "0",
            ])
        let lines = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8
        )
        .split(separator: "\n").prefix(12)
        for line in lines {
            let (status, answer) = try await server.request(
                "/v1/ingest/asterisk-csv", method: "POST", token: "demo-pbx", body: Data((line + "\n").utf8))
            #expect(status == 200, "\(answer)")
        }
        // strace detaches on SIGTERM and leaves its tracee running: stop the traced serve itself.
        let tracer = server.process.processIdentifier
        let children = try String(contentsOfFile: "/proc/\(tracer)/task/\(tracer)/children", encoding: .utf8)
        for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
        server.process.waitUntilExit()

        let calls = Self.calls(try String(contentsOf: trace, encoding: .utf8))
        let responses = calls.indices.filter { calls[$0].kind == .okResponse }
        #expect(responses.count == lines.count, "one 2xx written per post")
        // The scheduler is this serve's other writer: it ticks at least once a minute and whenever
        // something falls due, and on a loaded machine a tick's commit can start between a post's
        // sync and its answer. So the sync looked for follows the post's first WAL write, not the
        // last WAL write before its answer, which may be the tick's.
        var previous = -1
        for response in responses {
            let walWrites = calls.indices.filter { $0 > previous && $0 < response && calls[$0].kind == .walWrite }
            #expect(!walWrites.isEmpty, "the post answered at call \(response) wrote no WAL before its answer")
            if let first = walWrites.first {
                #expect(
                    calls[first..<response].contains { $0.kind == .walSync },
                    "the 2xx at call \(response) was written before the WAL written for it was synced")
            }
            previous = response
        }
    }
}

@Suite("one writer per SQLite file", .serialized, .timeLimit(.scaled(minutes: 3)))
struct WriterLockTests {
    @Test(
        "a second serve on the same file refuses to start naming the first one's pid, while reading commands keep working; the lock dies with its holder"
    )
    func secondServeRefuses() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("fc.sqlite").path
        let serve = ["serve", "--config", Fixture.sampleConfig, "--db", db, "--port", "0"]
        let first = try await ServeFollowEndToEndTests.Server(arguments: serve)

        let second = try await Fixture.run(serve)
        #expect(second.status == 1)
        #expect(
            second.output.contains(
                "database \(db) is served by another firstcontact (pid \(first.process.processIdentifier))"),
            "\(second.output)")
        let listed = try await Fixture.run([
            "contacts", "--config", Fixture.sampleConfig, "--db", db, "--json", "--limit", "1",
        ])
        #expect(listed.status == 0, "\(listed.output)")
        let (status, _) = try await first.request("/healthz", token: "demo-admin")
        #expect(status == 200, "the first serve keeps serving")

        first.kill()
        let third = try await ServeFollowEndToEndTests.Server(arguments: serve)
        third.stop()
    }
}
