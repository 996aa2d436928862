import Foundation
import Testing

/// docs/grafana/firstcontact.json queries only what `/metrics` exposes (issue 15 §6).
@Suite("Grafana dashboard", .serialized)
struct DashboardTests {
    static let dashboard = Fixture.root.appendingPathComponent("docs/grafana/firstcontact.json")

    /// Every PromQL expression of the dashboard's panels.
    static func expressions() throws -> [String] {
        func collect(_ value: Any, into result: inout [String]) {
            if let object = value as? [String: Any] {
                if let expression = object["expr"] as? String { result.append(expression) }
                for child in object.values { collect(child, into: &result) }
            } else if let array = value as? [Any] {
                for child in array { collect(child, into: &result) }
            }
        }
        var result: [String] = []
        collect(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.dashboard)), into: &result)
        return result
    }

    @Test("every metric and labelled series the dashboard queries is exposed by a running serve's /metrics")
    func dashboardQueriesExposedMetrics() async throws {
        let expressions = try Self.expressions()
        #expect(expressions.count >= 15)
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A followed file, so that the followers' series exist.
        let followed = directory.appendingPathComponent("queue_log")
        let queueLog = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/queue_log"), encoding: .utf8)
        try queueLog.split(separator: "\n").prefix(40).joined(separator: "\n").appending("\n")
            .write(to: followed, atomically: true, encoding: .utf8)
        let config = directory.appendingPathComponent("fc.yaml")
        try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
            .replacingOccurrences(of: "/var/log/asterisk/queue_log", with: followed.path)
            .replacingOccurrences(
                of: "/var/log/asterisk/cdr-csv/Master.csv", with: directory.appendingPathComponent("Master.csv").path
            )
            .write(to: config, atomically: true, encoding: .utf8)

        let server = try await ServeFollowEndToEndTests.Server(
            arguments: [
                "serve", "--config", config.path, "--db", directory.appendingPathComponent("fc.sqlite").path, "--port",
                "0",
            ])
        defer { server.stop() }
        let cdr = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8)
        let body = cdr.split(separator: "\n").prefix(40).joined(separator: "\n") + "\n"
        let (status, answer) = try await server.request(
            "/v1/ingest/asterisk-csv", method: "POST", token: "demo-pbx", body: Data(body.utf8))
        #expect(status == 200, "\(answer)")
        var metrics = ""
        for _ in 0..<100 {
            metrics = try await server.request("/metrics", token: "demo-admin").1
            if metrics.contains("firstcontact_follow_lines_total{path=\"\(followed.path)\"} 40") { break }
            try await Task.sleep(for: .milliseconds(100))
        }

        // Sample lines `name{labels} value`: the series /metrics has now.
        let samples = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }
        let exposed = Set(samples.map { String($0.prefix { $0 != "{" && $0 != " " }) })
        var queried: Set<String> = []
        for expression in expressions {
            for match in expression.matches(of: /firstcontact_[a-z0-9_]+/) { queried.insert(String(match.output)) }
            // A selector's label matchers must select an existing series.
            for match in expression.matches(of: /(firstcontact_[a-z0-9_]+)\{([^}]*)\}/) {
                let name = String(match.output.1)
                for matcher in match.output.2.split(separator: ",") {
                    #expect(
                        samples.contains {
                            $0.hasPrefix(name + "{") && $0.contains(matcher.trimmingCharacters(in: .whitespaces))
                        },
                        "\(name){\(matcher)} in \(expression)")
                }
            }
        }
        #expect(queried.count >= 12)
        for name in queried.sorted() {
            #expect(exposed.contains(name), "the dashboard queries \(name), which /metrics does not expose")
        }
        // Grouping labels exist on the series they group.
        for expression in expressions {
            for match in expression.matches(of: /by \(([a-z_, ]+)\)/) {
                for label in match.output.1.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                    #expect(
                        samples.contains { $0.contains("\(label)=\"") },
                        "no series has the label \(label) (\(expression))")
                }
            }
        }
    }
}
