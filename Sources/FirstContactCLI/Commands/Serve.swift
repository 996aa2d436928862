import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import Foundation
import Hummingbird

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the service: HTTP API under /v1, /healthz, /metrics, and the obligation scheduler on the wall clock.",
        discussion: """
            One process next to the PBX. SIGTERM or SIGINT stops it gracefully: the server stops accepting, \
            the scheduler finishes its current chunk, the database is closed. Files under `follow:` are tailed \
            with a checkpoint stored with their records: a restart (even after kill -9) resumes where the \
            last stored line ended; rotation by rename and copy-truncate are followed. Tokens come from the \
            configuration's `tokens:` (sha256 hashes); send them as `Authorization: Bearer TOKEN`.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Listen address (default: http.host of the configuration).")
    var host: String?

    @Option(help: "Listen port (default: http.port of the configuration).")
    var port: Int?

    func run() async throws {
        let engine = try self.global.engine()
        // One writer per SQLite file: taken before the store opens (and migrates), held until exit.
        let writerLock = try StoreLocator.claimWriter(self.global.db)
        // Live: the clock is the wall clock, and late records are a backfill (SPEC "Backfill in `serve`").
        let store = try StoreLocator.open(self.global.db, live: true)
        // Records stored by a run that was killed before deriving them are derived now (on a
        // full disk, by the scheduler once there is room); a disk below storage.min_free is said.
        try await engine.prepareToServe(store: store)
        let host = self.host ?? engine.configuration.http.host
        let port = self.port ?? engine.configuration.http.port
        // A webhook whose secret is missing stops the start here (exit 1), naming the variable.
        let webhooks = try WebhookDelivery.configured(
            engine.configuration, store: store, environment: ProcessInfo.processInfo.environment)
        let follow = engine.configuration.follow
        // Several instances on one PostgreSQL database recognise each other's web sessions.
        let sessions = try await WebSessions.configured(store: store, tokens: engine.configuration.tokens)
        let app = buildApplication(
            engine: engine, store: store, clock: SystemWallClock(), host: host, port: port, webhooks: webhooks,
            sessions: sessions
        ) { bound in
            // Printed once listening, with the bound port (port 0 asks the system for a free one),
            // so that scripts and tests can read where to connect.
            let port = bound ?? port
            print("FirstContact is serving http://\(host):\(port)/  (try: curl http://\(host):\(port)/healthz)")
            for file in follow {
                print("following \(file.path) (\(file.format?.rawValue ?? "format detected"))")
            }
            fflush(nil)  // all streams: stdout is a pipe when a script reads it
        }
        try await app.runService()
        withExtendedLifetime(writerLock) {}
    }
}
