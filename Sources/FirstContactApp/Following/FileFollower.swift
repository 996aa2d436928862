import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What one pass over a followed file did.
package struct FollowPass: Hashable, Sendable {
    /// Complete lines read and committed (records, rejects and ignored lines alike).
    package var lines = 0
    package var outcome = BatchOutcome()
    /// Files read to their end because rotation or replacement put another file at the path.
    package var filesFinished = 0
    /// Times reading started again at byte 0 of a file already being read (copy-truncate).
    package var truncations = 0

    package init() {}
}

/// One follower's state, for `/metrics`.
package struct FollowerState: Hashable, Sendable {
    package var path: String
    /// Lines read since the process started.
    package var linesRead = 0
    /// Bytes in the file being read that are not read yet (a held-back partial line included).
    package var lagBytes: Int64 = 0
    /// Which file at the path is being read (1 for the first ever seen, +1 per rotation).
    package var generation = 0
    /// The last error, cleared by the next good pass.
    package var error: String?

    package init(path: String) {
        self.path = path
    }
}

/// The states of every follower of a process, shared by the follow service and `/metrics`.
package final class FollowerStatus: Sendable {
    private let states = NIOLockedValueBox<[String: FollowerState]>([:])

    package init() {}

    func update(_ path: String, _ body: (inout FollowerState) -> Void) {
        self.states.withLockedValue { states in
            var state = states[path] ?? FollowerState(path: path)
            body(&state)
            states[path] = state
        }
    }

    /// The states, sorted by path.
    package func snapshot() -> [FollowerState] {
        self.states.withLockedValue { Array($0.values) }.sorted { $0.path < $1.path }
    }
}

