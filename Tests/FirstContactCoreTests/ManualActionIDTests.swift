import Testing

@testable import FirstContactCore

/// The text an action's id hashes must not move: an action recorded again (a retried request)
/// must find the id stored before, whatever happened to the type names in between.
@Suite("Manual action ids")
struct ManualActionIDTests {
    static let registration = HandoffRegistration(
        unit: "水务集团", name: "王 \"老\" 五", phone: "13900007321", matter: "漏水\n二楼", place: "3F\\east")

    /// Each kind with the exact text its id hashes.
    static let pinned: [(ManualAction.Kind, String)] = [
        (.acknowledge(obligation: ObligationID("Cabc-ho1")), "acknowledge(obligation: Cabc-ho1)"),
        (
            .note(contact: ContactID("Cabc"), text: "called back, no answer"),
            "note(contact: Cabc, text: \"called back, no answer\")"
        ),
        (.resolve(contact: ContactID("Cabc"), note: "问题已在电话中解答"), "resolve(contact: Cabc, note: \"问题已在电话中解答\")"),
        (
            .referOut(contact: ContactID("Cabc"), body: "gas company", told: "call 96777\ttoday"),
            "referOut(contact: Cabc, body: \"gas company\", told: \"call 96777\\ttoday\")"
        ),
        (
            .handoff(
                contact: ContactID("Cabc"), to: Owner(department: DepartmentID("repairs"), agent: AgentID("4001")),
                registration: registration),
            "handoff(contact: Cabc, to: FirstContactCore.Owner(department: repairs, agent: Optional(4001)), registration: FirstContactCore.HandoffRegistration(unit: \"水务集团\", name: \"王 \\\"老\\\" 五\", phone: \"13900007321\", matter: \"漏水\\n二楼\", place: \"3F\\\\east\"))"
        ),
        (
            .handoff(
                contact: ContactID("Cabc"), to: Owner(department: DepartmentID("billing"), agent: nil),
                registration: HandoffRegistration(unit: "", name: "n", phone: "p", matter: "m")),
            "handoff(contact: Cabc, to: FirstContactCore.Owner(department: billing, agent: nil), registration: FirstContactCore.HandoffRegistration(unit: \"\", name: \"n\", phone: \"p\", matter: \"m\", place: \"\"))"
        ),
        (
            .reassign(contact: ContactID("Cabc"), to: AgentID("1002"), reason: "it's 1002's customer"),
            "reassign(contact: Cabc, to: 1002, reason: \"it\\'s 1002\\'s customer\")"
        ),
        (.complaint(contact: ContactID("Cabc"), text: "rude\r\n"), "complaint(contact: Cabc, text: \"rude\\r\\n\")"),
        (
            .poorService(contact: ContactID("Cabc"), agent: AgentID("1003"), text: "hung up \u{7}"),
            "poorService(contact: Cabc, agent: 1003, text: \"hung up \\u{07}\")"
        ),
        (
            .open(
                ManualContact(
                    channel: .visit, customer: .e164("+8613900007321"), customerRaw: "139 0000 7321",
                    department: DepartmentID("service"),
                    category: .complaint, matter: "前台来访")),
            "open(FirstContactCore.ManualContact(channel: FirstContactCore.ContactChannel.visit, customer: FirstContactCore.CustomerNumber.e164(\"+8613900007321\"), customerRaw: \"139 0000 7321\", department: Optional(service), category: Optional(FirstContactCore.ContactCategory.complaint), matter: \"前台来访\"))"
        ),
        (
            .open(
                ManualContact(
                    channel: .letter, customer: .other("alice"), customerRaw: "alice", department: nil, category: nil,
                    matter: "m")),
            "open(FirstContactCore.ManualContact(channel: FirstContactCore.ContactChannel.letter, customer: FirstContactCore.CustomerNumber.other(\"alice\"), customerRaw: \"alice\", department: nil, category: nil, matter: \"m\"))"
        ),
        (
            .open(
                ManualContact(
                    channel: .visit, customer: .withheld, customerRaw: "", department: nil, category: .report,
                    matter: "\u{301}x\u{600}")),
            "open(FirstContactCore.ManualContact(channel: FirstContactCore.ContactChannel.visit, customer: FirstContactCore.CustomerNumber.withheld, customerRaw: \"\", department: nil, category: Optional(FirstContactCore.ContactCategory.report), matter: \"\\u{0301}x\\u{0600}\"))"
        ),
    ]

    @Test(
        "each kind's id text is spelled out field by field, the same as for the ids already stored",
        arguments: 0..<pinned.count)
    func pinnedText(_ index: Int) {
        let (kind, text) = Self.pinned[index]
        #expect(kind.idText == text)
    }

    @Test(
        "quoting escapes quotes, backslashes and controls, and keeps a mark off the quote",
        arguments: [
            ("plain", "\"plain\""),
            ("", "\"\""),
            ("a\"b", "\"a\\\"b\""),
            ("a'b", "\"a\\'b\""),
            ("a\\b", "\"a\\\\b\""),
            ("\0\t\n\r", "\"\\0\\t\\n\\r\""),
            ("\u{1B}[0m", "\"\\u{1B}[0m\""),
            ("e\u{301}", "\"e\u{301}\""),
            ("\u{301}e", "\"\\u{0301}e\""),
            ("\n\u{301}", "\"\\n\\u{0301}\""),
            ("x\u{600}\u{600}", "\"x\\u{0600}\\u{0600}\""),
            ("👍🏽 前台", "\"👍🏽 前台\""),
        ])
    func quoting(_ text: String, _ quoted: String) {
        #expect(ManualAction.Kind.quoted(text) == quoted)
    }
}
