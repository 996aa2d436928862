import FirstContactCore
import FirstContactIngest

/// The registry seen as the HTTP ingest route reads it: a line decoder for line formats, else a
/// decoder for the whole request body. Delete this file once that route calls
/// `engine.decoder(for: format).records(in: bytes, source: source)`.
extension Engine {
    package func lineDecoder(for format: InputFormat) -> LineDecoder? {
        if case .lines(let decoder) = self.decoder(for: format) { return decoder }
        return nil
    }

    package func documentDecoder(for format: InputFormat) -> DocumentDecoder? {
        switch self.decoder(for: format) {
        case .lines:
            return nil
        case .document(let decoder):
            return decoder
        case .stream(let decoder):
            return DocumentDecoder(maxBytes: FreeSWITCHEventDecoder.maxStreamBytes) { body, position in
                decoder.decode(body, at: position, final: true).records
            }
        }
    }
}
