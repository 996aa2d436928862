/// The validated configuration (SPEC "Configuration"), as the engine uses it.
///
/// Built by `ConfigurationLoader` from YAML; every reference in it has been checked, so the
/// engine can look things up without failing.
package struct FirstContactConfiguration: Sendable {
    package var timezone: ZoneRules
    package var countryCode: String
    package var nationalPrefix: String
    package var outboundPrefix: String
    package var hotlineNumbers: [String]
    package var inboundContexts: [String]
    package var asterisk: AsteriskOptions
    package var departments: [Department]
    package var agents: [Agent]
    package var calendars: [String: BusinessCalendar]
    package var ivr: [String: IVRRoute]
    package var policy: Policy
    package var http: HTTPOptions
    package var feeds: [Feed]
    package var follow: [FollowedFile]
    package var webhooks: [Webhook]
    package var tokens: [Token]
    package var ingest = IngestOptions()
    package var ui = UIOptions()
    package var storage = StorageOptions()
    package var routing = RoutingOptions()

    package init(
        timezone: ZoneRules = .utc,
        countryCode: String = "",
        nationalPrefix: String = "0",
        outboundPrefix: String = "",
        hotlineNumbers: [String] = [],
        inboundContexts: [String] = ["from-trunk", "from-pstn", "from-external", "public"],
        asterisk: AsteriskOptions = AsteriskOptions(),
        departments: [Department] = [],
        agents: [Agent] = [],
        calendars: [String: BusinessCalendar] = [:],
        ivr: [String: IVRRoute] = [:],
        policy: Policy = Policy(),
        http: HTTPOptions = HTTPOptions(),
        feeds: [Feed] = [],
        follow: [FollowedFile] = [],
        webhooks: [Webhook] = [],
        tokens: [Token] = []
    ) {
        self.timezone = timezone
        self.countryCode = countryCode
        self.nationalPrefix = nationalPrefix
        self.outboundPrefix = outboundPrefix
        self.hotlineNumbers = hotlineNumbers
        self.inboundContexts = inboundContexts
        self.asterisk = asterisk
        self.departments = departments
        self.agents = agents
        self.calendars = calendars
        self.ivr = ivr
        self.policy = policy
        self.http = http
        self.feeds = feeds
        self.follow = follow
        self.webhooks = webhooks
        self.tokens = tokens
    }
}

/// `asterisk:` — how the PBX's cdr.conf was set.
package struct AsteriskOptions: Sendable, Hashable {
    /// Master.csv times are UTC (`usegmtime=yes`) rather than the PBX's local zone.
    package var usegmtime: Bool
    /// nil = detect the 16–21 column `cdr_csv` layouts; else the column names of a `cdr_custom` template.
    package var cdrColumns: [String]?
    /// nil = the `cel_custom` sample mapping; else the CEL field names of the configured template.
    package var celColumns: [String]?

    package init(usegmtime: Bool = false, cdrColumns: [String]? = nil, celColumns: [String]? = nil) {
        self.usegmtime = usegmtime
        self.cdrColumns = cdrColumns
        self.celColumns = celColumns
    }
}

/// A department: owns queues, DIDs and IVR choices; has a head, SLAs and business hours.
package struct Department: Sendable, Hashable {
    package var id: DepartmentID
    package var name: String
    package var head: AgentID?
    package var queues: [String]
    package var dids: [String]
    /// Category of contacts routed here when the IVR did not name one.
    package var category: ContactCategory
    package var hours: BusinessHours
    package var callbackSLA: Int64
    package var handoffAckSLA: Int64
    package var handoffSLA: Int64
    package var escalateAfter: Int64
    /// `routing: {enabled: false}` on the department: its returning callers always go to the queue.
    package var routing = true

    package init(
        id: DepartmentID,
        name: String,
        head: AgentID? = nil,
        queues: [String] = [],
        dids: [String] = [],
        category: ContactCategory = .service,
        hours: BusinessHours = .always,
        callbackSLA: Int64 = ServiceLevels.defaults.callback,
        handoffAckSLA: Int64 = ServiceLevels.defaults.handoffAck,
        handoffSLA: Int64 = ServiceLevels.defaults.handoff,
        escalateAfter: Int64 = ServiceLevels.defaults.escalateAfter
    ) {
        self.id = id
        self.name = name
        self.head = head
        self.queues = queues
        self.dids = dids
        self.category = category
        self.hours = hours
        self.callbackSLA = callbackSLA
        self.handoffAckSLA = handoffAckSLA
        self.handoffSLA = handoffSLA
        self.escalateAfter = escalateAfter
    }
}

