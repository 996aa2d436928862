import FirstContactStore

/// Where ingested records are counted (the HTTP target's `/metrics`), so the followers count
/// without this target knowing the metrics library.
package protocol IngestCounting: Sendable {
    /// Records ingested in one batch of a format (`asterisk-cdr`…), by result.
    func ingested(format: String, _ outcome: BatchOutcome)
}
