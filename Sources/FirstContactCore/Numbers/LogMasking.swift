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
        let characters = Array(text)
        var result = ""
        result.reserveCapacity(characters.count)
        var index = 0
        while index < characters.count {
            var end = index
            if characters[end] == "+" { end += 1 }
            let digitsStart = end
            while end < characters.count, characters[end].isASCII, characters[end].isNumber { end += 1 }
            if end - digitsStart >= 8 {
                result += CustomerNumber.other(String(characters[index..<end])).masked
                index = end
            } else {
                // Not a long number: copy the characters looked at (at least one) and go on.
                let stop = max(end, index + 1)
                result += String(characters[index..<stop])
                index = stop
            }
        }
        return result
    }
}
