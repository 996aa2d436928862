import Foundation
import HTTPTypes
import Hummingbird

/// A known path asked with a method it does not have answers `405 Method Not Allowed` with an
/// `Allow` header (RFC 9110 §15.5.6); an unknown path stays 404. Added to the router after every
/// route, so it wraps only the router's not-found responder and never a matched route.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    /// The served routes as (method, path segments), `{param}` segments matching any one segment.
    let routes: [(method: String, segments: [String])]

    init(served: [String]) {
        self.routes = served.compactMap { route in
            let parts = route.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), parts[1].split(separator: "/").map(String.init))
        }
    }

    /// The methods served on `path`, in the order the routes were added (empty for an unknown path).
    func allowed(on path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var methods: [String] = []
        for route in self.routes where route.segments.count == segments.count {
            let matches = zip(route.segments, segments).allSatisfy { template, segment in
                template.hasPrefix("{") || template == segment
            }
            if matches, !methods.contains(route.method) { methods.append(route.method) }
        }
        return methods
    }

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let methods = self.allowed(on: request.uri.path)
        guard !methods.isEmpty, !methods.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        let allow = methods.joined(separator: ", ")
        throw HTTPError(
            .methodNotAllowed, headers: [.allow: allow],
            message: "\(request.method.rawValue) is not allowed on \(request.uri.path) (allowed: \(allow))")
    }
}
