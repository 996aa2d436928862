import FirstContactCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// What one client may hold or try (`http:` in the configuration): open event streams per token,
/// failed sign-ins per address. A client past a limit gets 429 with `Retry-After`, never a
/// dropped connection, and costs the server nothing more than the refusal.
package final class ClientLimits: Sendable {
    private struct State {
        var streams: [String: Int] = [:]
        /// Per address, the times of its failed sign-ins within the window, oldest first.
        var failures: [String: [Date]] = [:]
    }

    private let options: HTTPOptions
    private let state = NIOLockedValueBox(State())

    package init(options: HTTPOptions) {
        self.options = options
    }

    /// Takes one of `token`'s stream places for the life of the returned body (given back when
    /// the body is released, whether it ran to its end, failed, or never ran).
    /// - Throws: 429 when the token holds ``HTTPOptions/maxStreamsPerToken`` streams already.
    package func stream(
        for token: String, _ body: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) throws -> ResponseBody {
        let limit = self.options.maxStreamsPerToken
        let taken = self.state.withLockedValue { state in
            guard state.streams[token, default: 0] < limit else { return false }
            state.streams[token, default: 0] += 1
            return true
        }
        guard taken else {
            throw HTTPError(
                .tooManyRequests, headers: [.retryAfter: "30"],
                message:
                    "token \(token) holds \(limit) event streams already (http.max_streams_per_token); close one or retry later"
            )
        }
        // The place is given back when the body goes away, not only when it runs to its end: a
        // client that disconnects before its stream starts must not keep a place for ever.
        let slot = StreamSlot(limits: self, token: token)
        return ResponseBody { writer in
            try await slot.hold { try await body(&writer) }
        }
    }

    /// One stream's place: freed when the last reference to it (the response body) is released.
    private final class StreamSlot: Sendable {
        let limits: ClientLimits
        let token: String

        init(limits: ClientLimits, token: String) {
            self.limits = limits
            self.token = token
        }

        func hold(_ run: () async throws -> Void) async throws { try await run() }

        deinit { self.limits.release(self.token) }
    }

    fileprivate func release(_ token: String) {
        self.state.withLockedValue { state in
            state.streams[token, default: 1] -= 1
            if state.streams[token] == 0 { state.streams[token] = nil }
        }
    }

    /// Streams `token` holds open now.
    package func openStreams(_ token: String) -> Int { self.state.withLockedValue { $0.streams[token, default: 0] } }

    /// Seconds `address` must wait before it may try to sign in again; nil when it may now.
    package func signInWait(_ address: String, now: Date = Date()) -> Int64? {
        let window = TimeInterval(self.options.signInWindow)
        return self.state.withLockedValue { state in
            let recent = (state.failures[address] ?? []).filter { now.timeIntervalSince($0) < window }
            state.failures[address] = recent.isEmpty ? nil : recent
            guard recent.count >= self.options.signInAttempts, let oldest = recent.first else { return nil }
            return max(1, Int64((window - now.timeIntervalSince(oldest)).rounded(.up)))
        }
    }

    /// A sign-in from `address` failed (unknown token, wrong role).
    package func signInFailed(_ address: String, now: Date = Date()) {
        self.state.withLockedValue { state in
            var recent = state.failures[address] ?? []
            recent.append(now)
            // Only the newest `attempts` matter for the wait; older ones cost memory for nothing.
            if recent.count > self.options.signInAttempts {
                recent.removeFirst(recent.count - self.options.signInAttempts)
            }
            state.failures[address] = recent
            // Addresses that stopped trying are forgotten, so a scan of many addresses stays bounded.
            if state.failures.count > 10_000 {
                let window = TimeInterval(self.options.signInWindow)
                state.failures = state.failures.filter { _, times in
                    times.last.map { now.timeIntervalSince($0) < window } ?? false
                }
            }
        }
    }
}
