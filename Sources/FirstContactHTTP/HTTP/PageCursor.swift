import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird

/// Opaque paging cursors for `GET /v1/contacts` and `GET /v1/obligations`: the stable sort key
/// (`created_at`, `id`) of the last item of a page, base64url-encoded. The next page starts after
/// it, so items added between pages never shift the pages already read, and none is seen twice.
/// The cursor of the next page is sent in the `Next-Cursor` header (the body stays the list).
enum PageCursor {
    static let header = HTTPField.Name("Next-Cursor")!

    /// The answer to a page read with one item more than `limit`: the first `limit` items as a
    /// JSON array, and the cursor after the last of them when the extra item shows more exist
    /// (so the next page is known without reading the rest).
    static func response<Item>(
        _ found: [Item], limit: Int, key: (Item) -> (createdAt: Timestamp, id: String),
        write: (Item, JSONWriter) -> Void
    ) -> Response {
        let items = found.prefix(limit)
        let out = JSONWriter()
        out.array(items) { write($0, out) }
        var response = API.json(out.text)
        if found.count > limit, let last = items.last {
            let (createdAt, id) = key(last)
            response.headers[Self.header] = Self.encode(createdAt: createdAt, id: id)
        }
        return response
    }

    static func encode(createdAt: Timestamp, id: String) -> String {
        Data("v1:\(createdAt.seconds):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
    }

    static func decode(_ text: String) throws -> (createdAt: Timestamp, id: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else {
            throw HTTPError(.badRequest, message: "cursor is not one this server issued")
        }
        let parts = plain.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let seconds = Int64(parts[1]), !parts[2].isEmpty else {
            throw HTTPError(.badRequest, message: "cursor is not one this server issued")
        }
        return (Timestamp(seconds: seconds), String(parts[2]))
    }

    static func contact(_ text: String) throws -> ContactPosition {
        let (createdAt, id) = try Self.decode(text)
        return ContactPosition(createdAt: createdAt, id: ContactID(id))
    }

    static func obligation(_ text: String) throws -> (createdAt: Timestamp, id: String) {
        try Self.decode(text)
    }
}
