import FirstContactApp
import Foundation
import Hummingbird

/// A refused action answers with the status its reason calls for, on every route and page:
/// something missing 404, a state that does not allow it 409, a request that names something
/// wrong or leaves something out 400.
extension ActionError: HTTPResponseError {
    package var status: HTTPResponse.Status {
        switch self {
        case .unknownObligation, .unknownViolation, .unknownContact:
            .notFound
        case .notAHandoff, .notOutstanding, .notTheReceiver, .contactNotOpen:
            .conflict
        case .unknownAgent, .emptyReason, .unknownDepartment, .agentNotInDepartment, .missingField, .notAManualChannel:
            .badRequest
        }
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        try HTTPError(self.status, message: self.description).response(from: request, context: context)
    }
}

extension Parameters {
    /// A free-text parameter, as ``Request/queryText(_:)`` reads it: for a handler that parses the
    /// query once and reads several parameters from it.
    package func text(_ name: String) -> String? {
        guard let value = self[Substring(name)], !value.isEmpty else { return nil }
        return String(value)
    }
}

extension Request {
    /// A free-text query parameter; present but empty (`?cursor=`) reads as absent, the way forms
    /// and generated clients send a field left blank.
    package func queryText(_ name: String) -> String? {
        self.uri.queryParameters.text(name)
    }

    /// The body as `T`, read up to `limit` bytes; an empty body is `{}`. Malformed JSON or a field
    /// of the wrong type is a 400 that says what is wrong.
    package func decode<T: Decodable>(_ type: T.Type, limit: Int = 64 * 1024) async throws -> T {
        var request = self
        let buffer = try await request.collectBody(upTo: limit)
        let data = buffer.readableBytes > 0 ? Data(buffer: buffer) : Data("{}".utf8)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) {
            let detail =
                (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] ?? context.debugDescription
            throw HTTPError(.badRequest, message: "malformed JSON: \(detail)")
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw HTTPError(.badRequest, message: "the body must be a JSON object")
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw HTTPError(
                .badRequest,
                message: "\(Self.field(context)) must be a \(expected == String.self ? "string" : "\(expected)")")
        } catch DecodingError.valueNotFound(_, let context) {
            throw HTTPError(.badRequest, message: "\(Self.field(context)) may not be null")
        } catch DecodingError.keyNotFound(let key, _) {
            throw HTTPError(.badRequest, message: "\"\(key.stringValue)\" is required")
        }
    }

    private static func field(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty
            ? "the body" : "\"" + context.codingPath.map(\.stringValue).joined(separator: ".") + "\""
    }
}
