import FirstContactApp
import FirstContactPostgres
import FirstContactStore
import Foundation
import Testing

/// `sslmode` against a real PostgreSQL that takes TCP connections only with TLS (its certificate
/// self-signed for localhost and 127.0.0.1: scripts/with-postgres.sh). A command that connects has
/// used TLS; one that must not connect says why. Runs where FC_TEST_POSTGRES_TLS_URL names the
/// server (scripts/test.sh starts one); without it the suite has no tests.
@Suite("PostgreSQL over TLS", .timeLimit(.scaled(minutes: 5)))
struct PostgresTLSTests {
    struct Server: Sendable, CustomTestStringConvertible {
        var socket: PostgresURL
        var tls: String
        var rootCertificate: String
        var testDescription: String { self.tls }
    }

    static let servers: [Server] = {
        let environment = ProcessInfo.processInfo.environment
        guard let tls = environment["FC_TEST_POSTGRES_TLS_URL"], !tls.isEmpty,
            let root = environment["FC_TEST_POSTGRES_TLS_ROOT"], let socket = PostgresSampleDayTests.server
        else { return [] }
        return [Server(socket: socket, tls: tls, rootCertificate: root)]
    }()

    /// The host (the certificate names `localhost`, not 127.0.0.1), the URL's parameters, and
    /// what a refusal says.
    static let cases: [(host: String, parameters: String, refusal: String?)] = [
        ("127.0.0.1", "", nil),  // libpq's default, prefer: TLS when the server offers it
        ("127.0.0.1", "?sslmode=require", nil),
        ("127.0.0.1", "?sslmode=verify-ca&sslrootcert=ROOT", nil),
        ("localhost", "?sslmode=verify-full&sslrootcert=ROOT", nil),
        ("127.0.0.1", "?sslmode=disable", "no encryption"),
        ("127.0.0.1", "?sslmode=verify-full&sslrootcert=ROOT", "certificate does not name this host"),
        ("localhost", "?sslmode=verify-full", "certificate is not signed by a trusted root"),
        (
            "localhost", "?sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
            "sslrootcert /nonexistent/root.crt: no such readable file"
        ),
    ]

    @Test(
        "sslmode as libpq reads it: encrypted unless disabled, the certificate checked for verify-ca and verify-full, a refusal in words",
        arguments: Self.servers)
    func sslModes(server: Server) async throws {
        let created = try await PostgresDatabases.createUnique("fc_tls_", on: server.socket)
        var tls = try PostgresURL(server.tls)
        tls.database = created.database
        guard case .tcp(_, let port) = tls.endpoint else {
            Issue.record("FC_TEST_POSTGRES_TLS_URL is not a TCP URL: \(server.tls)")
            return
        }
        for (host, parameters, refusal) in Self.cases {
            tls.endpoint = .tcp(host: host, port: port)
            let url = tls.redacted + parameters.replacingOccurrences(of: "ROOT", with: server.rootCertificate)
            let run = try await Fixture.run([
                "tick", "--config", Fixture.sampleConfig, "--db", url, "--now", "2026-11-27T12:00:00+08:00",
            ])
            if let refusal {
                #expect(run.status != 0, "\(url): \(run.output)")
                #expect(run.output.contains(refusal), "\(url): \(run.output)")
                #expect(!run.output.contains("Generic description"), "\(url): \(run.output)")
            } else {
                #expect(run.status == 0, "\(url): \(run.output)")
            }
        }
        try await PostgresDatabases.drop(created.database, on: server.socket)
    }
}