/// An employee who can take calls.
package struct Agent: Sendable, Hashable {
    package enum Role: String, Sendable, Hashable, CaseIterable {
        case agent
        case head
        case leader
    }

    package var id: AgentID
    package var name: String
    package var department: DepartmentID
    package var role: Role
    /// Channel names (`PJSIP/1001`, `sofia/internal/1001`) and queue member names.
    package var devices: [String]
    /// Numbers that reach this agent directly (default: the id).
    package var extensions: [String]

    package init(
        id: AgentID,
        name: String,
        department: DepartmentID,
        role: Role = .agent,
        devices: [String] = [],
        extensions: [String]? = nil
    ) {
        self.id = id
        self.name = name
        self.department = department
        self.role = role
        self.devices = devices
        self.extensions = extensions ?? [id.rawValue]
    }
}

/// What one IVR menu digit means.
package struct IVRRoute: Sendable, Hashable {
    package var department: DepartmentID?
    package var category: ContactCategory?
    package var callback: Bool

    package init(department: DepartmentID? = nil, category: ContactCategory? = nil, callback: Bool = false) {
        self.department = department
        self.category = category
        self.callback = callback
    }
}

/// `policy:` — the numbers of the operating rule.
package struct Policy: Sendable, Hashable {
    package var abandonGrace: Int64 = 5
    package var repeatWindow: Int64 = 72 * 3600
    package var autoClose: Int64 = 24 * 3600
    package var maxAttempts: Int = 3
    package var lateness: Int64 = 600
    package var maxTransfers: Int = 2
    /// Fraction of an SLA after which an obligation is flagged at risk, in percent.
    package var atRiskPercent: Int = 80
    /// How long the records and derived rows of a closed contact are kept (seconds after it
    /// closed); nil keeps them for ever. Customer numbers are personal data.
    package var retention: Int64?

    package init() {}
}

/// `ingest:` — what bad input may cost.
package struct IngestOptions: Sendable, Hashable {
    /// Rejects stored per source (file path or request); past it they are only counted, so a
    /// broken exporter writing garbage for hours cannot fill the disk with copies of it. A
    /// thousand rows show what is wrong with a file; at ~300 bytes each (reason, source, raw)
    /// they stay under 2× even a 1 MB input of tiny bad rows.
    package var maxRejectsPerSource: Int = 1_000

    package init() {}
}

/// `ui:` — how the web pages and the CLI's tables speak to people.
package struct UIOptions: Sendable, Hashable {
    /// The language when the reader has not chosen one (the browser's `Accept-Language`, the
    /// terminal's `LANG`, or an explicit choice come first).
    package var language: Language = .english

    package init() {}
}

/// `storage:` — the room the database needs.
package struct StorageOptions: Sendable, Hashable {
    /// Free bytes on the database's file system below which `serve` warns at start and
    /// `/healthz` says degraded, before writes start failing; 0 turns the warning off.
    package var minFree: Int = 1 << 30

    package init() {}
}

/// `routing:` — whether `GET /v1/route` sends a returning caller to the agent who carries their
/// matter before the queue. Off unless the configuration has a `routing:` section: ringing one
/// agent first changes how the PBX answers every inbound call, so it is chosen, never assumed.
package struct RoutingOptions: Sendable, Hashable {
    package var enabled = false
    /// Seconds the agent's device rings before the call falls back to the queue.
    package var ringFirst: Int64 = 15

    package init(enabled: Bool = false, ringFirst: Int64 = 15) {
        self.enabled = enabled
        self.ringFirst = ringFirst
    }
}

/// A language the pages and tables are written in; the raw value is its BCP 47 tag, as the
/// configuration, `<html lang>` and `--language` spell it.
package enum Language: String, Sendable, Hashable, CaseIterable {
    case english = "en"
    case chinese = "zh-CN"
}

