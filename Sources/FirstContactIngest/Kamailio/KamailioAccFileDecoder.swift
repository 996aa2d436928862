import FirstContactCore
import NIOConcurrencyHelpers

/// Decodes the lines of one Kamailio accounting file in order, remembering the db_text header
/// so that the rows after it are read by column name.
///
/// A db_text row cannot be read without its table's header (the columns are whatever the admin
/// declared), so unlike the Asterisk decoders this one has state: make one per file. A header
/// found further down (tables concatenated with `cat`) replaces the one before; lines before
/// any header are read as db_flatstore rows.
package final class KamailioAccFileDecoder: Sendable {
    private let decoder = KamailioAccDecoder()
    /// The header in force; a lock only because decoders are handed around as `Sendable` values,
    /// the lines of a file are decoded one after another.
    private let table = NIOLockedValueBox<KamailioAccDecoder.Table?>(nil)

    package init() {}

    /// Decodes one line (without its line feed).
    /// - Returns: `.ignored` for a header line, else what ``KamailioAccDecoder/decode(line:position:table:)`` makes of it.
    package func decode(line: ArraySlice<UInt8>, position: SourcePosition) -> IngestRecord {
        if let header = KamailioAccDecoder.header(line) {
            self.table.withLockedValue { $0 = header }
            return .ignored(position)
        }
        let table = self.table.withLockedValue { $0 }
        return self.decoder.decode(line: line, position: position, table: table)
    }
}
