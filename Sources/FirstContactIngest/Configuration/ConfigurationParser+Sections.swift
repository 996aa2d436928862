import FirstContactCore

/// The `departments:` section as read.
struct DepartmentSection {
    var departments: [Department] = []
    /// Every department id written, also of departments with other errors (no cascades).
    var ids: [String] = []
    /// `head:` references, checked once the agents are known.
    var heads: [Located<String>] = []
}

/// The `agents:` section as read.
struct AgentSection {
    var agents: [Agent] = []
    var ids: [String] = []
}

extension ConfigurationParser {
    // MARK: asterisk

    /// `asterisk: {usegmtime, cdr_columns, cel_columns}`.
    mutating func asterisk(_ node: ConfigNode) -> AsteriskOptions {
        var options = AsteriskOptions()
        guard let fields = self.fields(node, allowed: ConfigurationKeys.asterisk) else { return options }
        if let value = fields["usegmtime"], let flag = self.bool(value) { options.usegmtime = flag }
        if let value = fields["cdr_columns"] {
            if case .scalar = value.node {
                if let text = self.text(value), text.value != "auto" {
                    self.report(value, "\"\(text.value)\" is not `auto` or a list of column names")
                }
            } else if let columns = self.textList(value) {
                if columns.isEmpty {
                    self.report(value, "a cdr_custom layout needs at least one column (or write `auto`)")
                }
                var seen: Set<String> = []
                for column in columns where !seen.insert(column.value).inserted {
                    self.report(column, "column \"\(column.value)\" is listed twice")
                }
                options.cdrColumns = columns.map(\.value)
            }
        }
        if let value = fields["cel_columns"] {
            if case .scalar = value.node {
                if let text = self.text(value), text.value != "default" {
                    self.report(value, "\"\(text.value)\" is not `default` or a list of CEL field names")
                }
            } else if let columns = self.textList(value) {
                for problem in AsteriskCELDecoder.problems(inColumns: columns.map(\.value)) {
                    self.report(value, "cel_columns: \(problem)")
                }
                options.celColumns = columns.map(\.value)
            }
        }
        return options
    }

    // MARK: departments

    /// `departments: [{id, name, head, queues, dids, calendar, SLAs, category}]`.
    mutating func departments(_ node: ConfigNode, calendars: CalendarSection) -> DepartmentSection {
        var section = DepartmentSection()
        guard let elements = self.list(node) else { return section }
        var firstLine: [String: Int] = [:]
        var queueOwners: [String: (department: String, line: Int)] = [:]
        var didOwners: [String: (department: String, line: Int)] = [:]
        for element in elements {
            guard let fields = self.fields(element, allowed: ConfigurationKeys.department),
                let idNode = self.required(fields, "id"), let id = self.identifier(idNode)
            else { continue }
            if let line = firstLine[id.value] {
                self.report(id, "department \"\(id.value)\" is already defined at line \(line)")
                continue
            }
            firstLine[id.value] = id.line
            section.ids.append(id.value)

            var department = Department(id: DepartmentID(id.value), name: id.value)
            if let value = fields["name"], let name = self.text(value) { department.name = name.value }
            if let value = fields["head"], let head = self.text(value) {
                department.head = AgentID(head.value)
                section.heads.append(head)
            }
            if let value = fields["queues"], let queues = self.textList(value) {
                self.claim(queues, kind: "queue", by: id.value, owners: &queueOwners)
                department.queues = queues.map(\.value)
            }
            if let value = fields["dids"], let dids = self.textList(value) {
                self.claim(dids, kind: "DID", by: id.value, owners: &didOwners)
                department.dids = dids.map(\.value)
            }
            if let value = fields["calendar"], let name = self.text(value),
                self.checkReference(name, kind: "calendar", known: calendars.names),
                let calendar = calendars.calendars[name.value]
            {
                department.hours = .calendar(calendar)
            }
            if let value = fields["category"],
                let category = self.choice(value, ContactCategory.self, what: "a contact category")
            {
                department.category = category
            }
            if let value = fields["callback_sla"], let seconds = self.duration(value) {
                department.callbackSLA = seconds
            }
            if let value = fields["handoff_ack_sla"], let seconds = self.duration(value) {
                department.handoffAckSLA = seconds
            }
            if let value = fields["handoff_sla"], let seconds = self.duration(value) { department.handoffSLA = seconds }
            if let value = fields["escalate_after"], let seconds = self.duration(value) {
                department.escalateAfter = seconds
            }
            if let value = fields["routing"],
                let routing = self.fields(value, allowed: ConfigurationKeys.departmentRouting),
                let enabled = routing["enabled"], let flag = self.bool(enabled)
            {
                department.routing = flag
            }
            section.departments.append(department)
        }
        return section
    }

