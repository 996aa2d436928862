import FirstContactCore

/// A notification a webhook URL never accepted after every try.
package struct DeadLetter: Hashable, Sendable {
    package var url: String
    /// The outbox entry: its sequence and its stable key (the `X-FirstContact-Delivery` header).
    package var seq: Int64
    package var key: String
    package var kind: String
    package var attempts: Int
    /// The last HTTP status received, or nil when the last try got no response (connection
    /// refused, timeout…).
    package var lastStatus: Int?
    package var lastError: String
    package var firstAttemptAt: Timestamp
    package var lastAttemptAt: Timestamp

    package init(
        url: String, seq: Int64, key: String, kind: String, attempts: Int, lastStatus: Int?, lastError: String,
        firstAttemptAt: Timestamp, lastAttemptAt: Timestamp
    ) {
        self.url = url
        self.seq = seq
        self.key = key
        self.kind = kind
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.firstAttemptAt = firstAttemptAt
        self.lastAttemptAt = lastAttemptAt
    }
}
