import ArgumentParser
import FirstContactApp
import FirstContactCore

@main
struct FirstContactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firstcontact",
        abstract: "First-contact responsibility for customer hotlines: PBX records in, accountable contacts out.",
        discussion: """
            Reads what the PBX and the IVR record, binds the agent who first answered each customer as \
            first responder, and keeps the callback and hand-off clocks.

            Inputs (ingest --format NAME; detected from each file when omitted):
            \(Self.inputs)

            Typical use:
              firstcontact check-config --config firstcontact.yaml
              firstcontact ingest --config firstcontact.yaml --db day.sqlite /var/log/asterisk/cdr-csv/Master.csv /var/log/asterisk/queue_log
              firstcontact obligations --config firstcontact.yaml --db day.sqlite --state pending,breached
              firstcontact tick --config firstcontact.yaml --db day.sqlite --now 2026-11-27T18:00:00+08:00
              firstcontact export --config firstcontact.yaml --db day.sqlite --json

            Exit codes: 0 success, 1 error, 2 records were rejected (ingest without --allow-rejects), 64 usage.
            """,
        version: "firstcontact \(Release.version)\n\(StoreLocator.schemaVersions)",
        subcommands: [
            Ingest.self, Tick.self, Contacts.self, Obligations.self, Violations.self, Explain.self, Export.self,
            CheckConfig.self, Simulate.self, Schedule.self, Serve.self, Backup.self, Restore.self, Purge.self,
            Store.self,
        ]
    )

    /// One line per input format: its name and what writes it.
    static var inputs: String {
        let width = InputFormat.allCases.map(\.rawValue.count).max() ?? 0
        return InputFormat.allCases.map { format in
            let source =
                switch format {
                case .asteriskCSV: "Asterisk Master.csv (cdr_csv, cdr_custom)"
                case .asteriskQueueLog: "Asterisk queue_log"
                case .asteriskCEL: "Asterisk CEL (cel_custom cel-custom/Master.csv)"
                case .freeswitchXMLCDR: "FreeSWITCH mod_xml_cdr documents (.cdr.xml)"
                case .freeswitchEvents: "FreeSWITCH event-socket events"
                case .ivrEvents: "the IVR's event XML (samples/ivr-events.xsd)"
                case .kamailioAcc: "Kamailio acc, missed_calls and acc_cdrs tables"
                }
            return "  " + format.rawValue + String(repeating: " ", count: width - format.rawValue.count + 2) + source
        }.joined(separator: "\n")
    }

    /// Refuses a word that names no command before ArgumentParser sees it: ArgumentParser
    /// answers `firstcontact shred --help` with the general help and exit 0, which tells a
    /// script probing for a command that it exists.
    static func main() async {
        if let unknown = Self.unknownCommand(in: Array(CommandLine.arguments.dropFirst())) {
            Self.exit(withError: ValidationError("unknown command \"\(unknown)\""))
        }
        // ArgumentParser's own `main` exits from inside: the stores a command opened are
        // closed here first, whether it succeeded or not.
        do {
            var command = try Self.parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            await StoreLocator.closeOpened()
        } catch {
            await StoreLocator.closeOpened()
            Self.exit(withError: error)
        }
    }

    /// The first word, where a command name is expected, that names none (`shred`,
    /// `obligations shred`, `help shred`), or nil. A command name is expected first and right after a command
    /// that has subcommands (their default subcommands take no arguments).
    static func unknownCommand(in arguments: [String], under command: any ParsableCommand.Type = Self.self) -> String? {
        let subcommands = command.configuration.subcommands
        guard !subcommands.isEmpty, let word = arguments.first, !word.hasPrefix("-") else { return nil }
        if let subcommand = subcommands.first(where: { $0._commandName == word }) {
            return Self.unknownCommand(in: Array(arguments.dropFirst()), under: subcommand)
        }
        if command == Self.self {
            // `help COMMAND…` names commands too.
            return word == "help" ? Self.unknownCommand(in: Array(arguments.dropFirst())) : word
        }
        return "\(command._commandName) \(word)"
    }
}
