import FirstContactIngest
import Foundation
import Testing

@Suite("LineReader: streaming line splitting with numbers and byte offsets")
struct LineReaderTests {
    private func readAll(_ path: String) throws -> [Line] {
        let reader = try LineReader(path: path)
        var lines: [Line] = []
        while let line = try reader.next() { lines.append(line) }
        return lines
    }

    @Test("LF lines keep their 1-based numbers and the byte offset of their first byte")
    func numbersAndOffsets() throws {
        let path = try TestFiles.temporaryFile(Array("one\ntwo\n\nfour\n".utf8))
        defer { TestFiles.removeTemporaryFile(path) }
        let lines = try self.readAll(path)
        #expect(lines.map { String(decoding: $0.bytes, as: UTF8.self) } == ["one", "two", "", "four"])
        #expect(lines.map(\.number) == [1, 2, 3, 4])
        #expect(lines.map(\.offset) == [0, 4, 8, 9])
        #expect(lines.map(\.nextOffset) == [4, 8, 9, 14])
    }

    @Test("CRLF endings lose the CR; offsets still count it")
    func crlf() throws {
        let path = try TestFiles.temporaryFile(Array("a,b\r\ncd\r\n".utf8))
        defer { TestFiles.removeTemporaryFile(path) }
        let lines = try self.readAll(path)
        #expect(lines.map(\.bytes) == [Array("a,b".utf8), Array("cd".utf8)])
        #expect(lines.map(\.offset) == [0, 5])
    }

    @Test("a last line without a line feed is still yielded")
    func unterminatedLastLine() throws {
        let path = try TestFiles.temporaryFile(Array("first\nlast".utf8))
        defer { TestFiles.removeTemporaryFile(path) }
        let lines = try self.readAll(path)
        #expect(lines.map(\.bytes) == [Array("first".utf8), Array("last".utf8)])
        #expect(lines.last?.offset == 6)
        #expect(lines.last?.nextOffset == 10)
    }

    @Test("a follower can hold back a partial last line and resume at its offset")
    func holdBackAndResume() throws {
        let path = try TestFiles.temporaryFile(Array("done\npart".utf8))
        defer { TestFiles.removeTemporaryFile(path) }
        let reader = try LineReader(path: path, yieldsUnterminatedLastLine: false)
        #expect(try reader.next()?.bytes == Array("done".utf8))
        #expect(try reader.next() == nil)
        #expect(reader.resumeOffset == 5)

        let resumed = try LineReader(path: path, startingAt: 5, firstLineNumber: 2)
        let line = try #require(try resumed.next())
        #expect(line.bytes == Array("part".utf8))
        #expect(line.number == 2)
        #expect(line.offset == 5)
    }

    @Test("an empty file has no lines")
    func emptyFile() throws {
        let path = try TestFiles.temporaryFile([])
        defer { TestFiles.removeTemporaryFile(path) }
        #expect(try self.readAll(path).isEmpty)
    }

    @Test("lines crossing 64 KiB chunk boundaries come out whole, with exact offsets")
    func chunkBoundaries() throws {
        // Lines of many lengths (including ones longer than a chunk) so boundaries fall everywhere.
        var bytes: [UInt8] = []
        for index in 0..<900 {
            let length = (index * 7919) % 700 + (index % 97 == 0 ? 70_000 : 0)
            bytes += Array(repeating: UInt8(ascii: "a") + UInt8(index % 26), count: length)
            bytes += index % 3 == 0 ? [13, 10] : [10]
        }
        bytes += Array("tail".utf8)
        #expect(bytes.count > 3 * LineReader.chunkSize)
        let path = try TestFiles.temporaryFile(bytes)
        defer { TestFiles.removeTemporaryFile(path) }

        let streamed = try self.readAll(path)
        let inMemory = LineReader.lines(in: bytes)
        #expect(streamed.count == 901)
        #expect(streamed == inMemory)
        for line in streamed.prefix(50) {
            let start = Int(line.offset)
            #expect(Array(bytes[start..<(start + line.bytes.count)]) == line.bytes)
        }
    }

    @Test(
        "in-memory bodies split exactly like files",
        arguments: [
            "", "\n", "x", "x\n", "x\r\ny", "\r\n\r\n", "a\nb\nc\n", "no newline at all", "\r",
        ]
    )
    func inMemoryMatchesFile(text: String) throws {
        let bytes = Array(text.utf8)
        let path = try TestFiles.temporaryFile(bytes)
        defer { TestFiles.removeTemporaryFile(path) }
        #expect(LineReader.lines(in: bytes) == (try self.readAll(path)))
    }

    @Test("a missing file throws an error that names the path and the reason")
    func missingFile() {
        let path = "/nonexistent/firstcontact/Master.csv"
        #expect {
            _ = try LineReader(path: path)
        } throws: { error in
            guard let error = error as? LineReaderError, case .cannotOpen(let failedPath, let reason) = error else {
                return false
            }
            return failedPath == path && reason.contains("No such file") && error.description.contains(path)
        }
    }

    @Test("a line longer than the limit is an error, not unbounded memory")
    func overlongLine() throws {
        let path = try TestFiles.temporaryFile(Array("ok\n".utf8) + Array(repeating: UInt8(ascii: "z"), count: 200_000))
        defer { TestFiles.removeTemporaryFile(path) }
        let reader = try LineReader(path: path, maximumLineLength: 100_000)
        #expect(try reader.next()?.bytes == Array("ok".utf8))
        #expect(throws: LineReaderError.lineTooLong(path: path, line: 2, offset: 3, limit: 100_000)) {
            _ = try reader.next()
        }
    }
}
