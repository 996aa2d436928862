import FirstContactCore
import Foundation
import Hummingbird
import Logging

/// Logs one line per request: method, path and query (customer numbers masked), status and time.
/// Headers are never logged (tokens travel in `Authorization`), nor are bodies (CDRs carry numbers).
package struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            self.log(request, context, status: Int(response.status.code), since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError).map { Int($0.status.code) } ?? 500
            self.log(request, context, status: status, since: started)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info(
            "request",
            metadata: [
                "http.method": .string(request.method.rawValue),
                "http.target": .string(LogMasking.maskNumbers(request.uri.description)),
                "http.status": .stringConvertible(status),
                "http.ms": .string(String(format: "%.1f", milliseconds)),
            ])
    }
}
