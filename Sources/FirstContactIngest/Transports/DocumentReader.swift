#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole-file document (one FreeSWITCH XML CDR per file), read with a size cap.
package enum DocumentFile: Hashable, Sendable {
    /// The file's bytes (at most the cap).
    case document([UInt8])
    /// The file is bigger than the cap: only `head` (its first bytes) was read.
    case tooLarge(size: Int64, head: [UInt8])
}

/// Reads a document file whole, but never more than a cap: a file over the cap is reported
/// with its first bytes only, so a stray multi-gigabyte file costs nothing to refuse.
package enum DocumentReader {
    /// - Parameters:
    ///   - path: the file.
    ///   - maxBytes: the largest document accepted (``XMLLimits/maxDocumentBytes``).
    ///   - headBytes: how much of an over-size file to keep for its reject.
    /// - Throws: ``LineReaderError/cannotOpen(path:reason:)`` or ``LineReaderError/readFailed(path:reason:)``.
    package static func read(
        path: String, maxBytes: Int, headBytes: Int = 64 * 1024
    ) throws(LineReaderError) -> DocumentFile {
        guard let file = fopen(path, "rb") else {
            throw .cannotOpen(path: path, reason: Self.systemMessage())
        }
        defer { fclose(file) }
        // Read one byte past the cap: that is how a file that grew after a stat is caught too.
        // The first read asks for the size fstat reports (plus the one byte), so a typical
        // document is read in one call into a buffer of the right size.
        var info = stat()
        let known = fstat(fileno(file), &info) == 0 ? max(0, Int(info.st_size)) : 0
        var bytes: [UInt8] = []
        var next = min(known + 1, maxBytes + 1)
        while bytes.count <= maxBytes {
            let want = min(next, maxBytes + 1 - bytes.count)
            next = 64 * 1024
            let oldCount = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: want))
            let read = bytes.withUnsafeMutableBufferPointer { storage in
                fread(storage.baseAddress.map { $0 + oldCount }, 1, want, file)
            }
            bytes.removeSubrange((oldCount + read)...)
            if read < want {
                if ferror(file) != 0 { throw .readFailed(path: path, reason: Self.systemMessage()) }
                break
            }
        }
        guard bytes.count > maxBytes else { return .document(bytes) }
        var size = Int64(bytes.count)
        if fseeko(file, 0, SEEK_END) == 0 { size = max(size, Int64(ftello(file))) }
        return .tooLarge(size: size, head: Array(bytes.prefix(headBytes)))
    }

    private static func systemMessage() -> String {
        guard let message = strerror(errno) else { return "error \(errno)" }
        return String(cString: message)
    }
}
