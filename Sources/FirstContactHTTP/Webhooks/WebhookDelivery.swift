import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Logging
import ServiceLifecycle

/// Delivers the notifications outbox to the configured webhooks (SPEC: "configured webhooks
/// (signed, retried)").
///
/// Each URL has its own loop and its own durable cursor (`webhook_cursor`): entries go out in
/// outbox order, one at a time, so a receiver sees them in order, and a dead URL delays nobody
/// else. An entry is retried with exponential back-off and jitter on connection errors, timeouts
/// and non-2xx answers; after `max_attempts` tries it becomes a dead letter and the cursor moves
/// on. The cursor moves only after the entry was delivered or dead-lettered, so a restart neither
/// skips nor re-sends (at least once: a crash between a 2xx and the cursor write re-sends that one
/// entry, which receivers drop by its `X-FirstContact-Delivery` id).
///
/// With several instances on one database each URL is delivered by the holder of its lease
/// (`webhook <url>`), renewed while it delivers (between entries and between tries); another
/// instance takes the URL over when the lease expires and resumes from the stored cursor, with
/// the same delivery ids: a receiver sees a duplicate only for the entry in flight when the
/// holder died.
package struct WebhookDelivery: Service {
    /// One configured URL with its secret resolved.
    package struct Target: Sendable {
        package var url: String
        package var secret: [UInt8]
        package var maxAttempts: Int
        /// Where a URL never served before starts reading the outbox (`from:`).
        package var from: Webhook.Start

        package init(
            url: String, secret: [UInt8], maxAttempts: Int = Webhook.defaultMaxAttempts, from: Webhook.Start = .now
        ) {
            self.url = url
            self.secret = secret
            self.maxAttempts = maxAttempts
            self.from = from
        }
    }

    /// Waits between tries: `base × 2^(try − 1)`, capped at `maximum`, then scaled by a random
    /// factor in [0.5, 1] (jitter, so many senders do not retry in step).
    package struct Backoff: Sendable {
        package var base: Duration
        package var maximum: Duration
        package var jitter: Bool

        package init(base: Duration = .seconds(1), maximum: Duration = .seconds(300), jitter: Bool = true) {
            self.base = base
            self.maximum = maximum
            self.jitter = jitter
        }

        package func delay(afterAttempt attempt: Int) -> Duration {
            let exponential = self.base * (1 << min(max(attempt - 1, 0), 30))
            let capped = min(exponential, self.maximum)
            return self.jitter ? capped * Double.random(in: 0.5...1) : capped
        }
    }

    package let store: any ContactStore
    package let targets: [Target]
    package let transport: any WebhookTransport
    package let clock: any WallClock
    package let backoff: Backoff
    /// How long a loop waits when the outbox has nothing new.
    package let pollInterval: Duration
    /// How waiting is done (tests pass one that returns at once).
    package let sleep: @Sendable (Duration) async throws -> Void
    package let logger: Logger
    /// How this instance holds each URL's lease.
    package let lease: LeaseTerms

    package init(
        store: any ContactStore, targets: [Target], transport: any WebhookTransport = HTTPClientWebhookTransport(),
        clock: any WallClock = SystemWallClock(), backoff: Backoff = Backoff(), pollInterval: Duration = .seconds(1),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger = Logger(label: "firstcontact.webhooks"), lease: LeaseTerms = LeaseTerms()
    ) {
        self.store = store
        self.targets = targets
        self.transport = transport
        self.clock = clock
        self.backoff = backoff
        self.pollInterval = pollInterval
        self.sleep = sleep
        self.logger = logger
        self.lease = lease
    }

    /// The delivery service for a configuration's `webhooks:`, secrets read from `environment`.
    /// - Returns: nil when no webhook is configured.
    /// - Throws: ``WebhookConfigurationError`` naming the webhook whose `secret_env` is unset or empty.
    package static func configured(
        _ configuration: FirstContactConfiguration, store: any ContactStore, environment: [String: String],
        logger: Logger = Logger(label: "firstcontact.webhooks")
    ) throws -> WebhookDelivery? {
        guard !configuration.webhooks.isEmpty else { return nil }
        let targets = try configuration.webhooks.map { hook -> Target in
            guard let name = hook.secretEnv else {
                throw WebhookConfigurationError(
                    message: "webhook \(hook.url) has no secret_env: every webhook is signed")
            }
            guard let secret = environment[name], !secret.isEmpty else {
                throw WebhookConfigurationError(
                    message:
                        "webhook \(hook.url): the environment variable \(name) (secret_env) is not set; set it to the shared secret"
                )
            }
            return Target(url: hook.url, secret: Array(secret.utf8), maxAttempts: hook.maxAttempts, from: hook.from)
        }
        return WebhookDelivery(store: store, targets: targets, logger: logger)
    }

    package func run() async throws {
        let leases = self.targets.map { LeaseKeeper("webhook \($0.url)", store: self.store, terms: self.lease) }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    for (target, lease) in zip(self.targets, leases) {
                        group.addTask { try await self.loop(target, lease: lease) }
                    }
                }
            }
        } catch is CancellationError {
            // Shutting down: an entry in flight is sent again on the next start (its cursor did not move).
        }
        for lease in leases { await lease.release(logger: self.logger) }
    }

    private func loop(_ target: Target, lease: LeaseKeeper) async throws {
        var backoff = StorageBackoff()
        while !Task.isCancelled {
            do {
                // Another instance delivers this URL: ask again after a while.
                guard try await lease.hold() else {
                    try await self.sleep(max(self.pollInterval, lease.terms.renewEvery))
                    continue
                }
                let handled = try await self.deliverPending(target, lease: lease)
                backoff.succeeded()
                if handled == 0 { try await self.sleep(self.pollInterval) }
            } catch is CancellationError {
                throw CancellationError()
            } catch is LeaseLost {
                // Taken over while delivering: the new holder resumes from the cursor.
                continue
            } catch {
                // The store could not be read or written: wait and try again; nothing was skipped.
                // A full disk is said once a minute for the whole service, and waited out longer
                // each time (at most a minute).
                if self.store.storage.report(error, logger: self.logger) {
                    try await self.sleep(max(self.pollInterval, backoff.failed()))
                } else {
                    self.logger.error(
                        "webhook delivery stalled",
                        metadata: ["url": .string(target.url), "error": .string("\(error)")])
                    try await self.sleep(self.pollInterval)
                }
            }
        }
    }

    /// Delivers (or dead-letters) every outbox entry after `target`'s cursor, in order.
    /// - Parameter lease: renewed before each entry and between tries; delivering stops with
    ///   ``LeaseLost`` when another instance holds it.
    /// - Returns: how many entries were handled.
    @discardableResult
    package func deliverPending(_ target: Target, lease: LeaseKeeper? = nil) async throws -> Int {
        var cursor = try await self.store.webhookCursor(
            target.url, startingAtEnd: target.from == .now, at: self.clock.now())
        var handled = 0
        while true {
            let entries = try await self.store.outbox(after: cursor, limit: 100)
            guard !entries.isEmpty else { return handled }
            for entry in entries {
                try await lease?.keep()
                let deadLetter = try await self.deliver(entry, to: target, lease: lease)
                try await self.finish(entry, deadLetter, of: target)
                cursor = entry.seq
                handled += 1
            }
        }
    }

    /// Moves `target`'s cursor past `entry` (storing its dead letter, if any). On a full disk the
    /// write is retried with back-off until there is room: the entry went out already, and sending
    /// it again on every retry would flood the receiver with copies while the disk stays full.
    private func finish(_ entry: OutboxEntry, _ deadLetter: DeadLetter?, of target: Target) async throws {
        var backoff = StorageBackoff()
        while true {
            do {
                try await self.store.finishWebhookDelivery(
                    target.url, seq: entry.seq, at: self.clock.now(), deadLetter: deadLetter)
                return
            } catch let error as StoreError {
                guard case .storageFull = error else { throw error }
                self.store.storage.report(error, logger: self.logger)
                try await self.sleep(backoff.failed())
            }
        }
    }

    /// Tries one entry up to `maxAttempts` times. Returns nil when delivered, else the dead letter.
    private func deliver(_ entry: OutboxEntry, to target: Target, lease: LeaseKeeper?) async throws -> DeadLetter? {
        let body = Array(entry.json.utf8)
        let first = self.clock.now()
        var lastStatus: Int?
        var lastError = ""
        for attempt in 1...max(1, target.maxAttempts) {
            try Task.checkCancellation()
            let timestamp = self.clock.now().seconds
            let headers = [
                ("Content-Type", "application/json"),
                ("X-FirstContact-Event", entry.kind.rawValue),
                ("X-FirstContact-Delivery", entry.key),
                ("X-FirstContact-Timestamp", String(timestamp)),
                (
                    "X-FirstContact-Signature",
                    WebhookSignature.sign(secret: target.secret, timestamp: timestamp, body: body)
                ),
            ]
            do {
                let status = try await self.transport.post(url: target.url, headers: headers, body: body)
                if (200..<300).contains(status) { return nil }
                (lastStatus, lastError) = (status, "HTTP \(status)")
            } catch {
                // A failure caused by shutting down is not the receiver's: leave the entry for the next start.
                if Task.isCancelled { throw CancellationError() }
                (lastStatus, lastError) = (nil, "\(error)")
            }
            self.logger.warning(
                "webhook try failed",
                metadata: [
                    "url": .string(target.url), "delivery": .string(entry.key), "attempt": .stringConvertible(attempt),
                    "error": .string(lastError),
                ])
            if attempt < target.maxAttempts {
                try await self.pause(self.backoff.delay(afterAttempt: attempt), keeping: lease)
            }
        }
        self.logger.error(
            "webhook dead letter", metadata: ["url": .string(target.url), "delivery": .string(entry.key)])
        return DeadLetter(
            url: target.url, seq: entry.seq, key: entry.key, kind: entry.kind.rawValue,
            attempts: max(1, target.maxAttempts),
            lastStatus: lastStatus, lastError: lastError, firstAttemptAt: first, lastAttemptAt: self.clock.now())
    }
}

extension WebhookDelivery {
    /// Waits `delay` between tries, renewing `lease` every renewal period on the way and after:
    /// a back-off may last longer than the lease.
    fileprivate func pause(_ delay: Duration, keeping lease: LeaseKeeper?) async throws {
        guard let lease, delay > lease.terms.renewEvery else {
            try await self.sleep(delay)
            try await lease?.keep()
            return
        }
        var left = delay
        while left > .zero {
            let slice = min(left, lease.terms.renewEvery)
            try await self.sleep(slice)
            left -= slice
            try await lease.keep()
        }
    }
}

/// A webhook that cannot be served as configured (`serve` stops with this message).
package struct WebhookConfigurationError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { self.message }
}