/// Tails one configured path (Master.csv, queue_log…) and ingests its complete lines through
/// the same decoders and store as `ingest`, with a durable checkpoint per path.
///
/// Each committed batch carries the checkpoint (device, inode, offset, next line number and a
/// hash of the file's first bytes) in its own transaction, so after a crash or `kill -9` the
/// follower resumes exactly after the last stored line: nothing read twice, nothing skipped.
/// What it survives:
/// - **restart**: the checkpoint's file is found again (at the path, or renamed next to it by a
///   rotation that happened while the service was down) and read on from the checkpoint;
/// - **rotation by rename**: the old file is read to its end through the open descriptor, its
///   last line even without a line feed (nobody will finish it), then the new file from byte 0;
/// - **copy-truncate** and in-place rewrites: a file shorter than the checkpoint, or whose first
///   bytes changed, is read again from byte 0;
/// - **a partial last line**: held back until its line feed arrives;
/// - **a path that does not exist yet** (nor its directory): looked for again on every pass;
/// - **another file at the same path**: a different device/inode (or fingerprint) is a new file.
///
/// A follower is a single-consumer cursor owned by one task (a class, not `Sendable`).
package final class FileFollower {
    /// How many leading bytes recognise a file (fewer while the file is shorter).
    package static let fingerprintLimit = 256

    package let path: String
    private let format: InputFormat?
    private let engine: Engine
    private let store: any ContactStore
    private let status: FollowerStatus
    private let metrics: (any IngestCounting)?
    /// Lines per transaction: bounds memory and the work a kill can roll back.
    package var batchSize = 5000
    /// The path's lease when several instances share the database: renewed before each commit,
    /// so a long catch-up keeps it; reading stops with ``LeaseLost`` once another instance has it.
    package var lease: LeaseKeeper?
    private var current: OpenFile?
    /// Whether the stored checkpoint has been consulted (once per process).
    private var resumed = false
    /// The generation of the latest file seen at the path.
    private var lastGeneration = 0

    /// - Parameter format: the configured format; nil detects it from the file's first bytes.
    /// - Parameter metrics: where ingested records are counted (`/metrics`), if anywhere.
    package init(
        path: String, format: InputFormat?, engine: Engine, store: any ContactStore,
        status: FollowerStatus = FollowerStatus(),
        metrics: (any IngestCounting)? = nil
    ) {
        self.path = path
        self.format = format
        self.engine = engine
        self.store = store
        self.status = status
        self.metrics = metrics
    }

    /// Reads every complete line appended since the last pass (and follows rotations on the
    /// way), committing them with the checkpoint. Errors leave the checkpoint and the in-memory
    /// position at the last commit, so the next pass retries from there.
    @discardableResult
    package func poll() async throws -> FollowPass {
        var pass = FollowPass()
        do {
            try await self.pass(&pass)
            self.status.update(self.path) { state in
                state.linesRead += pass.lines
                state.error = nil
                state.generation = self.current?.generation ?? self.lastGeneration
                state.lagBytes = self.current.map { max(0, Self.size(of: $0.descriptor) - $0.offset) } ?? 0
            }
        } catch {
            self.status.update(self.path) { $0.error = String(describing: error) }
            throw error
        }
        return pass
    }

    private func pass(_ pass: inout FollowPass) async throws {
        if self.current == nil {
            self.current = try await self.openFirst(pass: &pass)
        }
        while let file = self.current {
            // The path is looked at before the descriptor is drained: whatever was written to the
            // old file before the rename is then read by the drain below.
            let atPath = Self.identity(path: self.path)
            if Self.wasRewritten(file) {
                // Copy-truncate (or a rewrite in place): the lines before the checkpoint are gone
                // from this file, and what is there now is new.
                try await self.finishCopy(of: file.checkpoint(path: self.path), pass: &pass)
                self.lastGeneration += 1
                file.restart(generation: self.lastGeneration)
                try await self.commit([], file, offset: 0, nextLine: 1, pass: &pass)
                pass.truncations += 1
            }
            let replaced = atPath.map { $0 != file.identity } ?? false
            try await self.drain(file, finishing: replaced, pass: &pass)
            guard replaced else { return }
            pass.filesFinished += 1
            self.current = nil
            self.current = try await self.openNew()
        }
    }

    // MARK: Opening

    /// The file to read first in this process: the checkpoint's file from its offset, when it
    /// can still be found (at the path or renamed in the same directory), else the path's file.
    private func openFirst(pass: inout FollowPass) async throws -> OpenFile? {
        if !self.resumed {
            let checkpoint = try await self.store.followCheckpoint(path: self.path)
            self.resumed = true
            self.lastGeneration = checkpoint?.generation ?? 0
            if let checkpoint {
                if let file = self.find(checkpoint) { return file }
                // Copy-truncated while the service was down: the unread end is in the copy.
                try await self.finishCopy(of: checkpoint, pass: &pass)
            }
        }
        return try await self.openNew()
    }

    /// The file now at the path, read from byte 0 as the next generation; nil while there is none.
    private func openNew() async throws -> OpenFile? {
        let descriptor = open(self.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        guard let identity = Self.identity(descriptor: descriptor) else {
            close(descriptor)
            return nil
        }
        self.lastGeneration += 1
        let file = OpenFile(descriptor: descriptor, identity: identity, generation: self.lastGeneration)
        // Stored at once, so that a restart knows this file is the current generation.
        var ignored = FollowPass()
        try await self.commit([], file, offset: 0, nextLine: 1, pass: &ignored)
        return file
    }

    /// After copy-truncate, the lines written between the last pass and the copy are only in the
    /// copy (Master.csv.1 next to the path): it is recognised by the same first bytes, longer
    /// than what was read, and read from the checkpoint to its end.
    private func finishCopy(of checkpoint: FollowCheckpoint, pass: inout FollowPass) async throws {
        guard checkpoint.fingerprintLength > 0 else { return }
        let directory = (self.path as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        let atPath = Self.identity(path: self.path)
        for name in names.sorted() {
            let candidate = (directory as NSString).appendingPathComponent(name)
            guard candidate != self.path, let identity = Self.identity(path: candidate), identity != atPath else {
                continue
            }
            let descriptor = open(candidate, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            guard Self.identity(descriptor: descriptor) == identity,
                Self.size(of: descriptor) > checkpoint.offset,
                Self.fingerprint(descriptor, length: checkpoint.fingerprintLength) == checkpoint.fingerprint
            else {
                close(descriptor)
                continue
            }
            let copy = OpenFile(descriptor: descriptor, identity: identity, generation: checkpoint.generation)
            copy.offset = checkpoint.offset
            copy.nextLine = checkpoint.nextLine
            copy.fingerprint = checkpoint.fingerprint
            copy.fingerprintLength = checkpoint.fingerprintLength
            try await self.drain(copy, finishing: true, pass: &pass)
            pass.filesFinished += 1
            return
        }
    }

    /// The file the checkpoint describes, positioned at its offset, or nil when it is gone or
    /// its first bytes are no longer the ones read (copy-truncate, a reused inode).
    private func find(_ checkpoint: FollowCheckpoint) -> OpenFile? {
        let identity = FileIdentity(device: checkpoint.device, inode: checkpoint.inode)
        var candidates = [self.path]
        if Self.identity(path: self.path) != identity {
            // Rotated while the service was down (Master.csv → Master.csv.1): the old file, still
            // unfinished, sits next to the path under another name.
            let directory = (self.path as NSString).deletingLastPathComponent
            let names =
                (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
            candidates = names.sorted().map { (directory as NSString).appendingPathComponent($0) }
        }
        for candidate in candidates where Self.identity(path: candidate) == identity {
            let descriptor = open(candidate, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            guard Self.identity(descriptor: descriptor) == identity,
                Self.size(of: descriptor) >= checkpoint.offset,
                Self.fingerprint(descriptor, length: checkpoint.fingerprintLength) == checkpoint.fingerprint
            else {
                close(descriptor)
                return nil
            }
            let file = OpenFile(descriptor: descriptor, identity: identity, generation: checkpoint.generation)
            file.offset = checkpoint.offset
            file.nextLine = checkpoint.nextLine
            file.fingerprint = checkpoint.fingerprint
            file.fingerprintLength = checkpoint.fingerprintLength
            return file
        }
        return nil
    }

    // MARK: Reading

    /// Reads the complete lines after the file's offset, committing every ``batchSize`` lines.
    /// - Parameter finishing: the file is no longer at the path: its last line counts without a line feed.
    private func drain(_ file: OpenFile, finishing: Bool, pass: inout FollowPass) async throws {
        guard !file.stopped, let decoder = try await self.decoder(for: file, pass: &pass) else { return }
        let reader = try LineReader(
            descriptor: file.descriptor, path: self.path, startingAt: file.offset, firstLineNumber: file.nextLine,
            yieldsUnterminatedLastLine: finishing)
        var batch: [IngestRecord] = []
        var offset = file.offset
        var nextLine = file.nextLine
        while true {
            let line: Line?
            do {
                line = try reader.next()
            } catch {
                // A line without a line feed for a megabyte is not an export: keep it as a reject
                // and stop reading this file (a new file at the path is read again).
                batch.append(
                    .reject(
                        Reject(
                            position: SourcePosition(source: self.rejectSource(file), line: nextLine, offset: offset),
                            reason: String(describing: error), raw: [])))
                file.stopped = true
                break
            }
            guard let line else { break }
            var record = decoder.decode(
                line.bytes, at: SourcePosition(source: self.path, line: line.number, offset: line.offset))
            if case .reject(var reject) = record {
                reject.position.source = self.rejectSource(file)
                record = .reject(reject)
            }
            batch.append(record)
            offset = line.nextOffset
            nextLine = line.number + 1
            if batch.count >= self.batchSize {
                try await self.commit(batch, file, offset: offset, nextLine: nextLine, pass: &pass)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty {
            try await self.commit(batch, file, offset: offset, nextLine: nextLine, pass: &pass)
        }
    }

    /// The file's line decoder: the configured format, else the one its first bytes show. Nil
    /// while an empty file cannot tell; a file that can tell and is no line format is one reject.
    private func decoder(for file: OpenFile, pass: inout FollowPass) async throws -> LineDecoder? {
        if let decoder = file.decoder { return decoder }
        let head = Self.read(file.descriptor, length: InputFormatDetector.headLength)
        let format = self.format ?? InputFormatDetector.detect(path: self.path, head: head)
        if let format, case .lines(let decoder) = self.engine.decoder(for: format) {
            if format == .kamailioAcc, file.offset > 0 {
                try self.prime(decoder, with: file)
            }
            file.decoder = decoder
            file.format = format
            return decoder
        }
        // Until a whole line is there the format may still show itself.
        guard self.format != nil || head.contains(UInt8(ascii: "\n")) else { return nil }
        let reason =
            format.map { "format \($0.rawValue) cannot be followed line by line" }
            ?? "could not tell the followed file's format; set format: in the follow: entry"
        let reject = Reject(
            position: SourcePosition(source: self.rejectSource(file), line: 0, offset: 0), reason: reason,
            raw: Array(head.prefix(256)))
        try await self.commit([.reject(reject)], file, offset: file.offset, nextLine: file.nextLine, pass: &pass)
        file.stopped = true
        return nil
    }

    /// A db_text table's rows are read by the column names of its header line: a follower
    /// resuming in the middle of the file first shows the decoder the lines before the
    /// checkpoint (headers set its columns; the records are dropped, they are stored already).
    /// The only stateful line format, and read once per restart.
    private func prime(_ decoder: LineDecoder, with file: OpenFile) throws {
        let reader = try LineReader(
            descriptor: file.descriptor, path: self.path, startingAt: 0, yieldsUnterminatedLastLine: false)
        while let line = try reader.next(), line.nextOffset <= file.offset {
            _ = decoder.decode(
                line.bytes, at: SourcePosition(source: self.path, line: line.number, offset: line.offset))
        }
    }

    /// Stores `batch` and the checkpoint after it in one transaction, then moves the file on.
    private func commit(_ batch: [IngestRecord], _ file: OpenFile, offset: Int64, nextLine: Int, pass: inout FollowPass)
        async throws
    {
        let length = Int(min(Int64(Self.fingerprintLimit), offset))
        let fingerprint =
            length == file.fingerprintLength ? file.fingerprint : Self.fingerprint(file.descriptor, length: length)
        let checkpoint = FollowCheckpoint(
            path: self.path, device: file.identity.device, inode: file.identity.inode, offset: offset,
            nextLine: nextLine,
            fingerprint: fingerprint, fingerprintLength: length, generation: file.generation)
        try await self.lease?.keep()
        let outcome = try await self.store.ingest(
            batch, checkpoint: checkpoint, holding: self.lease?.claim, correlator: self.engine.correlator)
        self.engine.presence.note(batch, directory: self.engine.directory)
        // A file whose format could not be told has only its one reject to count.
        self.metrics?.ingested(format: (file.format ?? self.format)?.rawValue ?? "unknown", outcome)
        file.offset = offset
        file.nextLine = nextLine
        file.fingerprint = fingerprint
        file.fingerprintLength = length
        pass.lines += batch.count
        pass.outcome.add(outcome)
    }

    /// Rejects are keyed by source and offset; a later file at the same path starts at offset 0
    /// again, so its rejects name the generation (records keep the path: feeds watch it).
    private func rejectSource(_ file: OpenFile) -> String {
        file.generation <= 1 ? self.path : "\(self.path) (file \(file.generation))"
    }

    // MARK: Files

    /// An open file being followed; closes its descriptor when dropped.
    private final class OpenFile {
        let descriptor: Int32
        let identity: FileIdentity
        private(set) var generation: Int
        var offset: Int64 = 0
        var nextLine = 1
        var fingerprint = StableHash.hex(StableHash.fnv1a64([UInt8]()))
        var fingerprintLength = 0
        var decoder: LineDecoder?
        /// The format being read (configured or detected), once known.
        var format: InputFormat?
        /// Nothing more is read from this file (unknown format, over-long line).
        var stopped = false

        init(descriptor: Int32, identity: FileIdentity, generation: Int) {
            self.descriptor = descriptor
            self.identity = identity
            self.generation = generation
        }

        /// Where reading stands, as stored.
        func checkpoint(path: String) -> FollowCheckpoint {
            FollowCheckpoint(
                path: path, device: self.identity.device, inode: self.identity.inode, offset: self.offset,
                nextLine: self.nextLine, fingerprint: self.fingerprint, fingerprintLength: self.fingerprintLength,
                generation: self.generation)
        }

        /// Reads the file again from byte 0 as a new generation, with a fresh (stateful) decoder.
        func restart(generation: Int) {
            self.generation = generation
            self.offset = 0
            self.nextLine = 1
            self.fingerprint = StableHash.hex(StableHash.fnv1a64([UInt8]()))
            self.fingerprintLength = 0
            self.decoder = nil
            self.stopped = false
        }

        deinit { close(self.descriptor) }
    }

    private struct FileIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private static func identity(path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    private static func identity(descriptor: Int32) -> FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    private static func size(of descriptor: Int32) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    /// Shorter than what was read, or different in the bytes that recognise it.
    private static func wasRewritten(_ file: OpenFile) -> Bool {
        if Self.size(of: file.descriptor) < file.offset { return true }
        return file.fingerprintLength > 0
            && Self.fingerprint(file.descriptor, length: file.fingerprintLength) != file.fingerprint
    }

    private static func fingerprint(_ descriptor: Int32, length: Int) -> String {
        StableHash.hex(StableHash.fnv1a64(Self.read(descriptor, length: length)))
    }

    /// Up to `length` bytes from the start of the file (`pread`: the descriptor's offset is not used).
    private static func read(_ descriptor: Int32, length: Int) -> [UInt8] {
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let count = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + done }, length - done, off_t(done))
            }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            done += count
        }
        return Array(bytes.prefix(done))
    }
}