    /// Records that `department` owns `names`; a name owned twice makes routing ambiguous.
    private mutating func claim(
        _ names: [Located<String>], kind: String, by department: String,
        owners: inout [String: (department: String, line: Int)]
    ) {
        for name in names {
            if let owner = owners[name.value] {
                let whose =
                    owner.department == department
                    ? "is listed twice" : "is already claimed by department \"\(owner.department)\""
                self.report(name, "\(kind) \"\(name.value)\" \(whose) (line \(owner.line))")
                continue
            }
            owners[name.value] = (department, name.line)
        }
    }

    // MARK: agents

    /// `agents: [{id, name, department, role, devices, extensions}]`.
    mutating func agents(_ node: ConfigNode, departmentIDs: [String]) -> AgentSection {
        var section = AgentSection()
        guard let elements = self.list(node) else { return section }
        var firstLine: [String: Int] = [:]
        // Channel names match case-insensitively (SPEC "Agents from channel names"), so two
        // devices differing only in case would make the same channel belong to two agents.
        var deviceOwners: [String: (agent: String, line: Int)] = [:]
        var extensionOwners: [String: (agent: String, line: Int)] = [:]
        for element in elements {
            guard let fields = self.fields(element, allowed: ConfigurationKeys.agent),
                let idNode = self.required(fields, "id"), let id = self.identifier(idNode)
            else { continue }
            if let line = firstLine[id.value] {
                self.report(id, "agent \"\(id.value)\" is already defined at line \(line)")
                continue
            }
            firstLine[id.value] = id.line
            section.ids.append(id.value)

            var department = ""
            if let value = self.required(fields, "department"), let reference = self.text(value) {
                self.checkReference(reference, kind: "department", known: departmentIDs)
                department = reference.value
            }
            var agent = Agent(id: AgentID(id.value), name: id.value, department: DepartmentID(department))
            if let value = fields["name"], let name = self.text(value) { agent.name = name.value }
            if let value = fields["role"], let role = self.choice(value, Agent.Role.self, what: "an agent role") {
                agent.role = role
            }
            if let value = fields["devices"], let devices = self.textList(value) {
                for device in devices {
                    let key = device.value.lowercased()
                    if let owner = deviceOwners[key] {
                        let whose =
                            owner.agent == id.value ? "is listed twice" : "already belongs to agent \"\(owner.agent)\""
                        self.report(device, "device \"\(device.value)\" \(whose) (line \(owner.line))")
                        continue
                    }
                    deviceOwners[key] = (id.value, device.line)
                }
                agent.devices = devices.map(\.value)
            }
            // The default extension is the id itself, so it takes part in the duplicate check too.
            var extensions = [id]
            if let value = fields["extensions"], let written = self.textList(value) {
                extensions = written
                agent.extensions = written.map(\.value)
            }
            for number in extensions {
                if let owner = extensionOwners[number.value] {
                    let whose = owner.agent == id.value ? "is listed twice" : "already reaches agent \"\(owner.agent)\""
                    self.report(number, "extension \"\(number.value)\" \(whose) (line \(owner.line))")
                    continue
                }
                extensionOwners[number.value] = (id.value, number.line)
            }
            section.agents.append(agent)
        }
        return section
    }

    // MARK: ivr

