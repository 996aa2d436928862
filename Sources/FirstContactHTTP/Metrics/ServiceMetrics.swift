import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Prometheus

/// What `/metrics` exposes, on swift-prometheus: one registry per service instance (no global
/// `MetricsSystem.bootstrap`, so two services in one process, as in the tests, never share figures).
///
/// Counters are incremented where things happen (HTTP ingest, followers, every request); gauges
/// are read from the store at scrape time, since the store is the truth and other processes
/// (`firstcontact ingest`, `tick`) change it too.
package final class ServiceMetrics: IngestCounting {
    package let registry = PrometheusCollectorRegistry()
    /// Lines counted so far per followed path (the followers keep the running total).
    private let followLinesSeen = NIOLockedValueBox<[String: Int]>([:])

    /// Request-duration buckets: 1 ms … 10 s (ingest of a large batch can take seconds).
    static let requestBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]

    package init() {}

    /// Records ingested over HTTP or from followed files, by format and result.
    package func ingested(format: String, _ outcome: BatchOutcome) {
        for (result, count) in [
            ("new", outcome.newRecords), ("duplicate", outcome.duplicates), ("rejected", outcome.rejects),
        ] {
            self.counter(
                "firstcontact_ingested_records_total",
                "Records ingested over HTTP and from followed files, by format and result.",
                [("format", format), ("result", result)]
            ).increment(by: Int64(count))
        }
        self.counter(
            "firstcontact_rejects_dropped_total",
            "Rejects past ingest.max_rejects_per_source for their source: counted, not stored."
        ).increment(by: Int64(outcome.rejectsDropped))
    }

    /// One group commit of `requests` concurrent ingest requests (``IngestBatcher``).
    package func groupCommitted(requests: Int) {
        self.counter("firstcontact_ingest_group_commits_total", "Group commits of concurrent HTTP ingest requests.")
            .increment()
        self.counter(
            "firstcontact_ingest_group_requests_total",
            "HTTP ingest requests committed in groups (divide by group commits for the mean group)."
        )
        .increment(by: Int64(requests))
    }

    /// One HTTP request's duration. `route` is the matched route pattern (`/v1/contacts/{id}`),
    /// never the path: an id or a customer number in a label would be a new series per value
    /// (and a number in the metrics).
    package func request(method: String, route: String, status: Int, duration: Duration) {
        self.registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "firstcontact_http_request_duration", unitName: "seconds",
                helpText: "HTTP request duration by method, route pattern and status."),
            labels: [("method", method), ("route", route), ("status", String(status))],
            buckets: Self.requestBuckets
        ).record(duration)
    }

    /// Reads the store-side gauges and the followers' states, then renders the registry.
    package func exposition(
        totals: StoreTotals, schedulerLag: Int64, scheduler: SchedulerHealth.Snapshot = SchedulerHealth.Snapshot(),
        storage: StorageWatch? = nil, followers: [FollowerState]
    ) -> String {
        for state in ObligationState.allCases {
            self.gauge("firstcontact_obligations", "Obligations by state.", [("state", state.rawValue)])
                .set(Double(totals.obligationsByState[state] ?? 0))
        }
        self.gauge("firstcontact_rejects", "Stored rejects.").set(Double(totals.rejects))
        self.gauge("firstcontact_violations", "Recorded violations.").set(Double(totals.violations))
        self.gauge("firstcontact_breaches", "Obligations that breached their deadline (whatever their state now).")
            .set(Double(totals.breaches))
        self.gauge("firstcontact_webhook_dead_letters", "Notifications a webhook URL never accepted.")
            .set(Double(totals.deadLetters))
        self.gauge("firstcontact_scheduler_lag_seconds", "How far the earliest due check is behind now.")
            .set(Double(schedulerLag))
        self.gauge(
            "firstcontact_scheduler_errors", "Scheduler ticks that failed since the service started (each is retried)."
        )
        .set(Double(scheduler.errors))
        self.gauge("firstcontact_scheduler_failing", "Whether the scheduler's last tick failed (1) or succeeded (0).")
            .set(scheduler.isFailing ? 1.0 : 0.0)
        if let storage {
            if let free = storage.freeBytes {
                self.gauge(
                    "firstcontact_storage_free_bytes",
                    "Bytes an unprivileged writer may still use on the database's file system (statvfs).",
                ).set(Double(free))
            }
            if let wal = storage.walBytes {
                self.gauge(
                    "firstcontact_wal_bytes",
                    "Size of the database's write-ahead log, which checkpoints copy into the database and reset."
                )
                .set(Double(wal))
            }
            self.gauge(
                "firstcontact_storage_full",
                "Whether writes to the database fail for lack of space (1: since a failed write, until one succeeds with room on the file system)."
            )
            .set(storage.snapshot.isFull ? 1.0 : 0.0)
        }
        for state in followers {
            // Labels are escaped by the library; the path is configuration, not input.
            let path = [("path", state.path)]
            let seen = self.followLinesSeen.withLockedValue { seen in
                defer { seen[state.path] = state.linesRead }
                return seen[state.path] ?? 0
            }
            self.counter(
                "firstcontact_follow_lines_total", "Lines read from followed files since the service started.", path
            )
            .increment(by: Int64(max(0, state.linesRead - seen)))
            self.gauge("firstcontact_follow_lag_bytes", "Bytes of a followed file not read yet.", path).set(
                Double(state.lagBytes))
            self.gauge("firstcontact_follow_failing", "Whether the last pass over a followed file failed.", path)
                .set(state.error == nil ? 0.0 : 1.0)
        }
        return self.registry.emitToString()
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
        labels.isEmpty
            ? self.registry.makeCounter(descriptor: Self.descriptor(name, help))
            : self.registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        labels.isEmpty
            ? self.registry.makeGauge(descriptor: Self.descriptor(name, help))
            : self.registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// The whole name as the metric name (the descriptor would otherwise join parts with `_`).
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
