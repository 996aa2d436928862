import FirstContactApp
import FirstContactCore
import Foundation
import Hummingbird
import Logging

/// Observes every request once: logs one line (method, path and query with customer numbers
/// masked, status, time) and times it into ``ServiceMetrics/request(method:route:status:duration:)``,
/// labelled with the route the router matched (`context.endpointPath`; `unmatched` when none did,
/// so a scan of random paths cannot create series). Headers are never logged (tokens travel in
/// `Authorization`), nor are bodies (CDRs carry numbers).
package struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    package let metrics: ServiceMetrics?

    package init(metrics: ServiceMetrics? = nil) {
        self.metrics = metrics
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            self.observe(request, context, status: Int(response.status.code), since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
            self.observe(request, context, status: status, since: started)
            throw error
        }
    }

    private func observe(_ request: Request, _ context: Context, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        self.metrics?.request(
            method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status,
            duration: elapsed)
        // Tenths of a millisecond, without `String(format:)` (Foundation's formatter on every line).
        let tenths = elapsed.components.seconds * 10_000 + elapsed.components.attoseconds / 100_000_000_000_000
        context.logger.info(
            "request",
            metadata: [
                "http.method": .string(request.method.rawValue),
                "http.target": .string(LogMasking.maskNumbers(request.uri.description)),
                "http.status": .stringConvertible(status),
                "http.ms": .string("\(tenths / 10).\(tenths % 10)"),
            ])
    }
}