    /// `ivr: {"1": {department, category}, "9": {callback: true}}`.
    mutating func ivr(_ node: ConfigNode, departmentIDs: [String]) -> [String: IVRRoute] {
        var routes: [String: IVRRoute] = [:]
        guard let entries = self.pairs(node) else { return routes }
        for (digit, value) in entries {
            guard digit.value.count == 1, let character = digit.value.first, "0123456789*#".contains(character) else {
                self.report(digit, "\"\(digit.value)\" is not a menu key (use one of 0-9, * or #, quoted)")
                continue
            }
            guard let fields = self.fields(value, allowed: ConfigurationKeys.ivrRoute) else { continue }
            var route = IVRRoute()
            if let department = fields["department"], let reference = self.text(department),
                self.checkReference(reference, kind: "department", known: departmentIDs)
            {
                route.department = DepartmentID(reference.value)
            }
            if let category = fields["category"] {
                route.category = self.choice(category, ContactCategory.self, what: "a contact category")
            }
            if let callback = fields["callback"], let flag = self.bool(callback) { route.callback = flag }
            if fields["department"] == nil, fields["category"] == nil, fields["callback"] == nil {
                self.report(
                    value,
                    "menu key \"\(digit.value)\" routes nowhere (give a department, a category or `callback: true`)")
            }
            routes[digit.value] = route
        }
        return routes
    }

    // MARK: policy, http

    /// `policy: {abandon_grace, repeat_window, auto_close, max_attempts, lateness, max_transfers, at_risk,
    /// retention}`.
    mutating func policy(_ node: ConfigNode) -> Policy {
        var policy = Policy()
        guard let fields = self.fields(node, allowed: ConfigurationKeys.policy) else { return policy }
        // A zero grace, window or lateness switches that rule off; an auto-close of zero would
        // close every contact the moment it opens.
        if let value = fields["abandon_grace"], let seconds = self.duration(value, allowZero: true) {
            policy.abandonGrace = seconds
        }
        if let value = fields["repeat_window"], let seconds = self.duration(value, allowZero: true) {
            policy.repeatWindow = seconds
        }
        if let value = fields["auto_close"], let seconds = self.duration(value) { policy.autoClose = seconds }
        if let value = fields["lateness"], let seconds = self.duration(value, allowZero: true) {
            policy.lateness = seconds
        }
        if let value = fields["max_attempts"], let count = self.integer(value, in: 1...100) {
            policy.maxAttempts = count
        }
        if let value = fields["max_transfers"], let count = self.integer(value, in: 0...100) {
            policy.maxTransfers = count
        }
        if let value = fields["at_risk"], let percent = self.percentage(value) { policy.atRiskPercent = percent }
        if let value = fields["retention"], let seconds = self.duration(value) {
            // A purged contact must be one no later contact can still name as `repeat_of`, and
            // whose clocks and late records have all come in.
            let needed = policy.autoClose + policy.repeatWindow + policy.lateness
            if seconds <= needed {
                self.report(
                    value,
                    "retention \"\(self.text(value)?.value ?? "")\" must be longer than auto_close + repeat_window + lateness (\(needed / 3600)h\(needed % 3600 / 60)m): a contact is kept while a later one may still name it as repeat_of"
                )
            } else {
                policy.retention = seconds
            }
        }
        return policy
    }

    /// `80%` (or a bare `80`), between 1 and 100.
    private mutating func percentage(_ node: ConfigNode) -> Int? {
        guard let text = self.text(node) else { return nil }
        let digits = text.value.hasSuffix("%") ? String(text.value.dropLast()) : text.value
        guard let value = Int(digits.trimmingSpaces), (1...100).contains(value) else {
            self.report(node, "\"\(text.value)\" is not a percentage from 1% to 100% (e.g. 80%)")
            return nil
        }
        return value
    }

