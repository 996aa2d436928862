import FirstContactCore
import Foundation
import Yams

/// Reads `firstcontact.yaml` (SPEC "Configuration (contract)") into the validated
/// `FirstContactConfiguration`, or explains everything that is wrong with it.
///
/// Every problem is collected (unknown keys, wrong types, bad durations, dangling references,
/// duplicates, impossible calendars) and thrown together as one `ConfigurationError`, each with
/// its line, column and dotted key, so `check-config` shows the whole list at once.
package enum ConfigurationLoader {
    /// Reads and validates the configuration file at `path`.
    ///
    /// - Parameter path: the file to read; diagnostics name it as given.
    /// - Throws: `ConfigurationError` listing every problem (also when the file cannot be read).
    package static func load(path: String) throws -> FirstContactConfiguration {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw self.fileError(path, "is a directory, not a configuration file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw self.fileError(path, "cannot read the file: \(Self.reason(error))")
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            throw self.fileError(path, "the file is not UTF-8 text")
        }
        return try self.load(yaml: yaml, file: path)
    }

    /// Validates configuration text.
    ///
    /// - Parameters:
    ///   - yaml: the YAML document.
    ///   - file: the name diagnostics start with (a path, or a label such as `<stdin>`).
    /// - Throws: `ConfigurationError` listing every problem.
    package static func load(yaml: String, file: String) throws -> FirstContactConfiguration {
        var parser = ConfigurationParser(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(diagnostics: [self.syntaxDiagnostic(error, yaml: yaml, file: file)], file: file)
        }
        guard let root else {
            // An empty file is far more likely a wrong path or a truncated copy than a wish for
            // a hotline with no departments; `{}` still asks for all the defaults.
            throw ConfigurationError(
                diagnostics: [
                    ConfigurationDiagnostic(
                        file: file, line: 1, column: 1, key: "", message: "the configuration is empty")
                ],
                file: file
            )
        }
        let configuration = parser.configuration(ConfigNode(node: root, path: "", fallback: (1, 1)))
        guard parser.diagnostics.isEmpty else {
            throw ConfigurationError(diagnostics: parser.sortedDiagnostics, file: file)
        }
        return configuration
    }

    private static func fileError(_ path: String, _ message: String) -> ConfigurationError {
        ConfigurationError(
            diagnostics: [ConfigurationDiagnostic(file: path, line: 0, column: 0, key: "", message: message)],
            file: path
        )
    }

    private static func reason(_ error: any Error) -> String {
        if let cocoa = error as? CocoaError, cocoa.code == .fileReadNoSuchFile { return "no such file" }
        if let cocoa = error as? CocoaError, cocoa.code == .fileReadNoPermission { return "permission denied" }
        return error.localizedDescription
    }

    /// Turns a Yams/libyaml error into a diagnostic at the line libyaml points at.
    static func syntaxDiagnostic(_ error: any Error, yaml: String, file: String) -> ConfigurationDiagnostic {
        func diagnostic(_ line: Int, _ column: Int, _ message: String) -> ConfigurationDiagnostic {
            ConfigurationDiagnostic(file: file, line: line, column: column, key: "", message: message)
        }
        guard let yamlError = error as? YamlError else {
            return diagnostic(0, 0, "cannot read the YAML: \(error)")
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            // libyaml's context ("while parsing a block mapping") names where the construct
            // began, which is often the line to look at when the problem line is the next one.
            let started = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            // A bare `*` or `#` (IVR keys) is read as an alias or a comment: say how to write them.
            let hint = context?.text.contains("alias") == true ? "; quote menu keys such as \"*\" and \"#\"" : ""
            return diagnostic(mark.line, mark.column, "YAML syntax error: \(problem)\(started)\(hint)")
        case .reader(let problem, let offset, _, _):
            let (line, column) = self.position(ofCharacter: offset ?? 0, in: yaml)
            return diagnostic(line, column, "YAML cannot be read: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "`\($0)`" }.joined(separator: ", ")
            return diagnostic(
                context.mark.line, context.mark.column,
                "duplicate key \(keys) in one mapping (each key may appear once)"
            )
        default:
            return diagnostic(0, 0, "cannot read the YAML: \(yamlError)")
        }
    }

    /// 1-based line and column of the character at `offset`.
    private static func position(ofCharacter offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}

/// The keys each mapping accepts, in the order the SPEC lists them (suggestions prefer earlier ones).
enum ConfigurationKeys {
    static let top = [
        "timezone", "country_code", "national_prefix", "outbound_prefix", "hotline_numbers", "inbound_contexts",
        "asterisk", "departments", "agents", "calendars", "ivr", "policy", "http", "feeds", "follow", "webhooks",
        "tokens",
        "ingest", "ui", "storage", "routing",
    ]
    static let asterisk = ["usegmtime", "cdr_columns", "cel_columns"]
    static let department = [
        "id", "name", "head", "queues", "dids", "calendar", "callback_sla", "handoff_ack_sla", "handoff_sla",
        "escalate_after", "category", "routing",
    ]
    static let agent = ["id", "name", "department", "role", "devices", "extensions"]
    static let calendar = ["timezone", "week", "holidays", "workdays", "makeup_hours"]
    static let week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    static let ivrRoute = ["department", "category", "callback"]
    static let policy = [
        "abandon_grace", "repeat_window", "auto_close", "max_attempts", "lateness", "max_transfers", "at_risk",
        "retention",
    ]
    static let http = [
        "host", "port", "max_body", "max_streams_per_token", "max_connections", "sign_in_attempts",
        "sign_in_window", "request_timeout",
    ]
    static let ingest = ["max_rejects_per_source"]
    static let ui = ["language"]
    static let storage = ["min_free"]
    static let routing = ["enabled", "ring_first"]
    static let departmentRouting = ["enabled"]
    static let feed = ["name", "source", "calendar", "silence"]
    static let follow = ["path", "format"]
    static let webhook = ["url", "secret_env", "max_attempts", "from"]
    static let token = ["name", "role", "agent", "departments", "hash"]
}

extension ConfigurationParser {
    /// Reads the whole document. Sections are read in dependency order (zone → calendars →
    /// departments → agents → what refers to them), whatever order the file writes them in.
    mutating func configuration(_ root: ConfigNode) -> FirstContactConfiguration {
        var configuration = FirstContactConfiguration()
        guard let fields = self.fields(root, allowed: ConfigurationKeys.top) else { return configuration }

        if let node = fields["timezone"], let zone = self.zone(node) { configuration.timezone = zone }
        if let node = fields["country_code"], let value = self.digits(node, lengths: 1...3) {
            configuration.countryCode = value
        }
        if let node = fields["national_prefix"], let value = self.digits(node, lengths: 0...3) {
            configuration.nationalPrefix = value
        }
        if let node = fields["outbound_prefix"], let value = self.digits(node, lengths: 0...3) {
            configuration.outboundPrefix = value
        }
        if let node = fields["hotline_numbers"], let values = self.textList(node) {
            configuration.hotlineNumbers = values.map(\.value)
        }
        if let node = fields["inbound_contexts"], let values = self.textList(node) {
            configuration.inboundContexts = values.map(\.value)
        }
        if let node = fields["asterisk"] { configuration.asterisk = self.asterisk(node) }

        let calendars =
            fields["calendars"].map { self.calendars($0, defaultZone: configuration.timezone) } ?? CalendarSection()
        configuration.calendars = calendars.calendars

        let departments =
            fields["departments"].map { self.departments($0, calendars: calendars) } ?? DepartmentSection()
        configuration.departments = departments.departments

        let agents = fields["agents"].map { self.agents($0, departmentIDs: departments.ids) } ?? AgentSection()
        configuration.agents = agents.agents
        for head in departments.heads {
            self.checkReference(head, kind: "agent", known: agents.ids)
        }

        if let node = fields["ivr"] { configuration.ivr = self.ivr(node, departmentIDs: departments.ids) }
        if let node = fields["policy"] { configuration.policy = self.policy(node) }
        if let node = fields["http"] { configuration.http = self.http(node) }
        if let node = fields["ingest"] { configuration.ingest = self.ingest(node) }
        if let node = fields["ui"] { configuration.ui = self.ui(node) }
        if let node = fields["storage"] { configuration.storage = self.storage(node) }
        if let node = fields["routing"] { configuration.routing = self.routing(node) }
        if let node = fields["feeds"] { configuration.feeds = self.feeds(node, calendarNames: calendars.names) }
        if let node = fields["follow"] { configuration.follow = self.follow(node) }
        if let node = fields["webhooks"] { configuration.webhooks = self.webhooks(node) }
        if let node = fields["tokens"] {
            configuration.tokens = self.tokens(node, agentIDs: agents.ids, departmentIDs: departments.ids)
        }
        return configuration
    }
}
