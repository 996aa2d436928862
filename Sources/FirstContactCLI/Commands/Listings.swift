import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation

extension ContactStatus: ExpressibleByArgument {}
extension ObligationState: ExpressibleByArgument {}
extension ObligationKind: ExpressibleByArgument {}

struct Contacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List contacts with their first responders.",
        discussion: "Filters combine. Example: firstcontact contacts --status awaiting_callback --department service"
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        parsing: .upToNextOption,
        help: "Only these statuses (open, awaiting_callback, handed_off, resolved, referred_out, closed).")
    var status: [ContactStatus] = []

    @Option(help: "Only contacts of this department.")
    var department: String?

    @Option(help: "Only contacts this agent is first responder of or owes something on.")
    var agent: String?

    @OptionGroup var language: LanguageOption

    @Option(help: "At most this many rows.")
    var limit = 200

    @Flag(help: "JSON instead of a table.")
    var json = false

    func run() async throws {
        let engine = try self.global.engine()
        let query = ContactQuery(
            statuses: Set(self.status), department: self.department.map { DepartmentID($0) },
            agent: self.agent.map { AgentID($0) }, limit: self.limit)
        let contacts = try await self.global.readingStore().contacts(query)
        if self.json {
            let out = JSONWriter()
            out.array(contacts) { ExportDocument.contact($0, into: out) }
            print(out.text)
            return
        }
        let l = self.language.localizer(engine)
        let time = LocalTimeFormatter(zone: engine.configuration.timezone, localizer: l)
        var table = Table(
            [
                Phrase.cliContact, .cliCustomer, .cliStatus, .cliDepartment, .cliFirstResponder, .cliBound, .cliVia,
                .cliObligations,
            ].map { l($0) })
        for contact in contacts {
            let responder = contact.firstResponder.map { engine.directory.label($0.agent) } ?? "-"
            let obligations = contact.obligations.map { "\(l.tableLabel($0.kind)):\(l.label($0.state))" }.joined(
                separator: " ")
            table.add([
                contact.id.rawValue, contact.customer.text, l.label(contact.status),
                l.tableLabel(contact.department, engine.directory),
                responder, time(contact.firstResponder?.boundAt), contact.firstResponder.map { l.label($0.via) } ?? "-",
                obligations.isEmpty ? "-" : obligations,
            ])
        }
        print(table.render())
        print(l(.cliContactCount, String(contacts.count)) + (contacts.count == self.limit ? l(.cliLimitReached) : ""))
    }
}

struct Obligations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Callback and hand-off obligations: list them, acknowledge a hand-off.",
        subcommands: [List.self, Acknowledge.self],
        defaultSubcommand: List.self
    )
}

