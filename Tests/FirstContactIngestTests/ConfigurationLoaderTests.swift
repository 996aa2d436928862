import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

/// One broken configuration and the diagnostic it must produce.
struct BadConfiguration: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var line: Int
    var key: String
    var fragment: String

    var testDescription: String { self.name }
}

/// A valid frame the bad cases below break one thing in (line numbers are counted from its top).
///
/// ```
///  1 departments:
///  2   - id: service
///  3     head: "1001"
///  4     queues: [hotline]
///  5     calendar: office
///  6 agents:
///  7   - id: "1001"
///  8     department: service
///  9 calendars:
/// 10   office:
/// 11     week:
/// 12       mon: ["08:30-12:00"]
/// ```
private let validFrame = """
    departments:
      - id: service
        head: "1001"
        queues: [hotline]
        calendar: office
    agents:
      - id: "1001"
        department: service
    calendars:
      office:
        week:
          mon: ["08:30-12:00"]

    """

private let badConfigurations: [BadConfiguration] = [
    BadConfiguration(
        name: "unknown top-level key, with a suggestion",
        yaml: "timezon: UTC\n", line: 1, key: "timezon",
        fragment: "unknown key `timezon` (did you mean `timezone`?)"
    ),
    BadConfiguration(
        name: "unknown key without a close match",
        yaml: "colour: blue\n", line: 1, key: "colour", fragment: "unknown key `colour`"
    ),
    BadConfiguration(
        name: "unknown nested key",
        yaml: validFrame + "policy:\n  abandon_gracee: 5s\n", line: 14, key: "policy.abandon_gracee",
        fragment: "did you mean `abandon_grace`?"
    ),
    BadConfiguration(
        name: "bad duration",
        yaml: """
            departments:
              - id: service
              - id: billing
                callback_sla: 30x
            """,
        line: 4, key: "departments[1].callback_sla",
        fragment: "\"30x\" is not a duration (use 90s, 30m, 2h, 1d)"
    ),
    BadConfiguration(
        name: "duration without a unit",
        yaml: "policy:\n  lateness: 10\n", line: 2, key: "policy.lateness", fragment: "\"10\" is not a duration"
    ),
    BadConfiguration(
        name: "zero SLA",
        yaml: "departments:\n  - id: service\n    handoff_sla: 0m\n", line: 3, key: "departments[0].handoff_sla",
        fragment: "must be longer than zero"
    ),
    BadConfiguration(
        name: "scalar where a list belongs",
        yaml: "hotline_numbers: 96116\n", line: 1, key: "hotline_numbers", fragment: "expected a list"
    ),
    BadConfiguration(
        name: "list where a value belongs",
        yaml: "country_code: [86]\n", line: 1, key: "country_code", fragment: "expected a single value, found a list"
    ),
    BadConfiguration(
        name: "country code with a plus",
        yaml: "country_code: \"+86\"\n", line: 1, key: "country_code", fragment: "must be 1–3 digits"
    ),
    BadConfiguration(
        name: "not a boolean",
        yaml: "asterisk:\n  usegmtime: maybe\n", line: 2, key: "asterisk.usegmtime", fragment: "is not true or false"
    ),
    BadConfiguration(
        name: "cdr_columns neither auto nor a list",
        yaml: "asterisk:\n  cdr_columns: custom\n", line: 2, key: "asterisk.cdr_columns", fragment: "is not `auto`"
    ),
    BadConfiguration(
        name: "cel_columns naming a field CEL does not have",
        yaml: "asterisk:\n  cel_columns: [eventtype, eventtime, channame, uniqueid, linkedid, when]\n", line: 2,
        key: "asterisk.cel_columns", fragment: "column 6 \"when\" is not a CEL field name"
    ),
    BadConfiguration(
        name: "cel_columns without the linkedid",
        yaml: "asterisk:\n  cel_columns: [eventtype, eventtime, channame, uniqueid]\n", line: 2,
        key: "asterisk.cel_columns", fragment: "the list has no linkedid column"
    ),
    BadConfiguration(
        name: "unknown IANA zone",
        yaml: "timezone: Asia/Shanghia\n", line: 1, key: "timezone", fragment: "not a known IANA time zone"
    ),
    BadConfiguration(
        name: "unknown zone in a calendar",
        yaml: "calendars:\n  office:\n    timezone: Mars/Olympus\n    week: {mon: [\"08:00-12:00\"]}\n",
        line: 3, key: "calendars.office.timezone", fragment: "\"Mars/Olympus\" is not a known IANA time zone"
    ),
    BadConfiguration(
        name: "department head is not an agent",
        yaml: validFrame.replacingOccurrences(of: "head: \"1001\"", with: "head: \"1009\""), line: 3,
        key: "departments[0].head", fragment: "unknown agent \"1009\" (did you mean \"1001\"?)"
    ),
    BadConfiguration(
        name: "agent in an unknown department",
        yaml: validFrame.replacingOccurrences(of: "department: service", with: "department: servce"), line: 8,
        key: "agents[0].department", fragment: "unknown department \"servce\" (did you mean \"service\"?)"
    ),
    BadConfiguration(
        name: "department in an unknown calendar",
        yaml: validFrame.replacingOccurrences(of: "calendar: office", with: "calendar: workshop"), line: 5,
        key: "departments[0].calendar", fragment: "unknown calendar \"workshop\" (known: office)"
    ),
    BadConfiguration(
        name: "IVR routes to an unknown department",
        yaml: validFrame + "ivr:\n  \"1\": {department: billing}\n", line: 14, key: "ivr.1.department",
        fragment: "unknown department \"billing\""
    ),
    BadConfiguration(
        name: "IVR key that is not a digit",
        yaml: validFrame + "ivr:\n  \"12\": {department: service}\n", line: 14, key: "ivr.12",
        fragment: "\"12\" is not a menu key"
    ),
    BadConfiguration(
        name: "IVR choice that routes nowhere",
        yaml: validFrame + "ivr:\n  \"5\": {}\n", line: 14, key: "ivr.5", fragment: "routes nowhere"
    ),
    BadConfiguration(
        name: "token for an unknown agent",
        yaml: validFrame
            + "tokens:\n  - name: t\n    role: agent\n    agent: \"2001\"\n    hash: \"sha256:\(String(repeating: "ab", count: 32))\"\n",
        line: 16, key: "tokens[0].agent", fragment: "unknown agent \"2001\""
    ),
    BadConfiguration(
        name: "token for an unknown department",
        yaml: validFrame
            + "tokens:\n  - name: t\n    role: supervisor\n    departments: [service, billing]\n"
            + "    hash: \"sha256:\(String(repeating: "ab", count: 32))\"\n",
        line: 16, key: "tokens[0].departments[1]", fragment: "unknown department \"billing\""
    ),
    BadConfiguration(
        name: "token hash in clear",
        yaml: "tokens:\n  - {name: admin, role: admin, hash: demo-admin}\n", line: 2, key: "tokens[0].hash",
        fragment: "token hash must be \"sha256:\" and 64 hex digits"
    ),
    BadConfiguration(
        name: "token hash of the wrong length",
        yaml: "tokens:\n  - name: admin\n    role: admin\n    hash: sha256:abc123\n", line: 4, key: "tokens[0].hash",
        fragment: "64 hex digits"
    ),
    BadConfiguration(
        name: "unknown token role",
        yaml: "tokens:\n  - name: admin\n    role: root\n    hash: \"sha256:\(String(repeating: "0", count: 64))\"\n",
        line: 3, key: "tokens[0].role", fragment: "\"root\" is not a token role (use pbx, agent, supervisor, admin)"
    ),
    BadConfiguration(
        name: "interface language that is not one of the catalogue's",
        yaml: "ui:\n  language: zh-TW\n", line: 2, key: "ui.language",
        fragment: "\"zh-TW\" is not a language the interface is written in (did you mean \"zh-CN\"?)"
    ),
    BadConfiguration(
        name: "unknown key under ui",
        yaml: "ui:\n  lang: en\n", line: 2, key: "ui.lang", fragment: "unknown key `lang`"
    ),
    BadConfiguration(
        name: "feed watched in an unknown calendar",
        yaml: validFrame + "feeds:\n  - {name: main, source: Master.csv, calendar: ofice}\n", line: 14,
        key: "feeds[0].calendar", fragment: "unknown calendar \"ofice\" (did you mean \"office\"?)"
    ),
    BadConfiguration(
        name: "duplicate department id",
        yaml: "departments:\n  - id: service\n  - id: billing\n  - id: service\n", line: 4, key: "departments[2].id",
        fragment: "department \"service\" is already defined at line 2"
    ),
    BadConfiguration(
        name: "duplicate agent id (numbers and strings are the same id)",
        yaml:
            "departments: [{id: service}]\nagents:\n  - id: \"1001\"\n    department: service\n  - id: 1001\n    department: service\n",
        line: 5, key: "agents[1].id", fragment: "agent \"1001\" is already defined at line 3"
    ),
    BadConfiguration(
        name: "duplicate device, differing only in case",
        yaml: """
            departments: [{id: service}]
            agents:
              - {id: "1001", department: service, devices: ["PJSIP/1001"]}
              - {id: "1002", department: service, devices: ["pjsip/1001"]}
            """,
        line: 4, key: "agents[1].devices[0]",
        fragment: "device \"pjsip/1001\" already belongs to agent \"1001\" (line 3)"
    ),
    BadConfiguration(
        name: "extension that is another agent's default",
        yaml: """
            departments: [{id: service}]
            agents:
              - {id: "1001", department: service}
              - {id: "1002", department: service, extensions: ["1002", "1001"]}
            """,
        line: 4, key: "agents[1].extensions[1]", fragment: "extension \"1001\" already reaches agent \"1001\""
    ),
    BadConfiguration(
        name: "unknown agent role",
        yaml: "departments: [{id: service}]\nagents:\n  - {id: \"1\", department: service, role: boss}\n", line: 3,
        key: "agents[0].role", fragment: "\"boss\" is not an agent role (use agent, head, leader)"
    ),
    BadConfiguration(
        name: "missing required key",
        yaml: "departments:\n  - name: 客户服务中心\n", line: 2, key: "departments[0]", fragment: "missing required key `id`"
    ),
    BadConfiguration(
        name: "overlapping hours",
        yaml: "calendars:\n  office:\n    week:\n      mon: [\"08:30-12:00\", \"11:30-13:00\"]\n", line: 4,
        key: "calendars.office.week.mon[1]", fragment: "\"11:30-13:00\" overlaps \"08:30-12:00\""
    ),
    BadConfiguration(
        name: "overlap reported at the range written second, even when it starts first",
        yaml: "calendars:\n  office:\n    week:\n      tue:\n        - \"14:00-17:30\"\n        - \"13:00-15:00\"\n",
        line: 6, key: "calendars.office.week.tue[1]", fragment: "\"13:00-15:00\" overlaps \"14:00-17:30\""
    ),
    BadConfiguration(
        name: "inverted hours",
        yaml: "calendars:\n  office:\n    week:\n      fri: [\"17:30-14:00\"]\n      mon: [\"08:30-12:00\"]\n", line: 4,
        key: "calendars.office.week.fri[0]", fragment: "ends before it starts"
    ),
    BadConfiguration(
        name: "badly written hours",
        yaml: "calendars:\n  office:\n    week:\n      mon: [\"8.30-12\"]\n      tue: [\"08:30-12:00\"]\n", line: 4,
        key: "calendars.office.week.mon[0]", fragment: "\"8.30-12\" is not a time range (use HH:MM-HH:MM"
    ),
    BadConfiguration(
        name: "unknown weekday",
        yaml: "calendars:\n  office:\n    week:\n      mon: [\"08:30-12:00\"]\n      thur: [\"08:30-12:00\"]\n",
        line: 5,
        key: "calendars.office.week.thur", fragment: "unknown key `thur` (did you mean `thu`?)"
    ),
    BadConfiguration(
        name: "bad date",
        yaml:
            "calendars:\n  office:\n    week: {mon: [\"08:30-12:00\"]}\n    holidays: [\"2026-10-01\", \"2026-02-30\"]\n",
        line: 4, key: "calendars.office.holidays[1]", fragment: "\"2026-02-30\" is not a date (use YYYY-MM-DD"
    ),
    BadConfiguration(
        name: "date both holiday and workday",
        yaml: """
            calendars:
              office:
                week: {mon: ["08:30-12:00"]}
                holidays:
                  - 2026-10-01
                  - 2026-10-10
                workdays: [2026-10-10]
            """,
        line: 7, key: "calendars.office.workdays[0]", fragment: "2026-10-10 is both a holiday (line 6) and a workday"
    ),
    BadConfiguration(
        name: "calendar without any working time",
        yaml: "calendars:\n  office:\n    week: {}\n    holidays: [2026-10-01]\n", line: 2, key: "calendars.office",
        fragment: "calendar \"office\" has no working hours at all"
    ),
    BadConfiguration(
        name: "at_risk above 100%",
        yaml: "policy:\n  at_risk: 120%\n", line: 2, key: "policy.at_risk",
        fragment: "\"120%\" is not a percentage from 1% to 100%"
    ),
    BadConfiguration(
        name: "at_risk of zero",
        yaml: "policy:\n  at_risk: 0%\n", line: 2, key: "policy.at_risk", fragment: "is not a percentage"
    ),
    BadConfiguration(
        name: "max_attempts of zero",
        yaml: "policy:\n  max_attempts: 0\n", line: 2, key: "policy.max_attempts", fragment: "0 is out of range (1–100)"
    ),
    BadConfiguration(
        name: "bad max_body",
        yaml: "http:\n  host: 127.0.0.1\n  max_body: 10 parsecs\n", line: 3, key: "http.max_body",
        fragment: "is not a size"
    ),
    BadConfiguration(
        name: "port out of range",
        yaml: "http:\n  port: 80800\n", line: 2, key: "http.port", fragment: "80800 is out of range (0–65535)"
    ),
    BadConfiguration(
        name: "unknown follow format, with a suggestion",
        yaml: "follow:\n  - {path: /var/log/asterisk/queue_log, format: asterisk-queuelog}\n", line: 2,
        key: "follow[0].format",
        fragment: "\"asterisk-queuelog\" is not an input format (did you mean \"asterisk-queue-log\"?)"
    ),
    BadConfiguration(
        name: "unknown follow format, listing the formats",
        yaml: "follow:\n  - path: /tmp/x\n    format: csv\n", line: 3, key: "follow[0].format",
        fragment:
            "(use asterisk-csv, asterisk-queue-log, asterisk-cel, freeswitch-xml-cdr, freeswitch-events, ivr-events, kamailio-acc)"
    ),
    BadConfiguration(
        name: "follow of a one-document-per-file format",
        yaml: "follow:\n  - {path: /var/spool/cdr.xml, format: freeswitch-xml-cdr}\n", line: 2, key: "follow[0].format",
        fragment:
            "freeswitch-xml-cdr is not a line-by-line format and cannot be followed (use asterisk-csv, asterisk-queue-log, asterisk-cel, kamailio-acc;"
    ),
    BadConfiguration(
        name: "relative follow path",
        yaml: "follow:\n  - path: cdr-csv/Master.csv\n", line: 2, key: "follow[0].path",
        fragment: "follow path \"cdr-csv/Master.csv\" must be absolute"
    ),
    BadConfiguration(
        name: "webhook that is not a URL",
        yaml: "webhooks:\n  - {url: \"ftp://example.com\"}\n", line: 2, key: "webhooks[0].url",
        fragment: "is not an http:// or https:// URL"
    ),
    BadConfiguration(
        name: "webhook start that is neither now nor start",
        yaml: "webhooks:\n  - {url: \"http://127.0.0.1:9000/hooks\", secret_env: FC_SECRET, from: yesterday}\n",
        line: 2,
        key: "webhooks[0].from", fragment: "yesterday"
    ),
    BadConfiguration(
        name: "queue claimed by two departments",
        yaml: "departments:\n  - id: service\n    queues: [hotline]\n  - id: billing\n    queues: [billing, hotline]\n",
        line: 5, key: "departments[1].queues[1]",
        fragment: "queue \"hotline\" is already claimed by department \"service\" (line 3)"
    ),
    BadConfiguration(
        name: "DID claimed by two departments",
        yaml: "departments:\n  - id: service\n    dids: [\"96116\"]\n  - id: repairs\n    dids: [96116]\n",
        line: 5, key: "departments[1].dids[0]", fragment: "DID \"96116\" is already claimed by department \"service\""
    ),
    BadConfiguration(
        name: "unknown contact category",
        yaml: "departments:\n  - id: quality\n    category: enquiry\n", line: 3, key: "departments[0].category",
        fragment: "\"enquiry\" is not a contact category (did you mean \"inquiry\"?)"
    ),
    BadConfiguration(
        name: "YAML syntax error",
        yaml: "timezone: UTC\ndepartments:\n  - id: service\n   name: broken indentation\n", line: 4, key: "",
        fragment: "YAML syntax error"
    ),
    BadConfiguration(
        name: "unclosed flow list",
        yaml: "hotline_numbers: [\"96116\"\ntimezone: UTC\n", line: 2, key: "", fragment: "YAML syntax error"
    ),
    BadConfiguration(
        name: "key written twice",
        yaml: "timezone: UTC\ncountry_code: \"86\"\ntimezone: Asia/Shanghai\n", line: 1, key: "",
        fragment: "duplicate key `timezone`"
    ),
    BadConfiguration(
        name: "document that is not a mapping",
        yaml: "- timezone: UTC\n", line: 1, key: "", fragment: "expected a mapping of keys"
    ),
    BadConfiguration(
        name: "min_free that is no size",
        yaml: "storage:\n  min_free: lots\n", line: 2, key: "storage.min_free",
        fragment: "\"lots\" is not a size (use e.g. 1GB, 500MB, 1GiB, a number of bytes, or 0 for none)"
    ),
    BadConfiguration(
        name: "min_free with a fraction",
        yaml: "storage: {min_free: 1.5GB}\n", line: 1, key: "storage.min_free", fragment: "\"1.5GB\" is not a size"
    ),
    BadConfiguration(
        name: "negative min_free",
        yaml: "storage: {min_free: -1GB}\n", line: 1, key: "storage.min_free", fragment: "\"-1GB\" is not a size"
    ),
    BadConfiguration(
        name: "min_free too large",
        yaml: "storage: {min_free: 99999999999TiB}\n", line: 1, key: "storage.min_free", fragment: "is too large"
    ),
    BadConfiguration(
        name: "unknown storage key, with a suggestion",
        yaml: "storage: {min_fre: 1GB}\n", line: 1, key: "storage.min_fre",
        fragment: "unknown key `min_fre` (did you mean `min_free`?)"
    ),
    BadConfiguration(
        name: "ring_first that is no duration",
        yaml: "routing: {ring_first: soon}\n", line: 1, key: "routing.ring_first",
        fragment: "\"soon\" is not a duration"
    ),
    BadConfiguration(
        name: "ring_first of zero",
        yaml: "routing: {ring_first: 0s}\n", line: 1, key: "routing.ring_first", fragment: "must be longer than zero"
    ),
    BadConfiguration(
        name: "ring_first of zero seconds written bare",
        yaml: "routing: {ring_first: 0}\n", line: 1, key: "routing.ring_first", fragment: "must be longer than zero"
    ),
    BadConfiguration(
        name: "ring_first of more than 300 seconds written bare",
        yaml: "routing: {ring_first: 400}\n", line: 1, key: "routing.ring_first", fragment: "at most 5m"
    ),
    BadConfiguration(
        name: "ring_first longer than 5 minutes",
        yaml: "routing:\n  ring_first: 10m\n", line: 2, key: "routing.ring_first", fragment: "at most 5m"
    ),
    BadConfiguration(
        name: "routing enabled that is no flag",
        yaml: "routing: {enabled: maybe}\n", line: 1, key: "routing.enabled", fragment: "\"maybe\" is not true or false"
    ),
    BadConfiguration(
        name: "unknown routing key, with a suggestion",
        yaml: "routing: {ring_frist: 15s}\n", line: 1, key: "routing.ring_frist",
        fragment: "unknown key `ring_frist` (did you mean `ring_first`?)"
    ),
    BadConfiguration(
        name: "a department's routing takes only enabled",
        yaml: "departments:\n  - {id: service, routing: {ring_first: 5s}}\n", line: 2,
        key: "departments[0].routing.ring_first", fragment: "unknown key `ring_first`"
    ),
]

