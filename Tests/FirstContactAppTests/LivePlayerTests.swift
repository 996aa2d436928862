import Foundation
import Testing

/// The real `firstcontact simulate --live` against the real `serve`: what scripts/demo.sh runs.
@Suite(
    "simulate --live against serve", .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.skipped),
    .timeLimit(.scaled(minutes: 3)))
struct LivePlayerTests {
    typealias Server = ServeFollowEndToEndTests.Server

    func player(_ server: Server, token: String) throws -> (Process, Pipe) {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("firstcontact")
        let candidates = [binary, Fixture.root.appendingPathComponent(".build/debug/firstcontact")]
        let executable = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) })
        let process = Process()
        process.executableURL = executable
        process.arguments = [
            "simulate", "--live", "--config", Fixture.sampleConfig, "--rate", "400", "--speed", "10", "--to",
            server.base, "--token", token,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, pipe)
    }

    /// `serve` on the sample configuration and a fresh database in `directory`.
    static func serve(in directory: URL) async throws -> Server {
        try await Server(arguments: [
            "serve", "--config", Fixture.sampleConfig, "--db", directory.appendingPathComponent("live.sqlite").path,
            "--port", "0",
        ])
    }

    @Test("the player seeds today through the HTTP ingest with the pbx token, and SIGTERM stops it cleanly")
    func seedsAndStops() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.serve(in: directory)
        defer { server.stop() }
        let (player, pipe) = try self.player(server, token: "demo-pbx")
        var contacts: [[String: Any]] = []
        for _ in 0..<300 where contacts.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
            contacts = try await server.json("/v1/contacts?limit=5")
        }
        #expect(!contacts.isEmpty, "nothing arrived from the player")
        #expect(player.isRunning)
        player.terminate()
        player.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(player.terminationStatus == 0, "\(output)")
        #expect(output.contains("stopped"), "\(output)")
    }

    @Test("a token the ingest refuses stops the player with the reason, instead of retrying for ever")
    func refusedToken() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await Self.serve(in: directory)
        defer { server.stop() }
        let (player, pipe) = try self.player(server, token: "demo-agent-1001")
        player.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(player.terminationStatus == 1, "\(output)")
        #expect(output.contains("refused POST /v1/ingest/") && output.contains("403"), "\(output)")
    }
}

@Suite("simulate --live usage")
struct LivePlayerUsageTests {
    @Test(
        "--live needs a token, takes no --date or --out, and a --plays-as that is a time of day",
        arguments: [
            ["--to", "http://127.0.0.1:9"],
            ["--token", "demo-pbx", "--date", "2026-11-27"],
            ["--token", "demo-pbx", "--plays-as", "25:00"],
            ["--token", "demo-pbx", "--plays-as", "3pm"],
            ["--token", "demo-pbx", "--speed", "0.5"],
        ])
    func usage(_ arguments: [String]) throws {
        let (status, output) = try Fixture.runBlocking(
            ["simulate", "--live", "--config", Fixture.sampleConfig] + arguments)
        #expect(status == 64, "\(output)")
    }
}
