import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read PBX exports into the store, correlate them and apply the clocks up to the watermark.",
        discussion: """
            Each FILE may be a file or a directory (walked recursively). The format is detected per file \
            unless --format is given. Re-ingesting the same records changes nothing. Rows that cannot be \
            read are stored as rejects with file, line, byte offset and reason; the rest goes on, and the \
            command exits with 2 unless --allow-rejects is given.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Force the input format.", valueName: "format"))
    var format: InputFormat?

    @Flag(help: "Exit 0 even when records were rejected.")
    var allowRejects = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Flag(help: "No progress bar.")
    var quiet = false

    @Flag(help: "Only decode: report what the files hold (records, rejects and their reasons); store nothing.")
    var dryRun = false

    @Argument(help: ArgumentHelp("Files or directories to ingest.", valueName: "file"))
    var files: [String]

    func run() async throws {
        let engine = try self.global.engine()
        if self.dryRun {
            let started = ContinuousClock.now
            let summary = try await IngestPipeline.decode(paths: self.files, format: self.format, engine: engine)
            let elapsed = started.duration(to: .now)
            if self.json {
                print(Self.json(summary))
            } else {
                let b = summary.batches
                print(
                    "Decoded \(summary.files.count) file(s) in \(elapsed): \(b.records) records (\(b.ignored) without call data), \(b.rejects) rejected; nothing stored."
                )
                for reject in summary.rejects.prefix(50) {
                    print(
                        "  \(reject.position.source):\(reject.position.line) (byte \(reject.position.offset)): \(reject.reason)"
                    )
                }
            }
            if summary.batches.rejects > 0, !self.allowRejects { throw ExitCode(2) }
            return
        }
        let pipeline = IngestPipeline(engine: engine, store: try self.global.store())
        let bar = ProgressBar(enabled: !self.quiet && !self.json && isatty(STDERR_FILENO) == 1)
        let summary = try await pipeline.ingest(paths: self.files, format: self.format) { progress in
            bar.update(progress)
        }
        bar.finish()
        if self.json {
            print(Self.json(summary))
        } else {
            print(Self.text(summary, zone: engine.configuration.timezone))
        }
        if summary.batches.rejects > 0, !self.allowRejects { throw ExitCode(2) }
    }

    static func text(_ summary: IngestSummary, zone: ZoneRules) -> String {
        let b = summary.batches
        let t = summary.totals
        var lines: [String] = []
        lines.append(
            "Ingested \(summary.files.count) file(s): \(b.records) records (\(b.newRecords) new, \(b.duplicates) already stored, \(b.ignored) without call data), \(b.rejects) rejected."
        )
        if b.beyondRetention > 0 {
            lines.append(
                "\(b.beyondRetention) record(s) are older than the last purge (policy.retention): not stored."
            )
        }
        if b.rejectsDropped > 0 {
            lines.append(
                "\(b.rejectsDropped) of the rejects were past ingest.max_rejects_per_source for their source: counted, not stored."
            )
        }
        var files = Table(["file", "format", "records", "rejects"])
        for file in summary.files {
            files.add([file.path, file.format?.rawValue ?? "unknown", String(file.records), String(file.rejects)])
        }
        lines.append(files.render())
        lines.append("")
        lines.append(
            "Store now: \(t.calls) calls, \(t.contacts) contacts, \(t.firstResponders) first responders bound, \(t.violations) violations, \(t.rejects) rejects."
        )
        let states = ObligationState.allCases.map { "\($0.rawValue) \(t.obligationsByState[$0] ?? 0)" }.joined(
            separator: ", ")
        lines.append("Obligations: \(states).")
        if let clock = summary.clock {
            lines.append("Clock (event-time watermark): \(LocalTimeFormatter(zone: zone)(clock)) \(zone.identifier)")
        } else {
            lines.append("Clock (event-time watermark): no records yet")
        }
        let unmatched = summary.unmatchedDevices.sorted
        if !unmatched.isEmpty {
            let shown = unmatched.prefix(20).map { "\($0.device) (\($0.legs) leg\($0.legs == 1 ? "" : "s"))" }
            let more = unmatched.count > 20 ? ", … and \(unmatched.count - 20) more" : ""
            lines.append("Unmatched devices (internal phones no agent lists): \(shown.joined(separator: ", "))\(more)")
        }
        if !summary.rejects.isEmpty {
            lines.append("")
            lines.append("Rejected:")
            for reject in summary.rejects.prefix(50) {
                lines.append(
                    "  \(reject.position.source):\(reject.position.line) (byte \(reject.position.offset)): \(reject.reason)"
                )
            }
            if summary.rejects.count > 50 {
                lines.append("  … and \(summary.rejects.count - 50) more (see export --json)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ summary: IngestSummary) -> String {
        let out = JSONWriter()
        let b = summary.batches
        out.object {
            out.field("files") {
                out.array(summary.files) { file in
                    out.object {
                        out.field("path") { out.string(file.path) }
                        out.field("format") { out.string(file.format?.rawValue) }
                        out.field("records") { out.int(file.records) }
                        out.field("rejects") { out.int(file.rejects) }
                        out.field("error") { out.string(file.error) }
                    }
                }
            }
            out.field("records") { out.int(b.records) }
            out.field("new_records") { out.int(b.newRecords) }
            out.field("duplicates") { out.int(b.duplicates) }
            out.field("rejects") { out.int(b.rejects) }
            out.field("rejects_dropped") { out.int(b.rejectsDropped) }
            out.field("beyond_retention") { out.int(b.beyondRetention) }
            out.field("unmatched_devices") {
                out.array(summary.unmatchedDevices.sorted) { entry in
                    out.object {
                        out.field("device") { out.string(entry.device) }
                        out.field("legs") { out.int(entry.legs) }
                    }
                }
            }
            out.field("calls") { out.int(summary.totals.calls) }
            out.field("contacts") { out.int(summary.totals.contacts) }
            out.field("first_responders") { out.int(summary.totals.firstResponders) }
            out.field("obligations") {
                out.object {
                    for state in ObligationState.allCases {
                        out.field(state.rawValue) { out.int(summary.totals.obligationsByState[state] ?? 0) }
                    }
                }
            }
            out.field("violations") { out.int(summary.totals.violations) }
            out.field("clock") { out.time(summary.clock) }
        }
        return out.text
    }
}

/// A one-line progress bar on standard error, redrawn at most ten times a second.
final class ProgressBar: @unchecked Sendable {
    // Only touched from the ingest task, one update at a time; the class is Sendable so the
    // progress closure can capture it.
    private let enabled: Bool
    private var lastDraw = 0.0
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: IngestProgress) {
        guard self.enabled else { return }
        let now = Date().timeIntervalSince1970
        guard now - self.lastDraw >= 0.1 else { return }
        self.lastDraw = now
        let fraction = progress.bytesTotal > 0 ? Double(progress.bytesDone) / Double(progress.bytesTotal) : 1
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        let name = (progress.file as NSString).lastPathComponent
        FileHandle.standardError.write(
            Data(
                "\r[\(bar)] \(Int(fraction * 100))% file \(progress.fileIndex)/\(progress.fileCount) \(name) \(progress.records) records "
                    .utf8))
        self.drawn = true
    }

    func finish() {
        if self.drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