@Suite struct ConfigurationLoaderTests {
    static let minFreeExamples: [(String, Int)] = [
        ("500MB", 500 * 1_048_576), ("1GB", 1_073_741_824), ("1GiB", 1_073_741_824), ("2 gib", 2_147_483_648),
        ("1TB", 1_099_511_627_776), ("750KiB", 768_000), ("123456", 123_456), ("0", 0),
    ]

    static let samplePath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("samples/firstcontact.yaml").path

    @Test(arguments: badConfigurations)
    func reportsTheLineAndKeyOfEachProblem(_ bad: BadConfiguration) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(yaml: bad.yaml, file: "firstcontact.yaml")
        }
        #expect(error.file == "firstcontact.yaml")
        // Exactly one problem: a mistake must not cascade into follow-up complaints.
        #expect(error.diagnostics.count == 1, "\(error)")
        let diagnostic = try #require(error.diagnostics.first)
        #expect(diagnostic.line == bad.line, "\(diagnostic)")
        #expect(diagnostic.key == bad.key, "\(diagnostic)")
        #expect(diagnostic.message.contains(bad.fragment), "\(diagnostic)")
    }

    @Test("follow: format is optional (detected from the file), given formats are kept")
    func followFormatIsOptional() throws {
        let yaml =
            "follow:\n  - {path: /var/log/asterisk/queue_log}\n  - {path: /var/log/asterisk/cdr-csv/Master.csv, format: asterisk-csv}\n"
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "c.yaml")
        #expect(
            configuration.follow == [
                FollowedFile(path: "/var/log/asterisk/queue_log", format: nil),
                FollowedFile(path: "/var/log/asterisk/cdr-csv/Master.csv", format: .asteriskCSV),
            ])
    }

    @Test func theSampleConfigurationLoads() throws {
        let configuration = try ConfigurationLoader.load(path: Self.samplePath)
        #expect(configuration.timezone.identifier == "Asia/Shanghai")
        #expect(configuration.countryCode == "86")
        #expect(configuration.nationalPrefix == "0")
        #expect(configuration.hotlineNumbers == ["96116"])
        #expect(
            configuration.departments.map(\.id.rawValue) == ["service", "billing", "repairs", "quality", "leadership"])

        let service = try #require(configuration.departments.first { $0.id.rawValue == "service" })
        #expect(service.name == "客户服务中心")
        #expect(service.head == AgentID("8001"))
        #expect(service.queues == ["hotline"])
        #expect(service.dids == ["96116"])
        #expect(service.callbackSLA == 1800 && service.handoffAckSLA == 900)
        #expect(service.handoffSLA == 7200 && service.escalateAfter == 3600)
        let repairs = try #require(configuration.departments.first { $0.id.rawValue == "repairs" })
        #expect(repairs.hours == .always)
        #expect(repairs.handoffAckSLA == 600)
        let quality = try #require(configuration.departments.first { $0.id.rawValue == "quality" })
        #expect(quality.category == .inquiry)
        #expect(quality.callbackSLA == 3600)

        let byDepartment = Dictionary(
            grouping: configuration.agents.filter { $0.role == .agent }, by: \.department.rawValue)
        #expect(byDepartment["service", default: []].count >= 4)
        #expect(byDepartment["billing", default: []].count >= 3)
        #expect(byDepartment["repairs", default: []].count >= 3)
        #expect(byDepartment["quality", default: []].count >= 2)
        #expect(configuration.agents.filter { $0.role == .leader }.count >= 1)
        for department in configuration.departments {
            let head = try #require(configuration.agents.first { $0.id == department.head })
            #expect(head.role == (department.id.rawValue == "leadership" ? .leader : .head))
        }
        let zhang = try #require(configuration.agents.first { $0.id.rawValue == "1001" })
        #expect(zhang.name == "张敏")
        #expect(zhang.devices == ["PJSIP/1001", "SIP/1001", "sofia/internal/1001", "user/1001"])
        #expect(zhang.extensions == ["1001"])

        let office = try #require(configuration.calendars["office"])
        #expect(office.zone.identifier == "Asia/Shanghai")
        let hours = ["08:30-12:00", "14:00-17:30"]
        #expect(office.week[0].map(\.description) == hours)
        #expect(office.week[4].map(\.description) == hours)
        #expect(office.week[5].isEmpty && office.week[6].isEmpty)
        #expect(office.holidays.count == 8)
        #expect(office.holidays.contains(CivilDate(year: 2027, month: 1, day: 1)))
        // The make-up Saturday is worked with office hours; the National Day week is not.
        #expect(office.intervals(on: CivilDate(year: 2026, month: 10, day: 10)).map(\.description) == hours)
        #expect(office.intervals(on: CivilDate(year: 2026, month: 10, day: 5)).isEmpty)
        if case .calendar(let calendar) = service.hours {
            #expect(calendar == office)
        } else {
            Issue.record("service should keep office hours")
        }

        #expect(configuration.ivr["1"] == IVRRoute(department: DepartmentID("billing"), category: .inquiry))
        #expect(configuration.ivr["2"] == IVRRoute(department: DepartmentID("repairs"), category: .service))
        #expect(configuration.ivr["0"] == IVRRoute(department: DepartmentID("service"), category: .consultation))
        #expect(configuration.ivr["9"] == IVRRoute(callback: true))
        #expect(configuration.policy == Policy())
        #expect(configuration.http.host == "127.0.0.1" && configuration.http.port == 8080)
        #expect(configuration.http.maxBody == 10 * 1024 * 1024)
        #expect(configuration.follow.map(\.format) == [.asteriskCSV, .asteriskQueueLog])

        #expect(configuration.tokens.map(\.role) == [.pbx, .agent, .supervisor, .admin])
        let agentToken = try #require(configuration.tokens.first { $0.role == .agent })
        #expect(agentToken.agent == AgentID("1001"))
        #expect(agentToken.hash == "sha256:33c0d6e854d944b1368f816b1f35d4af6c3883f6996b8afb40468e3fc9e207ff")
        let supervisor = try #require(configuration.tokens.first { $0.role == .supervisor })
        #expect(supervisor.departments == [DepartmentID("service"), DepartmentID("billing")])
    }

    @Test func anEmptyMappingGivesTheDefaults() throws {
        let configuration = try ConfigurationLoader.load(yaml: "{}\n", file: "empty.yaml")
        #expect(configuration.timezone.identifier == "UTC")
        #expect(configuration.nationalPrefix == "0")
        #expect(configuration.outboundPrefix == "")
        #expect(configuration.inboundContexts == ["from-trunk", "from-pstn", "from-external", "public"])
        #expect(configuration.asterisk == AsteriskOptions())
        #expect(configuration.policy == Policy())
        #expect(configuration.http == HTTPOptions())
        #expect(configuration.ui.language == .english)
    }

    @Test("ui.language chooses the interface's language by its BCP 47 tag", arguments: Language.allCases)
    func interfaceLanguage(_ language: Language) throws {
        let configuration = try ConfigurationLoader.load(
            yaml: "ui:\n  language: \(language.rawValue)\n", file: "c.yaml")
        #expect(configuration.ui.language == language)
    }

    @Test func anEmptyFileIsAnError() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(yaml: "# nothing yet\n", file: "c.yaml")
        }
        #expect(error.diagnostics.map(\.message) == ["the configuration is empty"])
    }

    @Test func defaultsFillWhatADepartmentOrAgentLeavesOut() throws {
        let yaml = """
            timezone: Europe/Berlin
            departments:
              - id: repairs
            agents:
              - id: 1001
                department: repairs
            calendars:
              office:
                week: {mon: ["09:00-17:00"]}
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "c.yaml")
        let repairs = try #require(configuration.departments.first)
        #expect(repairs.name == "repairs")
        #expect(repairs.hours == .always)
        #expect(repairs.category == .service)
        #expect(repairs.callbackSLA == 1800)
        let agent = try #require(configuration.agents.first)
        // An unquoted number is the same id as the quoted one.
        #expect(agent.id == AgentID("1001"))
        #expect(agent.role == .agent)
        #expect(agent.extensions == ["1001"])
        // Calendars default to the top-level zone; make-up hours to Monday's.
        let office = try #require(configuration.calendars["office"])
        #expect(office.zone.identifier == "Europe/Berlin")
        #expect(office.makeupHours.map(\.description) == ["09:00-17:00"])
    }

    @Test(
        "storage.min_free reads 500MB, 1GB, 1GiB (powers of 1024, as max_body), a byte count or 0, and is 1 GB when absent",
        arguments: ConfigurationLoaderTests.minFreeExamples)
    func minFreeSizes(_ written: String, _ bytes: Int) throws {
        let configuration = try ConfigurationLoader.load(yaml: "storage:\n  min_free: \(written)\n", file: "c.yaml")
        #expect(configuration.storage.minFree == bytes)
        #expect(try ConfigurationLoader.load(yaml: "timezone: UTC\n", file: "c.yaml").storage.minFree == 1 << 30)
    }

    @Test(
        "routing is off without a routing: section; a section turns it on (ring_first 15 s unless given); a department may turn it off"
    )
    func routingOptions() throws {
        let absent = try ConfigurationLoader.load(yaml: "timezone: UTC\n", file: "c.yaml")
        #expect(absent.routing == RoutingOptions(enabled: false, ringFirst: 15))
        let empty = try ConfigurationLoader.load(yaml: "routing: {}\n", file: "c.yaml")
        #expect(empty.routing == RoutingOptions(enabled: true, ringFirst: 15))
        let yaml = """
            routing: {enabled: true, ring_first: 20s}
            departments:
              - {id: service}
              - {id: repairs, routing: {enabled: false}}
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "c.yaml")
        #expect(configuration.routing == RoutingOptions(enabled: true, ringFirst: 20))
        #expect(configuration.departments.map(\.routing) == [true, false])
        let off = try ConfigurationLoader.load(yaml: "routing: {enabled: false, ring_first: 1m}\n", file: "c.yaml")
        #expect(off.routing == RoutingOptions(enabled: false, ringFirst: 60))
    }

    @Test(
        "ring_first as a bare number is seconds, as the dialplan's Dial timeout and the answer's ring_first are",
        arguments: [("15", 15), ("\"25\"", 25), ("300", 300), ("20s", 20), ("1m", 60)])
    func ringFirstInSeconds(written: String, seconds: Int64) throws {
        let configuration = try ConfigurationLoader.load(yaml: "routing: {ring_first: \(written)}\n", file: "c.yaml")
        #expect(configuration.routing == RoutingOptions(enabled: true, ringFirst: seconds))
    }

    @Test func explicitCDRColumnsAndSizesAreRead() throws {
        let yaml = """
            asterisk:
              usegmtime: yes
              cdr_columns: [clid, src, dst, start, answer, end, billsec, disposition, uniqueid, linkedid]
              cel_columns: [eventtime, eventtype, channame, uniqueid, linkedid, peer, extra]
            http: {max_body: 512KB, port: "9090"}
            policy: {at_risk: 75, abandon_grace: 0s}
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "c.yaml")
        #expect(configuration.asterisk.usegmtime)
        #expect(configuration.asterisk.cdrColumns?.count == 10)
        #expect(configuration.asterisk.celColumns?.first == "eventtime")
        #expect(configuration.asterisk.celColumns?.count == 7)
        #expect(configuration.http.maxBody == 512 * 1024)
        #expect(configuration.http.port == 9090)
        #expect(configuration.policy.atRiskPercent == 75)
        #expect(configuration.policy.abandonGrace == 0)
    }

    @Test func mergeKeysShareSettings() throws {
        let yaml = """
            departments:
              - &office-desk
                id: billing
                calendar: office
                callback_sla: 1h
              - <<: *office-desk
                id: quality
            calendars:
              office:
                week: {mon: ["09:00-17:00"]}
            """
        let configuration = try ConfigurationLoader.load(yaml: yaml, file: "c.yaml")
        #expect(configuration.departments.map(\.id.rawValue) == ["billing", "quality"])
        #expect(configuration.departments.map(\.callbackSLA) == [3600, 3600])
    }

    @Test func everyProblemIsReportedInFileOrder() throws {
        let yaml = """
            timezone: Nowhere/Town
            departments:
              - id: service
                head: "9999"
                callback_sla: soon
            agents:
              - {id: "1001", department: servce, role: boss}
            policy:
              at_risk: 0%
            """
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(yaml: yaml, file: "firstcontact.yaml")
        }
        #expect(error.diagnostics.map(\.line) == [1, 4, 5, 7, 7, 9])
        #expect(
            error.diagnostics.map(\.key) == [
                "timezone", "departments[0].head", "departments[0].callback_sla", "agents[0].department",
                "agents[0].role",
                "policy.at_risk",
            ]
        )
        let lines = error.description.split(separator: "\n")
        #expect(lines.count == 7)
        #expect(lines.last == "firstcontact.yaml: 6 configuration errors")
    }

    @Test func diagnosticsReadLikeCompilerMessages() {
        let diagnostic = ConfigurationDiagnostic(
            file: "firstcontact.yaml", line: 12, column: 5, key: "departments[1].callback_sla",
            message: "\"30x\" is not a duration (use 90s, 30m, 2h, 1d)"
        )
        #expect(
            diagnostic.description
                == "firstcontact.yaml:12:5: departments[1].callback_sla: \"30x\" is not a duration (use 90s, 30m, 2h, 1d)"
        )
        let whole = ConfigurationDiagnostic(
            file: "c.yaml", line: 0, column: 0, key: "", message: "cannot read the file")
        #expect(whole.description == "c.yaml: cannot read the file")
    }

    @Test func theColumnPointsAtTheValue() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(yaml: "policy:\n  lateness: 10x\n", file: "c.yaml")
        }
        #expect(error.diagnostics.first?.column == 13)
        #expect(
            error.diagnostics.first?.description
                == "c.yaml:2:13: policy.lateness: \"10x\" is not a duration (use 90s, 30m, 2h, 1d)")
    }

    @Test func aMissingFileIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fc-no-such-\(UUID().uuidString).yaml")
            .path
        let error = try #require(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(path: path)
        }
        #expect(error.diagnostics.count == 1)
        #expect(error.diagnostics.first?.line == 0)
        #expect(error.diagnostics.first?.message.hasPrefix("cannot read the file") == true)
    }
}
