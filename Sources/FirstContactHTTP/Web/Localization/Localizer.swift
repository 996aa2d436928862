import FirstContactCore

/// The catalogue in one language: phrases with their arguments, the product's vocabulary, local
/// dates and durations. English shows the vocabulary by its exported names (what the API, the
/// exports and the CLI's options spell); Chinese by the rule's own terms.
package struct Localizer: Sendable {
    package let language: Language

    package init(_ language: Language) { self.language = language }

    /// The phrase with `{1}`, `{2}` … replaced by `arguments` (plain text; escape it for HTML).
    package func callAsFunction(_ phrase: Phrase, _ arguments: String...) -> String {
        Self.fill(Catalogue.text(phrase, in: self.language), arguments)
    }

    /// The phrase as HTML: its own text escaped, `arguments` inserted as they are (markup the
    /// caller built and escaped already).
    package func html(_ phrase: Phrase, _ arguments: String...) -> String {
        Self.fill(HTML.escape(Catalogue.text(phrase, in: self.language)), arguments)
    }

    /// Replaces `{n}` with the n-th argument; a template never holds more than nine.
    package static func fill(_ template: String, _ arguments: [String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let digit = rest.index(after: open)
            guard digit < rest.endIndex, let n = rest[digit].wholeNumberValue, n >= 1, n <= arguments.count,
                case let close = rest.index(after: digit), close < rest.endIndex, rest[close] == "}"
            else {
                out += "{"
                rest = rest[digit...]
                continue
            }
            out += arguments[n - 1]
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// The placeholders a template uses (`{1}` → 1), for the catalogue's completeness test.
    package static func placeholders(_ template: String) -> Set<Int> {
        var found: Set<Int> = []
        let characters = Array(template)
        for i in characters.indices.dropLast(2) where characters[i] == "{" && characters[i + 2] == "}" {
            if let n = characters[i + 1].wholeNumberValue { found.insert(n) }
        }
        return found
    }

    // MARK: Dates and durations

    /// A local wall time to the minute: `2026-11-27 14:05`, `2026年11月27日 14:05`.
    package func time(_ time: Timestamp?, zone: ZoneRules) -> String {
        guard let time else { return "-" }
        let local = zone.local(time)
        switch self.language {
        case .english:
            return String(local.asteriskText.prefix(16))
        case .chinese:
            let clock = String(local.time.iso.prefix(5))
            return "\(local.date.year)年\(local.date.month)月\(local.date.day)日 \(clock)"
        }
    }

    /// A span to the minute: `3h 12m`, `12m`; `3小时12分`, `12分`.
    package func duration(_ seconds: Int64?) -> String {
        guard let seconds else { return "–" }
        let (hours, minutes) = (seconds / 3600, seconds % 3600 / 60)
        switch self.language {
        case .english: return seconds < 3600 ? "\(seconds / 60)m" : "\(hours)h \(minutes)m"
        case .chinese: return seconds < 3600 ? "\(seconds / 60)分" : "\(hours)小时\(minutes)分"
        }
    }

    /// Units and separator the pages' script writes countdowns with (`2d 3h 4m`, `2天3小时4分`).
    package var durationUnits: (day: String, hour: String, minute: String, second: String, separator: String) {
        switch self.language {
        case .english: ("d", "h", "m", "s", " ")
        case .chinese: ("天", "小时", "分", "秒", "")
        }
    }

    // MARK: Vocabulary

    /// A language by its own name, for the switch between them.
    package static func autonym(_ language: Language) -> String {
        switch language {
        case .english: "English"
        case .chinese: "中文"
        }
    }

    package func label(_ kind: ObligationKind) -> String {
        switch (self.language, kind) {
        case (.english, .callback): "callback"
        case (.english, .handoff): "hand-off"
        case (.chinese, .callback): "回电"
        case (.chinese, .handoff): "转交"
        }
    }

    package func label(_ state: ObligationState) -> String {
        guard self.language == .chinese else { return state.rawValue }
        return switch state {
        case .pending: "待办"
        case .satisfied: "已办结（按时）"
        case .satisfiedLate: "已办结（超时）"
        case .breached: "已超时"
        case .exhausted: "多次未接通"
        case .cancelled: "已取消"
        }
    }

    package func label(_ status: ContactStatus) -> String {
        guard self.language == .chinese else { return status.rawValue }
        return switch status {
        case .open: "办理中"
        case .awaitingCallback: "待回电"
        case .handedOff: "已转交"
        case .resolved: "已办结"
        case .referredOut: "非本公司业务，已解释引导"
        case .closed: "已关闭"
        }
    }

    package func label(_ category: ContactCategory) -> String {
        guard self.language == .chinese else { return category.rawValue }
        return switch category {
        case .service: "办理业务"
        case .consultation: "咨询"
        case .inquiry: "查询"
        case .complaint: "投诉"
        case .instruction: "请示"
        case .notice: "告知"
        case .report: "通报"
        }
    }

    package func label(_ channel: ContactChannel) -> String {
        guard self.language == .chinese else { return channel.rawValue }
        return switch channel {
        case .phone: "电话"
        case .visit: "来访"
        case .letter: "信函"
        }
    }

    package func label(_ via: BindingVia) -> String {
        guard self.language == .chinese else { return via.rawValue }
        return switch via {
        case .inbound: "来电接听"
        case .callback: "回电"
        case .manual: "人工登记"
        case .reassigned: "改派"
        }
    }

    package func label(_ category: ViolationCategory) -> String {
        guard self.language == .chinese else { return category.rawValue }
        return switch category {
        case .notHandledInTime: "未及时处理"
        case .notHandedOver: "未及时汇报或移交"
        case .handoffStalled: "办理不及时、久拖不决"
        case .poorService: "冷漠对待、未明确告知"
        case .passedAround: "推诿"
        case .notEscalated: "不请示、不汇报"
        case .complaint: "投诉"
        }
    }

    package func label(_ decision: ViolationReview.Decision) -> String {
        guard self.language == .chinese else { return decision.rawValue }
        return switch decision {
        case .accept: "查实"
        case .excuse: "免责"
        case .dismiss: "不成立"
        }
    }

    package func label(_ role: Token.Role) -> String {
        guard self.language == .chinese else { return role.rawValue }
        return switch role {
        case .pbx: "交换机"
        case .agent: "坐席"
        case .supervisor: "班长"
        case .admin: "管理员"
        }
    }
}
