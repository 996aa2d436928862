import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

/// File followers driven pass by pass on real files in temporary directories: every case a
/// PBX's log files go through (appends, partial lines, restarts, rotation, copy-truncate, files
/// that appear late or are replaced). "Nothing read twice" is checked as zero duplicates: the
/// store is idempotent and would otherwise hide a line read again.
@Suite("File followers")
struct FollowerTests {
    /// Lines of the sample day's Master.csv and queue_log, each with its line feed.
    static let cdr = Self.lines("Master.csv")
    static let queueLog = Self.lines("queue_log")

    static func lines(_ name: String) -> [String] {
        let url = Fixture.sampleDay.appendingPathComponent("asterisk/\(name)")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0 + "\n" }
    }

    /// A temporary directory with a store and the sample engine.
    struct Setup {
        let directory: URL
        let engine: Engine
        let store: SQLiteContactStore

        init() throws {
            self.directory = try Fixture.temporaryDirectory()
            self.engine = try Fixture.engine()
            self.store = try SQLiteContactStore(path: self.directory.appendingPathComponent("fc.sqlite").path)
        }

        func path(_ name: String) -> String { self.directory.appendingPathComponent(name).path }

        func follower(_ name: String, format: InputFormat? = .asteriskCSV, status: FollowerStatus = FollowerStatus())
            -> FileFollower
        {
            FileFollower(path: self.path(name), format: format, engine: self.engine, store: self.store, status: status)
        }

        func records() async throws -> Int { try await self.store.totals().records }
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func append(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw FixtureError("cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    @Test("appended complete lines are ingested; a partial last line waits for its line feed")
    func appendsAndPartialLine() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        let (cdr, half) = (Self.cdr, Self.cdr[3].utf8.count / 2)
        try Self.write(cdr[0..<3].joined() + String(cdr[3].prefix(half)), to: path)
        let follower = setup.follower("Master.csv")

        var pass = try await follower.poll()
        #expect(pass.lines == 3)
        #expect(pass.outcome.newRecords == 3)
        #expect(try await setup.records() == 3)
        pass = try await follower.poll()
        #expect(pass.lines == 0, "nothing new: nothing read")

        try Self.append(String(cdr[3].dropFirst(half)) + cdr[4], to: path)
        pass = try await follower.poll()
        #expect(pass.lines == 2)
        #expect(pass.outcome.duplicates == 0)
        #expect(pass.outcome.rejects == 0, "the partial line was not read as a line of its own")
        #expect(try await setup.records() == 5)

        let checkpoint = try #require(try await setup.store.followCheckpoint(path: path))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(checkpoint.offset == Int64(size))
        #expect(checkpoint.nextLine == 6)
        #expect(checkpoint.generation == 1)
    }

    @Test("a restarted follower resumes at the stored checkpoint: nothing read twice, nothing skipped")
    func restartResumes() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        try Self.write(Self.cdr[0..<10].joined(), to: path)
        #expect(try await setup.follower("Master.csv").poll().lines == 10)

        try Self.append(Self.cdr[10..<14].joined() + "\"\",\"139", to: path)
        let restarted = setup.follower("Master.csv")
        let pass = try await restarted.poll()
        #expect(pass.lines == 4)
        #expect(pass.outcome.duplicates == 0)
        #expect(try await setup.records() == 14)
        // Line numbers go on where the first follower stopped.
        let checkpoint = try #require(try await setup.store.followCheckpoint(path: path))
        #expect(checkpoint.nextLine == 15)
    }

    @Test(
        "rotation by rename: the old file is finished from its descriptor (last line without a line feed too), then the new file is read from byte 0"
    )
    func renameRotation() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        try Self.write(Self.cdr[0..<5].joined(), to: path)
        let follower = setup.follower("Master.csv")
        #expect(try await follower.poll().lines == 5)

        // Written after the last pass and before the rename; the last one never gets its line feed.
        try Self.append(Self.cdr[5..<8].joined() + Self.cdr[8].dropLast(), to: path)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try Self.write(Self.cdr[9..<12].joined(), to: path)

        let pass = try await follower.poll()
        #expect(pass.filesFinished == 1)
        #expect(pass.lines == 4 + 3)
        #expect(pass.outcome.duplicates == 0)
        #expect(pass.outcome.rejects == 0)
        #expect(try await setup.records() == 12)
        let checkpoint = try #require(try await setup.store.followCheckpoint(path: path))
        #expect(checkpoint.generation == 2)
        #expect(checkpoint.nextLine == 4)
    }

    @Test("rotated while the service was down: the old file is found next to the path, finished, then the new one read")
    func rotationWhileDown() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        try Self.write(Self.cdr[0..<5].joined(), to: path)
        #expect(try await setup.follower("Master.csv").poll().lines == 5)

        try Self.append(Self.cdr[5..<7].joined(), to: path)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try Self.write(Self.cdr[7..<9].joined(), to: path)
        let pass = try await setup.follower("Master.csv").poll()
        #expect(pass.lines == 4)
        #expect(pass.filesFinished == 1)
        #expect(pass.outcome.duplicates == 0)
        #expect(try await setup.records() == 9)
    }

    @Test(
        "copy-truncate: a file shorter than the checkpoint, or rewritten in its first bytes, is read again from byte 0")
    func copyTruncate() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        try Self.write(Self.cdr[0..<6].joined(), to: path)
        let follower = setup.follower("Master.csv")
        #expect(try await follower.poll().lines == 6)

        // Truncated in place (same inode) and two new rows written: shorter than before.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try Self.append(Self.cdr[6..<8].joined(), to: path)
        var pass = try await follower.poll()
        #expect(pass.truncations == 1)
        #expect(pass.lines == 2)
        #expect(pass.outcome.duplicates == 0)

        // Truncated again and refilled past the old offset before the next pass: only the
        // first bytes tell that this is new content.
        let again = try #require(FileHandle(forWritingAtPath: path))
        try again.truncate(atOffset: 0)
        try again.close()
        try Self.append(Self.cdr[8..<20].joined(), to: path)
        pass = try await follower.poll()
        #expect(pass.truncations == 1)
        #expect(pass.lines == 12)
        #expect(pass.outcome.duplicates == 0)
        #expect(try await setup.records() == 20)
        #expect(try await setup.store.followCheckpoint(path: path)?.generation == 3)
    }

    @Test(
        "copy-truncate by logrotate: lines written after the last pass and before the copy are read from the copy, during a run and across a restart"
    )
    func copyTruncateReadsTheCopy() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        try Self.write(Self.cdr[0..<5].joined(), to: path)
        let follower = setup.follower("Master.csv")
        #expect(try await follower.poll().lines == 5)

        func rotate(appending unread: ArraySlice<String>, thenWriting next: ArraySlice<String>, copy: String) throws {
            try Self.append(unread.joined(), to: path)
            try FileManager.default.copyItem(atPath: path, toPath: setup.path(copy))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: 0)
            try handle.close()
            try Self.append(next.joined(), to: path)
        }
        try rotate(appending: Self.cdr[5..<8], thenWriting: Self.cdr[8..<10], copy: "Master.csv.1")
        var pass = try await follower.poll()
        #expect(pass.lines == 3 + 2)
        #expect(pass.truncations == 1)
        #expect(pass.outcome.duplicates == 0)

        // Down while logrotate runs: the restarted follower finds the copy by its first bytes.
        try FileManager.default.removeItem(atPath: setup.path("Master.csv.1"))
        try rotate(appending: Self.cdr[10..<13], thenWriting: Self.cdr[13..<15], copy: "Master.csv.1")
        pass = try await setup.follower("Master.csv").poll()
        #expect(pass.lines == 3 + 2)
        #expect(pass.outcome.duplicates == 0)
        #expect(try await setup.records() == 15)
    }

    @Test("a file (and its directory) that appears after the follower started is read from its start")
    func fileAppearsLater() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let follower = setup.follower("spool/cdr-csv/Master.csv")
        #expect(try await follower.poll().lines == 0)
        #expect(try await setup.store.followCheckpoint(path: setup.path("spool/cdr-csv/Master.csv")) == nil)

        try FileManager.default.createDirectory(atPath: setup.path("spool/cdr-csv"), withIntermediateDirectories: true)
        try Self.write(Self.cdr[0..<3].joined(), to: setup.path("spool/cdr-csv/Master.csv"))
        let pass = try await follower.poll()
        #expect(pass.lines == 3)
        #expect(try await setup.records() == 3)
    }

    @Test(
        "a different file put at the same path (deleted and created again) is read from byte 0, during a run and across a restart"
    )
    func replacedBySameName() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        try Self.write(Self.cdr[0..<4].joined(), to: path)
        let follower = setup.follower("Master.csv")
        #expect(try await follower.poll().lines == 4)

        // Deleted and created again: the file system may well hand out the same inode.
        try FileManager.default.removeItem(atPath: path)
        try Self.write(Self.cdr[4..<10].joined(), to: path)
        var pass = try await follower.poll()
        #expect(pass.lines == 6)
        #expect(pass.outcome.duplicates == 0)

        try FileManager.default.removeItem(atPath: path)
        try Self.write(Self.cdr[10..<20].joined(), to: path)
        pass = try await setup.follower("Master.csv").poll()
        #expect(pass.lines == 10)
        #expect(pass.outcome.duplicates == 0)
        #expect(try await setup.records() == 20)
    }

    @Test("a bad line is a reject with the path, line and offset; the lines after it are read")
    func rejectsKeepTheirPosition() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        let bad = "\"not\",\"a\",\"cdr\"\n"
        try Self.write(Self.cdr[0] + bad + Self.cdr[1], to: path)
        let pass = try await setup.follower("Master.csv").poll()
        #expect(pass.lines == 3)
        #expect(pass.outcome.rejects == 1)
        let reject = try #require(try await setup.store.snapshot().rejects.first)
        #expect(reject.position.source == path)
        #expect(reject.position.line == 2)
        #expect(reject.position.offset == Int64(Self.cdr[0].utf8.count))
        #expect(reject.raw == Array(bad.utf8.dropLast()))
    }

    @Test("a db_text table resumed after a restart is still read by its header's columns")
    func kamailioHeaderAcrossRestart() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let table = Fixture.root.appendingPathComponent("Tests/FirstContactIngestTests/Fixtures/kamailio/dbtext/acc")
        let lines = try String(contentsOf: table, encoding: .utf8).split(separator: "\n").map { $0 + "\n" }
        try #require(lines.count >= 4)
        let path = setup.path("acc")
        try Self.write(lines[0..<2].joined(), to: path)
        #expect(try await setup.follower("acc", format: .kamailioAcc).poll().outcome.newRecords == 1)

        try Self.append(lines[2...].joined(), to: path)
        let pass = try await setup.follower("acc", format: .kamailioAcc).poll()
        #expect(pass.lines == lines.count - 2)
        #expect(pass.outcome.rejects == 0, "rows after the restart are read with the header's columns")
        #expect(pass.outcome.newRecords == lines.count - 2)
    }

    @Test(
        "a reject at the same offset of the next file at the path is kept too (rejects are keyed by source and offset)")
    func rejectsOfLaterFilesAreKept() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("Master.csv")
        let follower = setup.follower("Master.csv")
        try Self.write("\"first\",\"bad\",\"row\"\n", to: path)
        #expect(try await follower.poll().outcome.rejects == 1)
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try Self.write("\"second\",\"bad\",\"row\"\n", to: path)
        #expect(try await follower.poll().outcome.rejects == 1)
        let rejects = try await setup.store.snapshot().rejects
        #expect(Set(rejects.map(\.position.source)) == [path, "\(path) (file 2)"])
        #expect(rejects.allSatisfy { $0.position.offset == 0 && $0.position.line == 1 })
    }

    @Test("without a configured format the file's first line tells it (queue_log); an empty file waits")
    func detectsTheFormat() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let path = setup.path("queue_log")
        try Self.write("", to: path)
        let status = FollowerStatus()
        let follower = setup.follower("queue_log", format: nil, status: status)
        #expect(try await follower.poll().lines == 0)
        try Self.append(Self.queueLog[0..<20].joined() + "1795", to: path)
        let pass = try await follower.poll()
        #expect(pass.lines == 20)
        #expect(pass.outcome.rejects == 0)
        #expect(pass.outcome.newRecords > 0)
        let state = try #require(status.snapshot().first)
        #expect(state.linesRead == 20)
        #expect(state.lagBytes == 4, "the held-back partial line")
    }
}
