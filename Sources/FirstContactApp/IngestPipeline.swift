import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation

/// What an ingest run did, for the summary table and `--json`.
package struct IngestSummary: Sendable {
    package var files: [FileSummary] = []
    package var batches = BatchOutcome()
    /// The event-time watermark after the run; nil while the store holds no record with a time.
    package var clock: Timestamp?
    /// Customers derived at the end of the run, and earlier conclusions late records changed.
    package var derived = 0
    package var amendments = 0
    package var totals = StoreTotals()
    /// Rejects found in this run (positions and reasons), for the report at the end.
    package var rejects: [Reject] = []
    /// Internal-looking phones that matched no agent: a device list to complete.
    package var unmatchedDevices = UnmatchedDevices()

    package struct FileSummary: Sendable {
        package var path: String
        package var format: InputFormat?
        package var records: Int
        package var rejects: Int
        package var error: String?
    }
}

/// Progress of a run, for a progress bar.
package struct IngestProgress: Sendable {
    package var file: String
    package var fileIndex: Int
    package var fileCount: Int
    package var bytesDone: Int64
    package var bytesTotal: Int64
    package var records: Int
}

/// Files → decoders → batches of records → the store, then the event-time watermark.
///
/// Each batch is one store transaction; a batch is acknowledged only once committed.
package struct IngestPipeline: Sendable {
    package let engine: Engine
    package let store: any ContactStore
    package var batchSize = 20000
    /// How much of a stream format (event-socket logs) is read at a time.
    package var streamChunkBytes = 4 << 20

    package init(engine: Engine, store: any ContactStore) {
        self.engine = engine
        self.store = store
    }

    /// Ingests files and directories (walked recursively, in name order).
    /// - Parameters:
    ///   - format: forces one format; nil detects it per file.
    ///   - progress: called now and then with how far the run is.
    package func ingest(
        paths: [String], format: InputFormat?, progress: @Sendable (IngestProgress) -> Void = { _ in }
    ) async throws -> IngestSummary {
        let files = try Self.expand(paths)
        var run = Run(pipeline: self)
        try await withThrowingTaskGroup(of: BatchOutcome.self) { group in
            do {
                for (index, path) in files.enumerated() {
                    let file = try await self.ingest(
                        file: path, format: format, run: &run, group: &group,
                        progress: { done, total, records in
                            progress(
                                IngestProgress(
                                    file: path, fileIndex: index + 1, fileCount: files.count, bytesDone: done,
                                    bytesTotal: total, records: records))
                        })
                    run.summary.files.append(file)
                }
                try await run.submitDocuments(to: &group)
                try await run.finish(&group)
            } catch {
                // A file that cannot be read ends the run; the batch already handed over is stored.
                // (An error of the store's own leaves nothing in flight: `finish` is then a no-op.)
                try? await run.finish(&group)
                throw error
            }
        }
        var summary = run.summary
        let settled = try await self.engine.applyWatermark(store: self.store)
        summary.clock = settled.clock == .beforeAnyRecord ? nil : settled.clock
        summary.derived = settled.derived
        summary.amendments = settled.amendments
        summary.totals = try await self.store.totals()
        return summary
    }

    /// One run's summary so far, the records of one-document files not yet handed over, and the
    /// batch the store is committing.
    ///
    /// Every batch, of every format, goes through ``submit(_:to:)``: batches are committed in
    /// order, each while the run reads and decodes the next one. The store writes on its own
    /// thread, so decoding and storing use both cores instead of taking turns (the decoder was
    /// idle during every commit; BENCHMARKS.md, the 1M-call day). The commit is a child task of
    /// the run's group; at most one is in flight, so memory stays two batches whatever the input.
    private struct Run {
        typealias Commits = ThrowingTaskGroup<BatchOutcome, any Error>

        let pipeline: IngestPipeline
        var summary = IngestSummary()
        /// Records of one-document files, batched across files (a directory of XML CDRs holds
        /// one small document per call; a transaction per file would dominate the run).
        var documents: [IngestRecord] = []
        private var inFlight = false

        init(pipeline: IngestPipeline) { self.pipeline = pipeline }

        /// Counts the internal-looking phones that no agent lists, waits for the batch before,
        /// then starts committing `batch` (one store transaction) in `group`.
        mutating func submit(_ batch: [IngestRecord], to group: inout Commits) async throws {
            self.summary.unmatchedDevices.count(batch, directory: self.pipeline.engine.directory)
            try await self.finish(&group)
            let (store, correlator) = (self.pipeline.store, self.pipeline.engine.correlator)
            group.addTask { try await store.ingest(batch, correlator: correlator) }
            self.inFlight = true
        }

        /// Hands the documents gathered so far to ``submit(_:to:)``, if there are any.
        mutating func submitDocuments(to group: inout Commits) async throws {
            guard !self.documents.isEmpty else { return }
            let documents = self.documents
            self.documents.removeAll(keepingCapacity: true)
            try await self.submit(documents, to: &group)
        }

        /// Waits for the batch in flight; its error (the store's) is the caller's. Nothing is left
        /// in flight after it, whether it throws or not.
        mutating func finish(_ group: inout Commits) async throws {
            guard self.inFlight else { return }
            self.inFlight = false
            if let outcome = try await group.next() { self.summary.batches.add(outcome) }
        }
    }

    private func ingest(
        file path: String, format forced: InputFormat?, run: inout Run, group: inout Run.Commits,
        progress: (Int64, Int64, Int) -> Void
    ) async throws -> IngestSummary.FileSummary {
        let total = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        let format = forced ?? Self.detect(path)
        var file = IngestSummary.FileSummary(path: path, format: format, records: 0, rejects: 0, error: nil)
        if format == nil, total == 0 {
            // An empty file (a log just rotated, a day with no calls) holds nothing to reject.
            return file
        }
        guard let format else {
            // Nothing is silently skipped: an unreadable file is a reject of its own.
            let reject = Self.undetected(path)
            try await run.submit([.reject(reject)], to: &group)
            run.summary.rejects.append(reject)
            file.rejects = 1
            file.error = reject.reason
            return file
        }
        switch self.engine.decoder(for: format) {
        case .lines(let decoder):
            try await self.ingest(
                lines: path, decoder: decoder, total: total, file: &file, run: &run, group: &group, progress: progress)
        case .document(let decoder):
            try await self.ingest(document: path, decoder: decoder, file: &file, run: &run, group: &group)
            progress(total, total, file.records)
        case .stream(let decoder):
            try await self.ingest(
                stream: path, decoder: decoder, total: total, file: &file, run: &run, group: &group, progress: progress)
        }
        return file
    }

    /// One file of a line format, handed to the store every ``batchSize`` lines.
    private func ingest(
        lines path: String, decoder: LineDecoder, total: Int64, file: inout IngestSummary.FileSummary,
        run: inout Run, group: inout Run.Commits, progress: (Int64, Int64, Int) -> Void
    ) async throws {
        let reader = try LineReader(path: path)
        var batch: [IngestRecord] = []
        batch.reserveCapacity(self.batchSize)
        var lastOffset: Int64 = 0
        while true {
            let line: Line?
            do {
                line = try reader.next()
            } catch {
                // An over-long line cannot be resynchronised cheaply: keep it as a reject and stop this file.
                let reject = Reject(
                    position: SourcePosition(source: path, line: file.records + 1, offset: reader.resumeOffset),
                    reason: String(describing: error), raw: [])
                batch.append(.reject(reject))
                run.summary.rejects.append(reject)
                file.rejects += 1
                file.error = String(describing: error)
                break
            }
            guard let line else { break }
            let record = decoder.decode(
                line.bytes, at: SourcePosition(source: path, line: line.number, offset: line.offset))
            if case .reject(let reject) = record {
                file.rejects += 1
                run.summary.rejects.append(reject)
            }
            file.records += 1
            lastOffset = line.nextOffset
            batch.append(record)
            if batch.count >= self.batchSize {
                try await run.submit(batch, to: &group)
                batch.removeAll(keepingCapacity: true)
                progress(lastOffset, total, file.records)
            }
        }
        if !batch.isEmpty { try await run.submit(batch, to: &group) }
        progress(lastOffset, total, file.records)
    }

    /// Counts decoded `records`, and keeps their rejects for the report at the end.
    private static func tally(
        _ records: [IngestRecord], file: inout IngestSummary.FileSummary, summary: inout IngestSummary
    ) {
        for record in records {
            if case .reject(let reject) = record {
                file.rejects += 1
                summary.rejects.append(reject)
            }
            file.records += 1
        }
    }

    /// One file of a stream format, read in pieces of ``streamChunkBytes`` and handed to the store
    /// every ``batchSize`` records.
    private func ingest(
        stream path: String, decoder: StreamDecoder, total: Int64, file: inout IngestSummary.FileSummary,
        run: inout Run, group: inout Run.Commits, progress: (Int64, Int64, Int) -> Void
    ) async throws {
        var batch: [IngestRecord] = []
        try await Self.readStream(path: path, decoder: decoder, chunkBytes: self.streamChunkBytes) { records, done in
            Self.tally(records, file: &file, summary: &run.summary)
            batch += records
            if batch.count >= self.batchSize {
                try await run.submit(batch, to: &group)
                batch.removeAll(keepingCapacity: true)
                progress(done, total, file.records)
            }
        }
        if !batch.isEmpty { try await run.submit(batch, to: &group) }
        progress(total, total, file.records)
    }

    /// One file of a one-document-per-file format: read whole (up to the decoder's cap, a
    /// bigger file is one reject), decoded, and added to the run's documents, which are handed to
    /// the store every ``batchSize`` records.
    private func ingest(
        document path: String, decoder: DocumentDecoder, file: inout IngestSummary.FileSummary, run: inout Run,
        group: inout Run.Commits
    ) async throws {
        let position = SourcePosition(source: path, line: 1, offset: 0)
        let records: [IngestRecord]
        switch try DocumentReader.read(path: path, maxBytes: decoder.maxBytes) {
        case .document(let bytes):
            records = decoder.decode(bytes, at: position)
        case .tooLarge(let size, let head):
            let reason =
                "file is \(size) bytes, over the \(decoder.maxBytes)-byte limit for one"
                + " \(file.format?.rawValue ?? "") document"
            records = [.reject(Reject(position: position, reason: reason, raw: head))]
            file.error = reason
        }
        Self.tally(records, file: &file, summary: &run.summary)
        run.documents += records
        if run.documents.count >= self.batchSize { try await run.submitDocuments(to: &group) }
    }

    /// Reads `path` in pieces of `chunkBytes` through `decoder`, handing each piece's records (and the
    /// bytes read so far) to `body`. A frame longer than the decoder waits for ends the file
    /// with one reject holding its first bytes.
    static func readStream(
        path: String, decoder: StreamDecoder, chunkBytes: Int = 4 << 20,
        _ body: ([IngestRecord], Int64) async throws -> Void
    ) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw IngestError.missing(path) }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var offset: Int64 = 0
        var line = 1
        while true {
            let chunk = try handle.read(upToCount: chunkBytes) ?? Data()
            let final = chunk.isEmpty
            pending.append(contentsOf: chunk)
            let position = SourcePosition(source: path, line: line, offset: offset)
            let (records, consumed) = decoder.decode(pending, at: position, final: final)
            line += pending[..<consumed].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            offset += Int64(consumed)
            pending.removeFirst(consumed)
            try await body(records, offset)
            if final { return }
            if pending.count > decoder.maxPendingBytes {
                let reason =
                    "a frame or event runs over \(decoder.maxPendingBytes) bytes without ending; the rest of the file is not read"
                let reject = Reject(
                    position: SourcePosition(source: path, line: line, offset: offset), reason: reason,
                    raw: Array(pending.prefix(64 * 1024)))
                try await body([.reject(reject)], offset)
                return
            }
        }
    }

    /// Files under `paths`: directories walked recursively, sorted, hidden files skipped.
    package static func expand(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw IngestError.missing(path)
            }
            if isDirectory.boolValue {
                guard let walker = manager.enumerator(atPath: path) else { throw IngestError.missing(path) }
                var found: [String] = []
                while let relative = walker.nextObject() as? String {
                    let full = (path as NSString).appendingPathComponent(relative)
                    var sub: ObjCBool = false
                    let name = (relative as NSString).lastPathComponent
                    if name.hasPrefix(".") { continue }
                    if manager.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { found.append(full) }
                }
                files += found.sorted()
            } else {
                files.append(path)
            }
        }
        return files
    }

    static func detect(_ path: String) -> InputFormat? {
        InputFormatDetector.detect(path: path, head: Self.head(of: path, length: InputFormatDetector.headLength))
    }

    /// The reject of a file whose format nothing identifies (never decoded with a guess).
    static func undetected(_ path: String) -> Reject {
        let formats = InputFormat.allCases.map(\.rawValue).joined(separator: ", ")
        return Reject(
            position: SourcePosition(source: path, line: 0, offset: 0),
            reason: "could not tell the file's format; pass --format (\(formats))",
            raw: Self.head(of: path, length: 256))
    }

    static func head(of path: String, length: Int) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: length)) ?? Data())
    }
}

