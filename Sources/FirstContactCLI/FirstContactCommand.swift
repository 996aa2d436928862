import ArgumentParser

@main
struct FirstContactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "firstcontact",
        abstract: "First-contact responsibility for customer hotlines: PBX records in, accountable contacts out.",
        discussion: """
            Reads what the PBX records (Asterisk Master.csv and queue_log), binds the agent who first \
            answered each customer as first responder, and keeps the callback and hand-off clocks.

            Typical use:
              firstcontact check-config --config firstcontact.yaml
              firstcontact ingest --config firstcontact.yaml --db day.sqlite /var/log/asterisk/cdr-csv/Master.csv /var/log/asterisk/queue_log
              firstcontact obligations --config firstcontact.yaml --db day.sqlite --state pending,breached
              firstcontact tick --config firstcontact.yaml --db day.sqlite --now 2026-11-27T18:00:00+08:00
              firstcontact export --config firstcontact.yaml --db day.sqlite --json

            Exit codes: 0 success, 1 error, 2 records were rejected (ingest without --allow-rejects), 64 usage.
            """,
        subcommands: [
            Ingest.self, Tick.self, Contacts.self, Obligations.self, Violations.self, Explain.self, Export.self,
            CheckConfig.self, Simulate.self, Schedule.self, Serve.self, Backup.self, Restore.self,
        ]
    )
}
