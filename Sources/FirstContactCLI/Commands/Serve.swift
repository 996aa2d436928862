import ArgumentParser
import FirstContactApp
import FirstContactCore
import Foundation
import Hummingbird

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: HTTP API under /v1, /healthz, /metrics, and the obligation scheduler on the wall clock.",
        discussion: """
            One process next to the PBX. SIGTERM or SIGINT stops it gracefully: the server stops accepting, \
            the scheduler finishes its current chunk, the database is closed. Tokens come from the \
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
        let store = try self.global.store()
        // Records stored by a run that was killed before deriving them are derived now.
        try await engine.applyWatermark(store: store)
        let host = self.host ?? engine.configuration.http.host
        let port = self.port ?? engine.configuration.http.port
        // A webhook whose secret is missing stops the start here (exit 1), naming the variable.
        let webhooks = try WebhookDelivery.configured(engine.configuration, store: store, environment: ProcessInfo.processInfo.environment)
        let app = buildApplication(engine: engine, store: store, clock: SystemWallClock(), host: host, port: port, webhooks: webhooks)
        print("FirstContact is serving http://\(host):\(port)/  (try: curl http://\(host):\(port)/healthz)")
        try await app.runService()
    }
}
