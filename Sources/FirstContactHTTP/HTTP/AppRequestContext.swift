import FirstContactCore
import Hummingbird

/// The request context of every route: Hummingbird's core storage plus who is calling, set by
/// ``TokenAuthMiddleware`` before any handler runs.
package struct AppRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The token's holder; nil without an `Authorization` header or with an unknown token.
    package var principal: Principal?
    /// The peer's IP address (sign-in attempts are counted per address); "unknown" without one.
    package let remoteAddress: String

    package init(source: Source) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The caller, when their role is one of `roles`.
    /// - Throws: 401 without a valid token, 403 for a role that may not.
    package func principal(_ roles: Set<Token.Role>) throws -> Principal {
        guard let principal = self.principal else {
            throw HTTPError(
                .unauthorized, headers: [.wwwAuthenticate: "Bearer"],
                message: "a valid token is required (Authorization: Bearer TOKEN)")
        }
        guard roles.contains(principal.role) else {
            throw HTTPError(.forbidden, message: "role \(principal.role.rawValue) may not do this")
        }
        return principal
    }
}

/// Authentication: the `Authorization` header's token, looked up once per request, becomes the
/// context's ``AppRequestContext/principal``. Routes decide which roles they admit.
package struct TokenAuthMiddleware: RouterMiddleware {
    package let tokens: [Token]

    package func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.principal = Principal.authenticate(authorization: request.headers[.authorization], tokens: self.tokens)
        return try await next(request, context)
    }
}
