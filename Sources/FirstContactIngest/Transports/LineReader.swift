#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line of a line-oriented export (Master.csv, queue_log), without its terminator.
package struct Line: Hashable, Sendable {
    /// The line's bytes without the LF and without a CR right before it.
    package var bytes: [UInt8]
    /// 1-based line number.
    package var number: Int
    /// Byte offset of the line's first byte in the file (or body).
    package var offset: Int64
    /// Byte offset just past the line's terminator: where the next line starts.
    package var nextOffset: Int64

    package init(bytes: [UInt8], number: Int, offset: Int64, nextOffset: Int64) {
        self.bytes = bytes
        self.number = number
        self.offset = offset
        self.nextOffset = nextOffset
    }
}

/// Why a file could not be read line by line.
package enum LineReaderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `fopen` failed; `reason` is the system's message (`No such file or directory`…).
    case cannotOpen(path: String, reason: String)
    /// `fread` reported an I/O error.
    case readFailed(path: String, reason: String)
    /// A line grew past the limit without a line feed: not a line-oriented file.
    case lineTooLong(path: String, line: Int, offset: Int64, limit: Int)

    package var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
        case .readFailed(let path, let reason): "cannot read \(path): \(reason)"
        case .lineTooLong(let path, let line, let offset, let limit):
            "\(path):\(line): line starting at byte \(offset) is longer than \(limit) bytes; not a line-oriented export"
        }
    }
}