    /// `http: {host, port, max_body, max_streams_per_token, max_connections, sign_in_attempts, sign_in_window,
    /// request_timeout}`.
    mutating func http(_ node: ConfigNode) -> HTTPOptions {
        var options = HTTPOptions()
        guard let fields = self.fields(node, allowed: ConfigurationKeys.http) else { return options }
        if let value = fields["host"], let host = self.text(value) {
            if host.value.isEmpty || host.value.contains(where: \.isWhitespace) {
                self.report(value, "\"\(host.value)\" is not a host name or address")
            } else {
                options.host = host.value
            }
        }
        // Port 0 asks the system for a free port, which tests and side-by-side instances use.
        if let value = fields["port"], let port = self.integer(value, in: 0...65_535) { options.port = port }
        if let value = fields["max_body"], let bytes = self.byteSize(value) { options.maxBody = bytes }
        if let value = fields["max_streams_per_token"], let count = self.integer(value, in: 1...10_000) {
            options.maxStreamsPerToken = count
        }
        if let value = fields["max_connections"], let count = self.integer(value, in: 1...1_000_000) {
            options.maxConnections = count
        }
        if let value = fields["sign_in_attempts"], let count = self.integer(value, in: 1...10_000) {
            options.signInAttempts = count
        }
        if let value = fields["sign_in_window"], let seconds = self.duration(value, allowZero: false) {
            options.signInWindow = seconds
        }
        if let value = fields["request_timeout"], let seconds = self.duration(value, allowZero: false) {
            options.requestTimeout = seconds
        }
        return options
    }

    /// `ingest: {max_rejects_per_source}`.
    mutating func ingest(_ node: ConfigNode) -> IngestOptions {
        var options = IngestOptions()
        guard let fields = self.fields(node, allowed: ConfigurationKeys.ingest) else { return options }
        if let value = fields["max_rejects_per_source"], let limit = self.integer(value, in: 0...100_000_000) {
            options.maxRejectsPerSource = limit
        }
        return options
    }

    /// `ui: {language}`.
    mutating func ui(_ node: ConfigNode) -> UIOptions {
        var options = UIOptions()
        guard let fields = self.fields(node, allowed: ConfigurationKeys.ui) else { return options }
        if let value = fields["language"],
            let language = self.choice(value, Language.self, what: "a language the interface is written in")
        {
            options.language = language
        }
        return options
    }

    /// `storage: {min_free}`.
    mutating func storage(_ node: ConfigNode) -> StorageOptions {
        var options = StorageOptions()
        guard let fields = self.fields(node, allowed: ConfigurationKeys.storage) else { return options }
        if let value = fields["min_free"], let bytes = self.byteSize(value, allowZero: true) { options.minFree = bytes }
        return options
    }

    /// `routing: {enabled, ring_first}`: a `routing:` section turns routing on unless it says
    /// `enabled: false`. `ring_first` is how long the agent rings before the queue: at least a
    /// second, at most 5 minutes (a caller left ringing longer has been let down by the queue too).
    /// A bare number is seconds, as in the dialplan's `Dial(…,15)` and the answer's `ring_first=15`.
    mutating func routing(_ node: ConfigNode) -> RoutingOptions {
        var options = RoutingOptions(enabled: true)
        guard let fields = self.fields(node, allowed: ConfigurationKeys.routing) else { return options }
        if let value = fields["enabled"], let flag = self.bool(value) { options.enabled = flag }
        if let value = fields["ring_first"], let seconds = value.wholeNumber.map(Int64.init) ?? self.duration(value) {
            if seconds == 0 {
                self.report(value, "\"0\" must be longer than zero")
            } else if seconds > 300 {
                self.report(value, "ring_first must be at most 5m (the caller waits that long before the queue)")
            } else {
                options.ringFirst = seconds
            }
        }
        return options
    }

