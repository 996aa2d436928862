/// Lookups from what the PBX writes (channel names, member names, numbers, queue names)
/// to the configuration's agents and departments. Built once per configuration.
package struct Directory: Sendable {
    package let configuration: FirstContactConfiguration
    package let normaliser: NumberNormaliser
    private let agentsByID: [AgentID: Agent]
    private let departmentsByID: [DepartmentID: Department]
    private let agentByDevice: [String: AgentID]
    private let agentByExactDevice: [String: AgentID]
    private let agentByMemberName: [String: AgentID]
    private let agentByExtension: [String: AgentID]
    /// FreeSWITCH directory users named by `user/ID` and `user/ID@domain` devices, keyed by
    /// lower-cased `ID` and `ID@domain` (``agent(forDirectoryUser:domain:)``).
    private let agentByDirectoryUser: [String: AgentID]
    private let departmentByQueue: [String: DepartmentID]
    private let departmentByDID: [String: DepartmentID]
    private let hotlineNumbers: Set<String>
    private let inboundContexts: Set<String>

    package init(configuration: FirstContactConfiguration) {
        self.configuration = configuration
        self.normaliser = NumberNormaliser(
            countryCode: configuration.countryCode,
            nationalPrefix: configuration.nationalPrefix,
            outboundPrefix: configuration.outboundPrefix
        )
        var agentsByID: [AgentID: Agent] = [:]
        var byDevice: [String: AgentID] = [:]
        var byExactDevice: [String: AgentID] = [:]
        var byMember: [String: AgentID] = [:]
        var byExtension: [String: AgentID] = [:]
        var byDirectoryUser: [String: AgentID] = [:]
        for agent in configuration.agents {
            agentsByID[agent.id] = agent
            for device in agent.devices {
                let key = Self.deviceKey(device)
                byDevice[key] = agent.id
                byExactDevice[Self.withoutSuffix(device)] = agent.id
                if key.hasPrefix("user/"), key.count > 5 {
                    let user = String(key.dropFirst(5))
                    byDirectoryUser[user] = agent.id
                    if let at = user.firstIndex(of: "@"), byDirectoryUser[String(user[..<at])] == nil {
                        byDirectoryUser[String(user[..<at])] = agent.id
                    }
                }
            }
            for ext in agent.extensions { byExtension[ext] = agent.id }
            byMember[agent.id.rawValue.lowercased()] = agent.id
            byMember[agent.name.lowercased()] = agent.id
        }
        var departmentsByID: [DepartmentID: Department] = [:]
        var byQueue: [String: DepartmentID] = [:]
        var byDID: [String: DepartmentID] = [:]
        for department in configuration.departments {
            departmentsByID[department.id] = department
            for queue in department.queues { byQueue[queue.lowercased()] = department.id }
            for did in department.dids { byDID[did] = department.id }
        }
        self.agentsByID = agentsByID
        self.departmentsByID = departmentsByID
        self.agentByDevice = byDevice
        self.agentByExactDevice = byExactDevice
        self.agentByMemberName = byMember
        self.agentByExtension = byExtension
        self.agentByDirectoryUser = byDirectoryUser
        self.departmentByQueue = byQueue
        self.departmentByDID = byDID
        self.hotlineNumbers = Set(configuration.hotlineNumbers)
        self.inboundContexts = Set(configuration.inboundContexts.map { $0.lowercased() })
    }

    package var policy: Policy { self.configuration.policy }

    package func agent(_ id: AgentID) -> Agent? { self.agentsByID[id] }
    package func department(_ id: DepartmentID) -> Department? { self.departmentsByID[id] }

    /// `1001 张敏`: an agent's id and name, for tables and messages.
    package func label(_ agent: AgentID) -> String {
        self.agentsByID[agent].map { "\(agent) \($0.name)" } ?? agent.rawValue
    }

    /// The department an agent sits in.
    package func departmentOf(_ agent: AgentID) -> DepartmentID? { self.agentsByID[agent]?.department }

    /// The hours a department's clocks run in (24/7 when the department is unknown).
    package func hours(of department: DepartmentID) -> BusinessHours {
        self.departmentsByID[department]?.hours ?? .always
    }

    /// Where an unrouted call lands: the department that owns a hotline number, else the first one.
    package var fallbackDepartment: DepartmentID? {
        for number in self.configuration.hotlineNumbers {
            if let department = self.departmentByDID[number] { return department }
        }
        return self.configuration.departments.first?.id
    }

    /// The agent behind a channel name, e.g. `PJSIP/1001-0000002a`, `Local/1001@agents-00000003;2`,
    /// `sofia/internal/1001@pbx.example`.
    package func agent(forChannel channel: String) -> AgentID? {
        guard !channel.isEmpty else { return nil }
        return self.agent(forChannel: channel, cut: Self.withoutSuffix(channel))
    }

    /// ``agent(forChannel:)`` with the channel's suffixes already cut (`bare`).
    private func agent(forChannel channel: String, cut bare: String) -> AgentID? {
        // Fast path: the channel as the PBX wrote it, minus its suffix, with the configured case
        // (most PBXs keep it); lower-casing every channel was a visible cost of re-assembly.
        if let agent = self.agentByExactDevice[bare] { return agent }
        let key = bare.lowercased()
        if let agent = self.agentByDevice[key] { return agent }
        if let at = key.lastIndex(of: "@"), let agent = self.agentByDevice[String(key[..<at])] { return agent }
        // A SIP URI (what a SIP proxy writes): its user part names the agent's `sip:USER` device
        // or extension, whatever host, port or parameters follow.
        if let user = Self.sipUser(channel) {
            return self.agentByDevice["sip:\(user.lowercased())"] ?? self.agentByExtension[user]
        }
        // The phone of a FreeSWITCH directory user (`sofia/internal/1001@pbx.example`) is the
        // device `user/1001` FreeSWITCH dials it by, whatever sofia profile it registered on.
        if !self.agentByDirectoryUser.isEmpty, let (user, domain) = Self.sofiaUser(key) {
            return self.agent(forDirectoryUser: user, domain: domain)
        }
        return nil
    }

    /// The agent whose `user/ID` (or `user/ID@domain`) device names this FreeSWITCH directory
    /// user, from a leg's `user_name` and `domain_name` variables or its sofia channel name.
    /// A device with a domain wins over one without for a user known in several domains.
    package func agent(forDirectoryUser user: String, domain: String?) -> AgentID? {
        guard !user.isEmpty else { return nil }
        let id = user.lowercased()
        if let domain, !domain.isEmpty, let agent = self.agentByDirectoryUser["\(id)@\(domain.lowercased())"] {
            return agent
        }
        return self.agentByDirectoryUser[id]
    }

    /// `sofia/<profile>/ID@domain` (lower-cased) → (`ID`, `domain`); nil for gateway channels
    /// (`sofia/gateway/<gw>/<number>`), which are trunks, and for other technologies.
    static func sofiaUser(_ key: String) -> (user: String, domain: String?)? {
        guard key.hasPrefix("sofia/") else { return nil }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] != "gateway", !parts[2].isEmpty else { return nil }
        // A leg FreeSWITCH dialled at a registered contact is named by its URI: `sip:1001@host:port`.
        var address = parts[2]
        if address.hasPrefix("sip:") {
            address = address.dropFirst(4)
        } else if address.hasPrefix("sips:") {
            address = address.dropFirst(5)
        }
        guard let at = address.firstIndex(of: "@") else { return (String(address), nil) }
        let user = address[..<at]
        guard !user.isEmpty else { return nil }
        return (String(user), String(address[address.index(after: at)...]))
    }

    /// The user part of `sip:USER@host…` / `sips:…`, or of `sip:USER` without a host (a bare
    /// user, as proxies log `$rU`); nil for other names and for `sip:host:port`, which has none.
    static func sipUser(_ uri: String) -> String? {
        // Byte checks first: this runs for every channel that is not an agent's (hot path).
        guard let first = uri.utf8.first, first | 0x20 == UInt8(ascii: "s") else { return nil }
        let bytes = Array(uri.utf8.prefix(5)).map { $0 | 0x20 }  // ASCII lower case
        let rest: Substring
        if bytes.starts(with: Array("sip:".utf8)) {
            rest = uri.dropFirst(4)
        } else if bytes == Array("sips:".utf8) {
            rest = uri.dropFirst(5)
        } else {
            return nil
        }
        var user: Substring
        if let at = rest.firstIndex(of: "@") {
            user = rest[..<at]
            // `user:password@host` (RFC 3261 userinfo) and `user;param@host`.
            if let colon = user.firstIndex(of: ":") { user = user[..<colon] }
        } else {
            // Without `@` the part is a host unless it looks like a bare user (no dot, no port).
            user = rest.prefix { $0 != ";" && $0 != ">" }
            if user.contains(".") || user.contains(":") { return nil }
        }
        if let semicolon = user.firstIndex(of: ";") { user = user[..<semicolon] }
        return user.isEmpty ? nil : String(user)
    }

    /// The agent behind a queue member name or mod_callcenter agent name (`1001@default`).
    package func agent(forMember member: String) -> AgentID? {
        guard !member.isEmpty else { return nil }
        if let agent = self.agent(forChannel: member) { return agent }
        let lowered = member.lowercased()
        if let agent = self.agentByMemberName[lowered] { return agent }
        if let at = lowered.firstIndex(of: "@"), let agent = self.agentByMemberName[String(lowered[..<at])] {
            return agent
        }
        return nil
    }

    /// The agent whose extension this is.
    package func agent(forExtension number: String) -> AgentID? { self.agentByExtension[number] }

    /// The department owning a queue (`hotline` or `hotline@default`).
    package func department(forQueue queue: String) -> DepartmentID? {
        let lowered = queue.lowercased()
        if let department = self.departmentByQueue[lowered] { return department }
        if let at = lowered.firstIndex(of: "@") { return self.departmentByQueue[String(lowered[..<at])] }
        return nil
    }

    package func department(forDID number: String) -> DepartmentID? { self.departmentByDID[number] }

    package func isHotlineNumber(_ number: String) -> Bool {
        self.hotlineNumbers.contains(number) || self.departmentByDID[number] != nil
    }

    /// A dialled number without the digits agents dial to get an outside line.
    package func stripOutboundPrefix(_ number: String) -> String {
        let prefix = self.configuration.outboundPrefix
        guard !prefix.isEmpty, number.hasPrefix(prefix), number.count > prefix.count else { return number }
        return String(number.dropFirst(prefix.count))
    }

    package func isInboundContext(_ context: String) -> Bool { self.inboundContexts.contains(context.lowercased()) }

    /// Channel name → device key: lower-cased, without `;1`/`;2` and Asterisk's `-XXXXXXXX` suffix.
    package static func deviceKey(_ channel: String) -> String {
        Self.withoutSuffix(channel).lowercased()
    }

    /// A channel name without `;1`/`;2` and Asterisk's `-XXXXXXXX` suffix, case kept.
    ///
    /// Runs for every leg's channel and peer channel, several times per call assembled; the
    /// markers are ASCII, so it scans bytes: scanning by `Character` put 4.5 % of a 1M-call day's
    /// ingest into grapheme breaking (BENCHMARKS.md, the 1M-call day). A channel with nothing to
    /// cut is returned as it is, without a copy.
    static func withoutSuffix(_ channel: String) -> String {
        let utf8 = channel.utf8
        var end = utf8.endIndex
        if utf8.count >= 2 {
            let last = utf8.index(before: end)
            let semicolon = utf8.index(before: last)
            if utf8[semicolon] == UInt8(ascii: ";"), utf8[last] == UInt8(ascii: "1") || utf8[last] == UInt8(ascii: "2")
            {
                end = semicolon
            }
        }
        if let slash = utf8[..<end].firstIndex(of: UInt8(ascii: "/")),
            let dash = utf8[..<end].lastIndex(of: UInt8(ascii: "-")), dash > slash
        {
            let suffix = utf8[utf8.index(after: dash)..<end]
            if !suffix.isEmpty, suffix.allSatisfy(\.isASCIIHexDigit) { end = dash }
        }
        return end == utf8.endIndex ? channel : String(decoding: utf8[..<end], as: UTF8.self)
    }
}