package enum IngestError: Error, CustomStringConvertible {
    case missing(String)

    package var description: String {
        switch self {
        case .missing(let path): "no such file or directory: \(path)"
        }
    }
}

extension IngestPipeline {
    /// Decodes files without a store (`ingest --dry-run`): what each file holds — records,
    /// records without call data, rejects with their reasons — and nothing written anywhere.
    /// Also the decode-only half of `scripts/xml-benchmark.sh`.
    package static func decode(paths: [String], format forced: InputFormat?, engine: Engine) async throws
        -> IngestSummary
    {
        var summary = IngestSummary()
        for path in try Self.expand(paths) {
            let format = forced ?? Self.detect(path)
            var file = IngestSummary.FileSummary(path: path, format: format, records: 0, rejects: 0, error: nil)
            // Counted as they come: a stream of events may hold millions.
            func count(_ records: [IngestRecord]) {
                for record in records {
                    file.records += 1
                    summary.batches.records += 1
                    switch record {
                    case .reject(let reject):
                        file.rejects += 1
                        summary.batches.rejects += 1
                        summary.rejects.append(reject)
                    case .ignored, .presence:
                        summary.batches.ignored += 1
                    case .record:
                        break
                    }
                }
            }
            guard let format else {
                let reject = Self.undetected(path)
                count([.reject(reject)])
                file.error = reject.reason
                summary.files.append(file)
                continue
            }
            switch engine.decoder(for: format) {
            case .stream(let decoder):
                try await Self.readStream(path: path, decoder: decoder) { piece, _ in count(piece) }
            case .document(let decoder):
                let position = SourcePosition(source: path, line: 1, offset: 0)
                switch try DocumentReader.read(path: path, maxBytes: decoder.maxBytes) {
                case .document(let bytes):
                    count(decoder.decode(bytes, at: position))
                case .tooLarge(let size, let head):
                    let reason =
                        "file is \(size) bytes, over the \(decoder.maxBytes)-byte limit for one \(format.rawValue) document"
                    count([.reject(Reject(position: position, reason: reason, raw: head))])
                    file.error = reason
                }
            case .lines(let decoder):
                let reader = try LineReader(path: path)
                while let line = try reader.next() {
                    count([
                        decoder.decode(
                            line.bytes, at: SourcePosition(source: path, line: line.number, offset: line.offset))
                    ])
                }
            }
            summary.files.append(file)
        }
        return summary
    }
}
