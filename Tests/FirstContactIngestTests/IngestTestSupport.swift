import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

/// Paths and helpers shared by the ingest tests. Data is read at run time, never bundled.
enum TestFiles {
    /// `Tests/FirstContactIngestTests` (this file's folder).
    static let testsFolder = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    /// The package root (`/work/main` on the build machines).
    static let packageRoot = testsFolder.deletingLastPathComponent().deletingLastPathComponent()
    /// `../shared/corpus` next to the package: real exports, never copied into the repository.
    static let corpus = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
    static let fixtures = testsFolder.appendingPathComponent("Fixtures")

    static func corpus(_ relative: String) -> String { corpus.appendingPathComponent(relative).path }
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// The non-hidden regular files directly inside a corpus folder, sorted.
    static func corpusFiles(in folder: String) -> [String] {
        let url = corpus.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(
                    atPath: url.appendingPathComponent(name).path,
                    isDirectory: &isDirectory
                )
                && !isDirectory.boolValue
        }.sorted()
    }

    /// Writes `bytes` to a fresh temporary file and returns its path; pair with ``removeTemporaryFile(_:)``.
    static func temporaryFile(_ bytes: [UInt8], name: String = "input") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fc-ingest-tests-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Deletes a file made by ``temporaryFile(_:name:)`` and its folder.
    static func removeTemporaryFile(_ path: String) {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    /// Reads `path` with ``LineReader`` and decodes every line.
    static func decode(
        _ path: String,
        with decode: (ArraySlice<UInt8>, SourcePosition) -> IngestRecord
    ) throws -> [IngestRecord] {
        let reader = try LineReader(path: path)
        var records: [IngestRecord] = []
        while let line = try reader.next() {
            let position = SourcePosition(source: path, line: line.number, offset: line.offset)
            records.append(decode(line.bytes[...], position))
        }
        return records
    }
}

extension IngestRecord {
    var leg: LegRecord? {
        if case .record(.leg(let leg)) = self { return leg }
        return nil
    }

    var queue: QueueRecord? {
        if case .record(.queue(let queue)) = self { return queue }
        return nil
    }

    var reject: Reject? {
        if case .reject(let reject) = self { return reject }
        return nil
    }

    var isIgnored: Bool {
        if case .ignored = self { return true }
        return false
    }
}

/// A position for decoding single lines in tests.
func testPosition(_ line: Int = 1, offset: Int64 = 0) -> SourcePosition {
    SourcePosition(source: "test", line: line, offset: offset)
}

extension Timestamp {
    /// A UTC instant written as `YYYY-MM-DDTHH:MM:SSZ` in a test.
    static func utc(_ text: String) throws -> Timestamp {
        try #require(Timestamp(iso8601: text), "bad test timestamp \(text)")
    }
}