extension Obligations {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List obligations: who owes what, by when (the default).",
            discussion:
                "Overdue first, then by due time. Example: firstcontact obligations --state pending breached --kind callback"
        )

        @OptionGroup var global: GlobalOptions

        @Option(
            parsing: .upToNextOption,
            help: "Only these states (pending, satisfied, satisfied_late, breached, exhausted, cancelled).")
        var state: [ObligationState] = []

        @Option(help: "Only this kind (callback or handoff).")
        var kind: ObligationKind?

        @OptionGroup var language: LanguageOption

        @Option(help: "At most this many rows.")
        var limit = 200

        @Flag(help: "JSON instead of a table.")
        var json = false

        func run() async throws {
            let engine = try self.global.engine()
            let contacts = try await self.global.readingStore().contacts(
                ContactQuery(obligationStates: Set(self.state), obligationKind: self.kind, limit: Int.max))
            var rows: [(Contact, Obligation)] = []
            for contact in contacts {
                for o in contact.obligations
                where (self.state.isEmpty || self.state.contains(o.state)) && (self.kind == nil || o.kind == self.kind)
                {
                    rows.append((contact, o))
                }
            }
            // Overdue (breached) first, then what runs out soonest.
            rows.sort { a, b in
                let ra = a.1.state == .breached ? 0 : 1
                let rb = b.1.state == .breached ? 0 : 1
                return (ra, a.1.dueAt, a.1.id) < (rb, b.1.dueAt, b.1.id)
            }
            if self.json {
                let out = JSONWriter()
                out.array(rows) { ExportDocument.obligation($0.1, into: out) }
                print(out.text)
                return
            }
            let total = rows.count
            rows = Array(rows.prefix(self.limit))
            let l = self.language.localizer(engine)
            let time = LocalTimeFormatter(zone: engine.configuration.timezone, localizer: l)
            var table = Table(
                [
                    Phrase.cliObligation, .cliKind, .cliCustomer, .cliOwner, .cliCreated, .cliDue, .cliState, .cliRisk,
                    .cliAttempts, .cliMissed, .cliEscalation, .cliFirstResponder,
                ].map { l($0) })
            for (contact, o) in rows {
                let owner =
                    o.owner.agent.map { engine.directory.label($0) }
                    ?? l.tableLabel(o.owner.department, engine.directory)
                let responder = contact.firstResponder.map { engine.directory.label($0.agent) } ?? "-"
                table.add([
                    o.id.rawValue, l.tableLabel(o.kind), contact.customer.text, owner, time(o.createdAt), time(o.dueAt),
                    l.label(o.state), o.atRisk ? l(.cliAtRisk) : "-", String(o.attempts), String(o.missedCount),
                    String(o.escalationLevel), responder,
                ])
            }
            print(table.render())
            print(
                l(.cliObligationCount, String(total))
                    + (total > rows.count ? l(.cliFirstShown, String(rows.count)) : ""))
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack",
            abstract: "Record that the receiver of a hand-off has read it (stops its acknowledge clock).",
            discussion: "Example: firstcontact obligations ack ho-0123456789abcdef --by 1011"
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The hand-off obligation id.", valueName: "obligation"))
        var obligation: String

        @Option(
            help: ArgumentHelp(
                "The agent acknowledging (receiver, or the receiving department's head).", valueName: "agent"))
        var by: String

        @Option(
            help: ArgumentHelp("When it was read (default: now), e.g. 2026-11-27T10:05:00+08:00.", valueName: "time"))
        var at: Timestamp?

        func run() async throws {
            let engine = try self.global.engine()
            let store = try await self.global.settledStore(engine)
            let time = self.at ?? SystemWallClock().now()
            do {
                let stored = try await engine.acknowledge(
                    ObligationID(self.obligation), by: AgentID(self.by), at: time, store: store)
                let o = stored.obligation
                print(
                    "\(o.id) acknowledged by \(self.by) at \(o.acknowledgedAt?.iso8601 ?? time.iso8601); state \(o.state.rawValue), contact the customer by \(o.dueAt.iso8601)"
                )
            } catch let error as ActionError {
                throw ValidationFailure(error.description)
            }
        }
    }
}

struct Violations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Violations: list them, review one (accept, excuse or dismiss, with a reason).",
        subcommands: [List.self, Review.self],
        defaultSubcommand: List.self
    )
}

extension Violations {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List recorded violations and their reviews (the default).")

        @OptionGroup var global: GlobalOptions

        @OptionGroup var language: LanguageOption

        @Flag(help: "JSON instead of a table.")
        var json = false

        func run() async throws {
            let engine = try self.global.engine()
            let snapshot = try await self.global.readingStore().violations()
            if self.json {
                let out = JSONWriter()
                out.array(snapshot.violations) { ExportDocument.violation($0, into: out) }
                print(out.text)
                return
            }
            let l = self.language.localizer(engine)
            let time = LocalTimeFormatter(zone: engine.configuration.timezone, localizer: l)
            var table = Table(
                [Phrase.cliViolation, .cliCategory, .cliDepartment, .cliAgent, .cliAt, .cliContact, .cliReview].map {
                    l($0)
                })
            for v in snapshot.violations {
                let review = snapshot.reviews[v.id].map { l(.cliReviewedBy, l.label($0.decision), $0.by) } ?? "-"
                table.add([
                    v.id.rawValue, l.label(v.category), l.tableLabel(v.department, engine.directory),
                    v.agent.map { engine.directory.label($0) } ?? "-", time(v.at), v.contact.rawValue, review,
                ])
            }
            print(table.render())
            let accepted = snapshot.reviews.values.filter { $0.decision == .accept }.count
            print(
                l(
                    .cliViolationSummary, String(snapshot.violations.count), String(snapshot.reviews.count),
                    String(accepted)))
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a supervisor's decision on a violation; figures count accepted ones only.",
            discussion:
                "Example: firstcontact violations review cb-0123456789abcdef.v --accept --reason \"called back next day\" --by li-sup"
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The violation id.", valueName: "violation"))
        var violation: String

        @Flag(help: "The decision.")
        var decision: ViolationReview.Decision

        @Option(help: "Why (required).")
        var reason: String

        @Option(help: ArgumentHelp("Who decided (default: the USER environment variable).", valueName: "name"))
        var by: String?

        func run() async throws {
            let engine = try self.global.engine()
            let store = try await self.global.settledStore(engine)
            let reviewer = self.by ?? ProcessInfo.processInfo.environment["USER"] ?? "supervisor"
            do {
                try await engine.review(
                    ViolationID(self.violation), decision: self.decision, reason: self.reason, by: reviewer,
                    at: SystemWallClock().now(), store: store)
            } catch let error as ActionError {
                throw ValidationFailure(error.description)
            }
            print("\(self.violation): \(self.decision.rawValue) by \(reviewer) — \(self.reason)")
        }
    }
}