/// Streams the lines of a file in 64 KiB chunks; the file is never held in memory whole.
///
/// Splitting rules (shared with ``lines(in:)``): lines end at LF; a CR right before the LF is
/// dropped (CRLF files); a last line without LF is still a line (unless the reader is told to
/// hold it back, which a follower of a growing file wants). Each ``Line`` owns its bytes, so
/// keeping one does not pin or copy the reader's buffer.
///
/// A reader is a single-consumer cursor (a class, not `Sendable`): make one per file and task.
package final class LineReader {
    /// Bytes read per `fread`.
    package static let chunkSize = 64 * 1024

    package let path: String
    private let file: UnsafeMutablePointer<FILE>
    private let maximumLineLength: Int
    private let yieldsUnterminatedLastLine: Bool
    /// Unconsumed bytes start at `head`; `buffer[0]` is at file offset `bufferOffset`.
    private var buffer: [UInt8] = []
    private var head = 0
    /// Where the LF search resumes (bytes before it in the pending line hold no LF).
    private var scanFrom = 0
    private var bufferOffset: Int64
    private var lineNumber: Int
    private var reachedEnd = false

    /// Opens `path` for reading.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - offset: byte offset to start at (a follower resuming where it stopped); must be a line start.
    ///   - firstLineNumber: the number of the line at `offset`.
    ///   - maximumLineLength: longest line accepted (Asterisk lines are ≤ 1 KiB; a file without
    ///     line feeds is not an export and must not fill memory).
    ///   - yieldsUnterminatedLastLine: false holds back a trailing partial line (a file being written).
    /// - Throws: ``LineReaderError/cannotOpen(path:reason:)`` when the file cannot be opened or positioned.
    package convenience init(
        path: String,
        startingAt offset: Int64 = 0,
        firstLineNumber: Int = 1,
        maximumLineLength: Int = 1 << 20,
        yieldsUnterminatedLastLine: Bool = true
    ) throws(LineReaderError) {
        guard let file = fopen(path, "rb") else {
            throw .cannotOpen(path: path, reason: Self.systemMessage())
        }
        try self.init(
            file: file, path: path, startingAt: offset, firstLineNumber: firstLineNumber,
            maximumLineLength: maximumLineLength, yieldsUnterminatedLastLine: yieldsUnterminatedLastLine)
    }

    /// Reads a file already open as `descriptor` (a follower keeps reading a file by its
    /// descriptor after rotation renamed or replaced the path). The descriptor is duplicated:
    /// the caller keeps and closes its own.
    /// - Parameter path: the name used in errors.
    package convenience init(
        descriptor: Int32,
        path: String,
        startingAt offset: Int64 = 0,
        firstLineNumber: Int = 1,
        maximumLineLength: Int = 1 << 20,
        yieldsUnterminatedLastLine: Bool = true
    ) throws(LineReaderError) {
        let copy = dup(descriptor)
        guard copy >= 0, let file = fdopen(copy, "rb") else {
            let reason = Self.systemMessage()
            if copy >= 0 { close(copy) }
            throw .cannotOpen(path: path, reason: reason)
        }
        try self.init(
            file: file, path: path, startingAt: offset, firstLineNumber: firstLineNumber,
            maximumLineLength: maximumLineLength, yieldsUnterminatedLastLine: yieldsUnterminatedLastLine)
    }

    /// Takes ownership of `file` (closed on deinit or on a failed seek).
    private init(
        file: UnsafeMutablePointer<FILE>, path: String, startingAt offset: Int64, firstLineNumber: Int,
        maximumLineLength: Int, yieldsUnterminatedLastLine: Bool
    ) throws(LineReaderError) {
        // Always positioned: a duplicated descriptor shares its owner's offset, which may be anywhere.
        if fseeko(file, off_t(offset), SEEK_SET) != 0 {
            let reason = Self.systemMessage()
            fclose(file)
            throw .cannotOpen(path: path, reason: "cannot seek to byte \(offset): \(reason)")
        }
        self.path = path
        self.file = file
        self.bufferOffset = offset
        self.lineNumber = firstLineNumber - 1
        self.maximumLineLength = maximumLineLength
        self.yieldsUnterminatedLastLine = yieldsUnterminatedLastLine
    }

    deinit {
        fclose(self.file)
    }

    /// Byte offset just past the last line returned: where a later reader should resume.
    package var resumeOffset: Int64 { self.bufferOffset + Int64(self.head) }

    /// The next line, or nil at the end of the file.
    /// - Throws: ``LineReaderError`` on a read error or an over-long line.
    package func next() throws(LineReaderError) -> Line? {
        while true {
            if let lineFeed = self.findLineFeed() {
                return self.takeLine(upTo: lineFeed, terminatorLength: 1)
            }
            self.scanFrom = self.buffer.count
            if self.reachedEnd {
                guard self.head < self.buffer.count, self.yieldsUnterminatedLastLine else { return nil }
                return self.takeLine(upTo: self.buffer.count, terminatorLength: 0)
            }
            if self.buffer.count - self.head > self.maximumLineLength {
                throw .lineTooLong(
                    path: self.path,
                    line: self.lineNumber + 1,
                    offset: self.resumeOffset,
                    limit: self.maximumLineLength
                )
            }
            try self.readChunk()
        }
    }

    /// Calls `body` for every remaining line, in order.
    package func forEach(_ body: (Line) throws -> Void) throws {
        while let line = try self.next() {
            try body(line)
        }
    }

    /// Splits an in-memory body (an HTTP POST) exactly as the reader splits a file.
    package static func lines(in bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var number = 0
        while start < bytes.count {
            let lineFeed = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            let end = lineFeed ?? bytes.count
            number += 1
            lines.append(
                Line(
                    bytes: Self.withoutCR(bytes[start..<end]),
                    number: number,
                    offset: Int64(start),
                    nextOffset: Int64(lineFeed.map { $0 + 1 } ?? end)
                )
            )
            start = end + 1
        }
        return lines
    }

    // MARK: - Private

    private func findLineFeed() -> Int? {
        let from = max(self.head, self.scanFrom)
        guard from < self.buffer.count else { return nil }
        return self.buffer.withUnsafeBufferPointer { storage -> Int? in
            guard let base = storage.baseAddress,
                let hit = memchr(base + from, Int32(UInt8(ascii: "\n")), storage.count - from)
            else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func takeLine(upTo end: Int, terminatorLength: Int) -> Line {
        self.lineNumber += 1
        let line = Line(
            bytes: Self.withoutCR(self.buffer[self.head..<end]),
            number: self.lineNumber,
            offset: self.bufferOffset + Int64(self.head),
            nextOffset: self.bufferOffset + Int64(end + terminatorLength)
        )
        self.head = end + terminatorLength
        self.scanFrom = self.head
        return line
    }

    private func readChunk() throws(LineReaderError) {
        // Drop consumed bytes first so the buffer holds at most one partial line plus a chunk.
        if self.head > 0 {
            self.buffer.removeSubrange(0..<self.head)
            self.bufferOffset += Int64(self.head)
            self.scanFrom -= self.head
            self.head = 0
        }
        let oldCount = self.buffer.count
        self.buffer.append(contentsOf: repeatElement(0, count: Self.chunkSize))
        let file = self.file
        let read = self.buffer.withUnsafeMutableBufferPointer { storage in
            fread(storage.baseAddress.map { $0 + oldCount }, 1, Self.chunkSize, file)
        }
        self.buffer.removeSubrange((oldCount + read)...)
        if read < Self.chunkSize {
            if ferror(file) != 0 {
                throw .readFailed(path: self.path, reason: Self.systemMessage())
            }
            // A growing file may have more later, but this reader stops at the end it saw.
            if feof(file) != 0 { self.reachedEnd = true }
        }
    }

    private static func withoutCR(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        if bytes.last == UInt8(ascii: "\r") { return Array(bytes.dropLast()) }
        return Array(bytes)
    }

    private static func systemMessage() -> String {
        guard let message = strerror(errno) else { return "error \(errno)" }
        return String(cString: message)
    }
}