// MARK: - Unmatched devices

extension Directory {
    /// The device of a leg placed from what looks like an internal phone that matches no agent
    /// (its context is not an inbound one, or it is a registered sofia user outside the external
    /// profile), by device key; nil when the leg is an agent's, a trunk's or dialplan plumbing.
    /// A wiring gap seen on the first day: such a phone's callbacks would never count.
    package func unmatchedPhone(_ leg: LegRecord) -> String? {
        let channel = leg.channel
        guard !channel.isEmpty else { return nil }
        let bare = Self.withoutSuffix(channel)
        guard self.agent(forChannel: channel, cut: bare) == nil else { return nil }
        let key = bare.lowercased()
        if key.hasPrefix("local/") || key.hasPrefix("loopback/") || key.hasPrefix("dahdi/") { return nil }
        if let (_, _) = Self.sofiaUser(key) {
            return key.hasPrefix("sofia/external/") ? nil : key
        }
        if key.hasPrefix("sofia/") { return nil }  // gateways
        guard !leg.context.isEmpty, !self.inboundContexts.isEmpty, !self.isInboundContext(leg.context) else {
            return nil
        }
        return key
    }
}

/// Legs from internal-looking phones that matched no agent, by device (``Directory/unmatchedPhone(_:)``).
package struct UnmatchedDevices: Hashable, Sendable {
    package private(set) var legs: [String: Int] = [:]

    package init() {}

    package mutating func count(_ records: [IngestRecord], directory: Directory) {
        for case .record(.leg(let leg)) in records {
            if let device = directory.unmatchedPhone(leg) { self.legs[device, default: 0] += 1 }
        }
    }

    /// Most legs first, then by name.
    package var sorted: [(device: String, legs: Int)] {
        self.legs.map { (device: $0.key, legs: $0.value) }.sorted { ($1.legs, $0.device) < ($0.legs, $1.device) }
    }
}