/// `--accept`, `--excuse`, `--dismiss` (the case names).
extension ViolationReview.Decision: EnumerableFlag {}

/// A refused action: exits 1 with the reason (not a usage error).
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one contact with its calls, obligations and the `why` trail of every decision.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The contact id (from `contacts`).", valueName: "contact"))
    var contact: String

    @OptionGroup var language: LanguageOption

    func run() async throws {
        let engine = try self.global.engine()
        guard
            let detail = try await self.global.readingStore().contact(
                ContactID(self.contact), correlator: engine.correlator)
        else {
            throw ValidationError("no contact \(self.contact)")
        }
        let l = self.language.localizer(engine)
        let time = LocalTimeFormatter(zone: engine.configuration.timezone, localizer: l)
        let c = detail.contact
        print(
            l(
                .explainContact, c.id.rawValue, c.customer.text, c.customerRaw.isEmpty ? "-" : c.customerRaw,
                l.label(c.channel))
        )
        print(
            l(
                .explainStatus, l.label(c.status), l.tableLabel(c.department, engine.directory), l.label(c.category),
                time(c.createdAt),
                c.repeatOf.map { l(.explainRepeatOf, $0.rawValue) } ?? ""))
        if let r = c.firstResponder {
            print(
                l(
                    .explainResponder, engine.directory.label(r.agent), l.label(r.via), time(r.boundAt),
                    r.call?.rawValue ?? "-"))
        } else {
            print(l(.explainNoResponder))
        }
        if !c.ringNoAnswer.isEmpty {
            print(l(.explainRang, c.ringNoAnswer.map(\.rawValue).joined(separator: ", ")))
        }
        print(l(.explainCalls, c.calls.map(\.rawValue).joined(separator: ", ")))
        for o in c.obligations {
            let owner =
                o.owner.agent.map { l(.explainOwnerAgent, $0.rawValue) }
                ?? l(.explainOwnerDepartment, l.tableLabel(o.owner.department, engine.directory))
            print(
                l(
                    .explainObligation, o.id.rawValue, l.tableLabel(o.kind), owner, time(o.dueAt), l.label(o.state),
                    String(o.attempts), String(o.missedCount), String(o.escalationLevel)))
        }
        for v in detail.violations {
            let against =
                v.agent.map { l(.explainOwnerAgent, $0.rawValue) }
                ?? l(.explainOwnerDepartment, l.tableLabel(v.department, engine.directory))
            print(l(.explainViolation, v.id.rawValue, l.label(v.category), against, time(v.at)))
        }
        print("")
        print(l(.explainWhy))
        for entry in (c.why + detail.amendments).sorted(by: { $0.at < $1.at }) {
            let evidence = entry.evidence.prefix(3).map(\.description).joined(separator: ", ")
            print("  \(time(entry.at))  [\(entry.rule)] \(entry.message)\(evidence.isEmpty ? "" : "  ← \(evidence)")")
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the whole derived state as JSON (contacts, obligations, violations, rejects).",
        discussion: "Byte-identical for the same records and clock; the format is documented in the README."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "JSON output (the only export format).")
    var json = false

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    func run() async throws {
        // The configuration is checked as for every other command, though the export needs none of it.
        _ = try self.global.engine()
        let text = ExportDocument.render(try await self.global.readingStore().snapshot())
        if let output = self.output {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            print(text, terminator: "")
        }
    }
}
