/// Customer numbers are personal data (POLICY art. 19): text that goes to logs passes through
/// here first.
package enum LogMasking {
    /// `text` with every run of 8 or more digits (with an optional leading `+`) masked as
    /// ``CustomerNumber/masked`` masks a number: first 3 and last 4 characters kept
    /// (`13800002222` → `138****2222`, `+8613800002222` → `+86*******2222`).
    ///
    /// A log line cannot tell a phone number from any other long digit run, so it masks them all
    /// (Asterisk uniqueids and epochs too); 7 digits and fewer (extensions, service numbers,
    /// line numbers) are not personal and stay readable.
    package static func maskNumbers(_ text: String) -> String {
        // Every request's log line passes here; most have no long digit run at all.
        guard Self.hasLongDigitRun(text) else { return text }
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            var end = index
            if bytes[end] == UInt8(ascii: "+") { end += 1 }
            let digitsStart = end
            while end < bytes.count, NumberNormaliser.isDigit(bytes[end]) { end += 1 }
            if end - digitsStart >= 8 {
                result += CustomerNumber.other(String(decoding: bytes[index..<end], as: UTF8.self)).masked.utf8
                index = end
            } else {
                // Not a long number: copy the bytes looked at (at least one) and go on. A run is
                // ASCII only, so a multi-byte character is never cut.
                let stop = max(end, index + 1)
                result += bytes[index..<stop]
                index = stop
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func hasLongDigitRun(_ text: String) -> Bool {
        var run = 0
        for byte in text.utf8 {
            if NumberNormaliser.isDigit(byte) {
                run += 1
                if run >= 8 { return true }
            } else {
                run = 0
            }
        }
        return false
    }
}