package struct HTTPOptions: Sendable, Hashable {
    package var host: String = "127.0.0.1"
    package var port: Int = 8080
    package var maxBody: Int = 10 * 1024 * 1024
    /// Event streams (`/v1/events`, the pages' live updates) one token may hold open at once.
    package var maxStreamsPerToken = 20
    /// Connections the server holds at once; one more is answered 503 and closed.
    package var maxConnections = 1000
    /// Failed sign-ins one address may make in ``signInWindow`` seconds before it must wait.
    package var signInAttempts = 10
    package var signInWindow: Int64 = 300
    /// Seconds a client may take between the parts of a request (headers, body) before it is
    /// answered 408 and the connection closed.
    package var requestTimeout: Int64 = 30

    package init() {}
}

package struct Feed: Sendable, Hashable {
    package var name: String
    package var source: String
    package var calendar: String?
    package var silence: Int64

    /// How long a feed may send nothing in its hours before the silence is a gap, when the
    /// configuration does not say.
    package static let defaultSilence: Int64 = 15 * 60

    package init(name: String, source: String, calendar: String?, silence: Int64 = Feed.defaultSilence) {
        self.name = name
        self.source = source
        self.calendar = calendar
        self.silence = silence
    }
}

/// A file `serve` tails (`follow:`).
package struct FollowedFile: Sendable, Hashable {
    package var path: String
    /// Nil: detected from the file's first bytes when it has some.
    package var format: InputFormat?

    package init(path: String, format: InputFormat?) {
        self.path = path
        self.format = format
    }
}

package struct Webhook: Sendable, Hashable {
    /// Tries per notification before it becomes a dead letter, unless `max_attempts` says otherwise.
    package static let defaultMaxAttempts = 8

    package var url: String
    /// The environment variable holding the HMAC secret; `serve` refuses to start when it is unset.
    package var secretEnv: String?
    /// Tries per notification (the first and the retries) before it becomes a dead letter.
    package var maxAttempts: Int
    /// Where a URL that has never been delivered to starts reading the outbox.
    package var from: Start

    /// `from:` — `now` (default): notifications made after the webhook was first served, so a
    /// webhook added to a running deployment is not flooded with its history; `start`: the whole
    /// outbox, oldest first.
    package enum Start: String, Sendable, Hashable, CaseIterable {
        case now, start
    }

    package init(url: String, secretEnv: String?, maxAttempts: Int = Webhook.defaultMaxAttempts, from: Start = .now) {
        self.url = url
        self.secretEnv = secretEnv
        self.maxAttempts = maxAttempts
        self.from = from
    }
}

package struct Token: Sendable, Hashable {
    package enum Role: String, Sendable, Hashable, CaseIterable {
        case pbx
        case agent
        case supervisor
        case admin
    }

    package var name: String
    package var role: Role
    package var agent: AgentID?
    package var departments: [DepartmentID]
    /// `sha256:<hex>`.
    package var hash: String

    package init(name: String, role: Role, agent: AgentID? = nil, departments: [DepartmentID] = [], hash: String) {
        self.name = name
        self.role = role
        self.agent = agent
        self.departments = departments
        self.hash = hash
    }
}

/// The input formats, by the names the CLI and the HTTP API use.
package enum InputFormat: String, Sendable, Hashable, CaseIterable {
    case asteriskCSV = "asterisk-csv"
    case asteriskQueueLog = "asterisk-queue-log"
    case asteriskCEL = "asterisk-cel"
    case freeswitchXMLCDR = "freeswitch-xml-cdr"
    case freeswitchEvents = "freeswitch-events"
    case ivrEvents = "ivr-events"
    case kamailioAcc = "kamailio-acc"

    /// One record per line, appended as calls end: the formats a file follower can tail.
    package var isLineOriented: Bool {
        switch self {
        case .asteriskCSV, .asteriskQueueLog, .asteriskCEL, .kamailioAcc: true
        case .freeswitchXMLCDR, .freeswitchEvents, .ivrEvents: false
        }
    }
}