    /// `10MB`, `512KB`, `1GB`, `1GiB`, `1TB` (powers of 1024, as the 10 MB default is: `GB` and
    /// `GiB` are the same size) or a plain byte count.
    /// - Parameter allowZero: whether `0` is a size (a threshold turned off), not a mistake.
    private mutating func byteSize(_ node: ConfigNode, allowZero: Bool = false) -> Int? {
        guard let text = self.text(node) else { return nil }
        let compact = text.value.filter { $0 != " " }.uppercased()
        // Longest suffix first, so `10MB` is not read as `10M` + `B`, nor `1GIB` as `1GI` + `B`.
        let units: [(suffix: String, factor: Int)] = [
            ("TIB", 1 << 40), ("GIB", 1 << 30), ("MIB", 1 << 20), ("KIB", 1 << 10),
            ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10),
            ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1),
        ]
        var number = compact
        var factor = 1
        for unit in units where compact.hasSuffix(unit.suffix) {
            number = String(compact.dropLast(unit.suffix.count))
            factor = unit.factor
            break
        }
        guard let value = Int(number), value > 0 || (allowZero && value == 0) else {
            let examples =
                allowZero ? "1GB, 500MB, 1GiB, a number of bytes, or 0 for none" : "10MB, 512KB or a number of bytes"
            self.report(node, "\"\(text.value)\" is not a size (use e.g. \(examples))")
            return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow else {
            self.report(node, "\"\(text.value)\" is too large")
            return nil
        }
        return bytes
    }

    // MARK: feeds, follow, webhooks

    /// `feeds: [{name, source, calendar, silence}]`.
    mutating func feeds(_ node: ConfigNode, calendarNames: [String]) -> [Feed] {
        var feeds: [Feed] = []
        guard let elements = self.list(node) else { return feeds }
        var firstLine: [String: Int] = [:]
        for element in elements {
            guard let fields = self.fields(element, allowed: ConfigurationKeys.feed) else { continue }
            let name = self.required(fields, "name").flatMap { self.identifier($0) }
            let source = self.required(fields, "source").flatMap { self.text($0) }
            var calendar: String?
            if let value = fields["calendar"], let reference = self.text(value),
                self.checkReference(reference, kind: "calendar", known: calendarNames)
            {
                calendar = reference.value
            }
            let silence = fields["silence"].flatMap { self.duration($0) } ?? Feed.defaultSilence
            guard let name, let source else { continue }
            if let line = firstLine[name.value] {
                self.report(name, "feed \"\(name.value)\" is already defined at line \(line)")
                continue
            }
            firstLine[name.value] = name.line
            feeds.append(Feed(name: name.value, source: source.value, calendar: calendar, silence: silence))
        }
        return feeds
    }

    /// `follow: [{path, format}]`; `format` is optional (detected from the file's first bytes).
    mutating func follow(_ node: ConfigNode) -> [FollowedFile] {
        var files: [FollowedFile] = []
        guard let elements = self.list(node) else { return files }
        var firstLine: [String: Int] = [:]
        for element in elements {
            guard let fields = self.fields(element, allowed: ConfigurationKeys.follow) else { continue }
            let path = self.required(fields, "path").flatMap { self.text($0) }
            var format: InputFormat?
            if let node = fields["format"] {
                guard let chosen = self.choice(node, InputFormat.self, what: "an input format") else { continue }
                guard chosen.isLineOriented else {
                    let lines = InputFormat.allCases.filter(\.isLineOriented).map(\.rawValue).joined(separator: ", ")
                    self.report(
                        node,
                        "\(chosen.rawValue) is not a line-by-line format and cannot be followed (use \(lines); POST it to /v1/ingest/\(chosen.rawValue) instead)"
                    )
                    continue
                }
                format = chosen
            }
            guard let path else { continue }
            guard path.value.hasPrefix("/") else {
                // serve may run from any directory (systemd runs it from /): a relative path would follow another file.
                self.report(path, "follow path \"\(path.value)\" must be absolute")
                continue
            }
            // Two followers on one file would each checkpoint it and ingest every line twice.
            if let line = firstLine[path.value] {
                self.report(path, "\"\(path.value)\" is already followed (line \(line))")
                continue
            }
            firstLine[path.value] = path.line
            files.append(FollowedFile(path: path.value, format: format))
        }
        return files
    }

    /// `webhooks: [{url, secret_env, max_attempts, from: now|start}]`.
    mutating func webhooks(_ node: ConfigNode) -> [Webhook] {
        var hooks: [Webhook] = []
        guard let elements = self.list(node) else { return hooks }
        for element in elements {
            guard let fields = self.fields(element, allowed: ConfigurationKeys.webhook) else { continue }
            var url = self.required(fields, "url").flatMap { self.text($0) }
            if let written = url {
                let lower = written.value.lowercased()
                let scheme = lower.hasPrefix("https://") ? 8 : lower.hasPrefix("http://") ? 7 : 0
                if scheme == 0 || written.value.count <= scheme || written.value.contains(where: \.isWhitespace) {
                    self.report(written, "\"\(written.value)\" is not an http:// or https:// URL")
                    url = nil
                }
            }
            var secretEnv: String?
            if let value = fields["secret_env"], let name = self.text(value) {
                if Self.isEnvironmentName(name.value) {
                    secretEnv = name.value
                } else {
                    self.report(name, "\"\(name.value)\" is not an environment variable name (letters, digits, _)")
                }
            }
            let maxAttempts =
                fields["max_attempts"].flatMap { self.integer($0, in: 1...100) } ?? Webhook.defaultMaxAttempts
            let from = fields["from"].flatMap { self.choice($0, Webhook.Start.self, what: "from") } ?? .now
            guard let url else { continue }
            hooks.append(Webhook(url: url.value, secretEnv: secretEnv, maxAttempts: maxAttempts, from: from))
        }
        return hooks
    }

    private static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else {
            return false
        }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }

    // MARK: tokens

    /// `tokens: [{name, role, agent, departments, hash}]`.
    mutating func tokens(_ node: ConfigNode, agentIDs: [String], departmentIDs: [String]) -> [Token] {
        var tokens: [Token] = []
        guard let elements = self.list(node) else { return tokens }
        var nameLines: [String: Int] = [:]
        var hashOwners: [String: (token: String, line: Int)] = [:]
        for element in elements {
            guard let fields = self.fields(element, allowed: ConfigurationKeys.token) else { continue }
            let name = self.required(fields, "name").flatMap { self.identifier($0) }
            let role = self.required(fields, "role").flatMap { self.choice($0, Token.Role.self, what: "a token role") }
            var agent: AgentID?
            if let value = fields["agent"], let reference = self.text(value),
                self.checkReference(reference, kind: "agent", known: agentIDs)
            {
                agent = AgentID(reference.value)
            }
            var departments: [DepartmentID] = []
            if let value = fields["departments"], let references = self.textList(value) {
                for reference in references
                where self.checkReference(reference, kind: "department", known: departmentIDs) {
                    departments.append(DepartmentID(reference.value))
                }
            }
            // A token without its scope would silently see nothing; say so instead.
            if role == .agent, fields["agent"] == nil {
                self.report(fields.owner, "an agent token needs `agent` (the agent id it acts as)")
            }
            if role == .supervisor, fields["departments"] == nil {
                self.report(fields.owner, "a supervisor token needs `departments` (the departments it oversees)")
            }
            let hash = self.required(fields, "hash").flatMap { self.tokenHash($0) }
            guard let name, let role, let hash else { continue }
            if let line = nameLines[name.value] {
                self.report(name, "token \"\(name.value)\" is already defined at line \(line)")
                continue
            }
            nameLines[name.value] = name.line
            // Two tokens with one secret would make the caller's role ambiguous.
            if let owner = hashOwners[hash.value] {
                self.report(
                    hash, "same hash as token \"\(owner.token)\" (line \(owner.line)); each token needs its own secret")
                continue
            }
            hashOwners[hash.value] = (name.value, hash.line)
            tokens.append(Token(name: name.value, role: role, agent: agent, departments: departments, hash: hash.value))
        }
        return tokens
    }

    /// `sha256:` and 64 hex digits, returned in lower case so comparisons need no folding.
    private mutating func tokenHash(_ node: ConfigNode) -> Located<String>? {
        guard let text = self.text(node) else { return nil }
        let prefix = "sha256:"
        let hex = text.value.hasPrefix(prefix) ? String(text.value.dropFirst(prefix.count)) : ""
        guard hex.utf8.count == 64, hex.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isASCIIHexDigit })
        else {
            self.report(
                node,
                "token hash must be \"sha256:\" and 64 hex digits (printf %s TOKEN | sha256sum), never the token itself"
            )
            return nil
        }
        return text.with(prefix + hex.lowercased())
    }
}

extension String {
    /// Without leading and trailing spaces (Foundation-free: Core-style helpers stay portable).
    fileprivate var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
