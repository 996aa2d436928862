import FirstContactCore
import Foundation

/// What one batch changed.
package struct BatchOutcome: Hashable, Sendable {
    package var records = 0
    package var newRecords = 0
    package var duplicates = 0
    package var ignored = 0
    package var rejects = 0
    /// Rejects past the per-source cap: counted, not stored.
    package var rejectsDropped = 0
    package var callsTouched = 0
    /// Customers whose derived state awaits the next ``ContactStore/advanceClock(to:correlator:)``.
    package var customersTouched = 0
    package var maxEventTime: Timestamp?
    /// Records older than the last purge's horizon (`policy.retention`): not stored.
    package var beyondRetention = 0

    package init() {}

    package mutating func add(_ other: BatchOutcome) {
        self.records += other.records
        self.newRecords += other.newRecords
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.rejects += other.rejects
        self.rejectsDropped += other.rejectsDropped
        self.callsTouched += other.callsTouched
        self.beyondRetention += other.beyondRetention
        self.customersTouched += other.customersTouched
        if let time = other.maxEventTime { self.maxEventTime = max(self.maxEventTime ?? time, time) }
    }
}

/// What moving the clock did.
package struct ClockOutcome: Hashable, Sendable {
    package var clock: Timestamp
    /// Customers derived (new records, or a deadline passed).
    package var derived = 0
    /// Earlier conclusions a late record changed (recorded in the trail).
    package var amendments = 0

    package init(clock: Timestamp) {
        self.clock = clock
    }
}

/// A contact as stored, with its trail (for `explain` and the API).
package struct ContactDetail: Hashable, Sendable {
    package var contact: Contact
    package var violations: [Violation]
    package var reviews: [ViolationID: ViolationReview]
    /// Trail entries added when a late record changed an earlier conclusion; kept across re-derivations.
    package var amendments: [WhyEntry]

    package init(
        contact: Contact, violations: [Violation], reviews: [ViolationID: ViolationReview], amendments: [WhyEntry]
    ) {
        self.contact = contact
        self.violations = violations
        self.reviews = reviews
        self.amendments = amendments
    }
}

/// A notification no derivation makes, with the customer it is kept and purged with.
package struct Announcement: Hashable, Sendable {
    package var notice: Notice
    package var customerKey: String?

    package init(_ notice: Notice, customerKey: String?) {
        self.notice = notice
        self.customerKey = customerKey
    }
}

/// An obligation with where it lives.
package struct StoredObligation: Hashable, Sendable {
    package var obligation: Obligation
    package var contact: ContactID
    package var customerKey: String

    package init(obligation: Obligation, contact: ContactID, customerKey: String) {
        self.obligation = obligation
        self.contact = contact
        self.customerKey = customerKey
    }
}

/// Filters for listing contacts.
package struct ContactQuery: Hashable, Sendable {
    /// Only contacts the caller may see.
    package var scope: Scope = .everything
    package var statuses: Set<ContactStatus> = []
    package var department: DepartmentID?
    package var agent: AgentID?
    /// Only contacts with an obligation in one of these states (and of this kind, when given).
    package var obligationStates: Set<ObligationState> = []
    package var obligationKind: ObligationKind?
    /// The customer key (``CustomerNumber/text``: E.164 when normalised).
    package var customer: String?
    /// Contacts created in `[createdFrom, createdBefore)`.
    package var createdFrom: Timestamp?
    package var createdBefore: Timestamp?
    /// Only contacts after this one in the listing order (`created_at`, `id`): keyset paging.
    package var after: ContactPosition?
    package var limit = 1000

    package init(
        scope: Scope = .everything, statuses: Set<ContactStatus> = [], department: DepartmentID? = nil,
        agent: AgentID? = nil,
        obligationStates: Set<ObligationState> = [], obligationKind: ObligationKind? = nil, customer: String? = nil,
        createdFrom: Timestamp? = nil, createdBefore: Timestamp? = nil, after: ContactPosition? = nil, limit: Int = 1000
    ) {
        self.scope = scope
        self.customer = customer
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.statuses = statuses
        self.department = department
        self.agent = agent
        self.obligationStates = obligationStates
        self.obligationKind = obligationKind
        self.after = after
        self.limit = limit
    }
}

/// A place in the contact listing order (`created_at`, `id`); both are stable across re-derivation,
/// so a page boundary stays put while records arrive.
package struct ContactPosition: Hashable, Sendable {
    package var createdAt: Timestamp
    package var id: ContactID

    package init(createdAt: Timestamp, id: ContactID) {
        self.createdAt = createdAt
        self.id = id
    }
}

/// A place in the obligation listing order (`created_at`, `id`), both stable across re-derivation.
package struct ObligationPosition: Hashable, Sendable {
    package var createdAt: Timestamp
    package var id: ObligationID

    package init(createdAt: Timestamp, id: ObligationID) {
        self.createdAt = createdAt
        self.id = id
    }
}

/// The whole derived state, as `export --json` writes it.
package struct StoreSnapshot: Sendable {
    package var contacts: [Contact]
    package var violations: [Violation]
    package var reviews: [ViolationID: ViolationReview]
    package var rejects: [Reject]
    package var clock: Timestamp?
    /// Per source, the rejects past ``Correlator/maxRejectsPerSource``: counted, not stored.
    package var rejectsDropped: [String: Int] = [:]

    package init(
        contacts: [Contact], violations: [Violation], reviews: [ViolationID: ViolationReview], rejects: [Reject],
        clock: Timestamp?, rejectsDropped: [String: Int] = [:]
    ) {
        self.contacts = contacts
        self.violations = violations
        self.reviews = reviews
        self.rejects = rejects
        self.clock = clock
        self.rejectsDropped = rejectsDropped
    }
}

/// Counts for the ingest summary and `/metrics`.
package struct StoreTotals: Hashable, Sendable {
    package var records = 0
    package var calls = 0
    package var contacts = 0
    package var firstResponders = 0
    package var obligationsByState: [ObligationState: Int] = [:]
    package var violations = 0
    package var rejects = 0
    /// Rejects past the per-source cap, counted and not stored.
    package var rejectsDropped = 0
    /// Obligations that breached their deadline, whatever their state now (a late callback
    /// makes a breached one `satisfied_late`; it still breached).
    package var breaches = 0
    /// Notifications a webhook URL never accepted.
    package var deadLetters = 0

    package init() {}
}

/// How far `serve` has read a followed file, stored with the records it covers.
///
/// The file is recognised by its device and inode and by a hash of its first
/// ``fingerprintLength`` bytes: an inode number can be reused by a new file, and copy-truncate
/// rotation keeps the inode but starts the content again.
package struct FollowCheckpoint: Hashable, Sendable {
    /// The configured path (the followed name, not the file behind it at a given moment).
    package var path: String
    package var device: UInt64
    package var inode: UInt64
    /// Where the next unread line starts.
    package var offset: Int64
    /// The number of the line at ``offset`` (1 for the start of the file).
    package var nextLine: Int
    /// Hex hash of the file's first ``fingerprintLength`` bytes.
    package var fingerprint: String
    package var fingerprintLength: Int
    /// 1 for the first file seen at the path, +1 for each rotation or replacement.
    package var generation: Int

    package init(
        path: String, device: UInt64, inode: UInt64, offset: Int64, nextLine: Int, fingerprint: String,
        fingerprintLength: Int, generation: Int
    ) {
        self.path = path
        self.device = device
        self.inode = inode
        self.offset = offset
        self.nextLine = nextLine
        self.fingerprint = fingerprint
        self.fingerprintLength = fingerprintLength
        self.generation = generation
    }
}

extension ContactStore {
    /// ``ingest(_:checkpoint:holding:correlator:)`` with no lease (one process follows the path).
    package func ingest(_ records: [IngestRecord], checkpoint: FollowCheckpoint, correlator: Correlator) async throws
        -> BatchOutcome
    {
        try await self.ingest(records, checkpoint: checkpoint, holding: nil, correlator: correlator)
    }
}

/// The one storage protocol. SQLite today; PostgreSQL must implement the same contract.
///
/// Every method that changes state runs in one transaction: a batch of records is stored,
/// its calls re-assembled and its customers re-derived atomically, so a crash never leaves
/// half a batch behind, and a batch applied twice changes nothing.
package protocol ContactStore: Sendable {
    /// Whether writes fail for lack of space, and the space left where the data lives.
    var storage: StorageWatch { get }
    /// Stores a batch idempotently, re-assembles the calls it touches and marks their customers
    /// for derivation. Committed as one transaction; derivation follows with the clock.
    func ingest(_ records: [IngestRecord], correlator: Correlator) async throws -> BatchOutcome
    /// Group commit: several independent batches (one per HTTP request) stored in ONE
    /// transaction, each with its own outcome. A batch that fails is rolled back alone and
    /// answered with its error; the others commit. Throws only when the transaction itself fails
    /// (then nothing of any batch is stored).
    func ingest(batches: [[IngestRecord]], correlator: Correlator) async throws -> [Result<BatchOutcome, any Error>]
    /// Group commit and the derivation after it in ONE transaction (``ingest(batches:correlator:)``
    /// then ``advanceClock(to:correlator:)``'s first chunk): a group's acknowledgement costs one
    /// commit. The rest of the clock's work, if any, follows in chunks of its own.
    func ingest(batches: [[IngestRecord]], advancingClockTo time: Timestamp, correlator: Correlator) async throws
        -> (batches: [Result<BatchOutcome, any Error>], clock: ClockOutcome)
    /// ``ingest(_:correlator:)`` and the follower's checkpoint in the same transaction: the
    /// records before `checkpoint.offset` are stored exactly when the checkpoint says so.
    /// - Parameter lease: the path's lease, when several instances share the database: nothing
    ///   is stored unless `lease.holder` holds it at the commit, so an instance that lost it while
    ///   reading (stalled past its expiry) never moves the new holder's checkpoint back.
    /// - Throws: ``LeaseLost`` when it does not hold it.
    func ingest(
        _ records: [IngestRecord], checkpoint: FollowCheckpoint, holding lease: LeaseClaim?, correlator: Correlator
    ) async throws -> BatchOutcome
    /// The stored checkpoint of a followed path, if it was ever read.
    func followCheckpoint(path: String) async throws -> FollowCheckpoint?
    /// Moves the clock forward (never back) and derives every customer with new records or
    /// whose next check is due — the one place derived state changes.
    func advanceClock(to time: Timestamp, correlator: Correlator) async throws -> ClockOutcome
    /// Records what a person did (an acknowledgement…) and marks the customer for derivation.
    /// - Throws: ``StoreError/notFound(_:)`` when the obligation does not exist.
    func record(_ action: ManualAction) async throws
    /// Records (or replaces) a supervisor's decision on a violation, with an outbox notification.
    func review(_ violation: ViolationID, _ review: ViolationReview) async throws
    func reviews() async throws -> [ViolationID: ViolationReview]
    func obligation(_ id: ObligationID) async throws -> StoredObligation?
    /// Notifications after `seq`, oldest first.
    func outbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry]
    /// Appends notifications that no derivation makes (routed callers' screen pops), each once
    /// by its key, in one transaction.
    func announce(_ announcements: [Announcement]) async throws
    /// The earliest time any customer's derived state changes with the clock alone.
    func nextCheck() async throws -> Timestamp?
    /// How many customers have records (or actions) not yet derived: marked by ``ingest(_:correlator:)``
    /// or ``record(_:)``, cleared by ``advanceClock(to:correlator:)``.
    func awaitingDerivation() async throws -> Int
    func clock() async throws -> Timestamp?
    func latestEventTime() async throws -> Timestamp?
    func snapshot() async throws -> StoreSnapshot
    func contacts(_ query: ContactQuery) async throws -> [Contact]
    /// The customer's open contact (`RouteDecision.openStatuses`; the newest, should history hold
    /// two): what `GET /v1/route` reads on every inbound call.
    func openContact(of customer: String) async throws -> Contact?
    /// Those of `ids` that `scope` lets the caller see (one query, for an event stream's batch).
    func contactIDs(_ ids: Set<ContactID>, in scope: Scope) async throws -> Set<ContactID>
    /// One page of obligations in the listing order (`created_at`, `id`): those in `states` (all
    /// when empty) of the contacts `scope` lets the caller see, after `after`, at most `limit`.
    /// Filtered, ordered and limited in the store, so a page reads about `limit` rows however
    /// many obligations there are.
    func obligationPage(states: Set<ObligationState>, scope: Scope, after: ObligationPosition?, limit: Int) async throws
        -> [Obligation]
    /// Every violation (sorted by time, id) with the reviews recorded so far.
    func violations() async throws -> (violations: [Violation], reviews: [ViolationID: ViolationReview])
    /// One violation by id (nil when there is none), read alone: what a review checks.
    func violation(_ id: ViolationID) async throws -> Violation?
    /// One contact with its violations, amendments and `why` trail (derived again at the stored clock).
    func contact(_ id: ContactID, correlator: Correlator) async throws -> ContactDetail?
    func totals() async throws -> StoreTotals

    // MARK: Reports (SQL aggregates; see FirstContactApp's `Reports` for what each figure means)

    /// Callback and hand-off obligations still owed (`pending` or `breached`) in the scope, by due time.
    func openObligations(_ scope: ReportScope) async throws -> [BoardRow]
    /// Obligations due in `[from, to)` in the scope, counted by owning department, kind and state.
    func obligationTallies(dueFrom from: Timestamp, to: Timestamp, scope: ReportScope) async throws -> [ObligationTally]
    /// Every agent's raw figures over `[from, to)` (agents with nothing in the period are absent).
    func agentActivity(from: Timestamp, to: Timestamp) async throws -> [AgentID: AgentActivity]

    // MARK: Retention

    /// The earliest time any report figure reads (nil: nothing stored): where summaries start.
    func reportDataStart() async throws -> Timestamp?
    /// The periods whose figures are read from summaries, oldest first.
    func summarisedPeriods() async throws -> [ReportPeriod]
    /// Removes the contacts whose every time lies before `horizon`, with their records, calls,
    /// obligations, violations, actions, notifications and trail, and the rejects stored before
    /// it; first summarises `periods` (not summarised yet) so that their report figures stay
    /// the same. A customer's contacts go only when a derivation from what stays gives the
    /// remaining contacts exactly as they are (the purged past is kept as where derivation
    /// starts); records older than `horizon` are refused by later ingests. The deleted bytes
    /// are overwritten and the file compacted, so they are gone from the file and its WAL.
    /// With `dryRun` nothing is written and the counts say what would go.
    func purge(before horizon: Timestamp, summarising periods: [ReportPeriod], at now: Timestamp, dryRun: Bool)
        async throws -> PurgeOutcome

    // MARK: Webhook delivery

    /// The last outbox entry delivered (or dead-lettered) to `url`; a URL never served before starts
    /// at the end of the outbox when `startingAtEnd` (else before its first entry), and that start
    /// is stored at once.
    func webhookCursor(_ url: String, startingAtEnd: Bool, at time: Timestamp) async throws -> Int64
    /// Moves `url`'s cursor to `seq` (never back) and, in the same transaction, stores the dead
    /// letter when the entry could not be delivered: a crash in between neither loses nor repeats it.
    func finishWebhookDelivery(_ url: String, seq: Int64, at time: Timestamp, deadLetter: DeadLetter?) async throws
    /// Dead letters, oldest first.
    func deadLetters(limit: Int) async throws -> [DeadLetter]

    // MARK: Leases (work one instance of several does: a webhook URL, a followed file)

    /// Takes or renews lease `name` for `holder` until `ttl` from now by the database's clock (so
    /// the instances' own clocks need not agree): granted when nobody holds it, `holder` does
    /// already, or its holder let it expire. On SQLite, whose file one `serve` holds, always granted.
    func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> Bool
    /// Gives lease `name` up when `holder` holds it, so that another instance takes it at once.
    func releaseLease(_ name: String, holder: String) async throws

    /// The secret `name` every instance on this database shares (32 random bytes, made by the
    /// first instance that asks). Nil on SQLite: one process serves the file, and its secrets
    /// live in its memory.
    func sharedSecret(_ name: String) async throws -> [UInt8]?

    /// Calls `notified` each time a transaction (of any instance) committed notifications to the
    /// outbox, until cancelled; `listening` once it listens. Throws when the connection it listens
    /// on fails. Returns at once on a store with no such signal (SQLite, whose one process polls).
    func listenForOutbox(listening: @escaping @Sendable () -> Void, notified: @escaping @Sendable () -> Void)
        async throws

    /// When nothing was written for `idle` seconds, gives back the space the write-ahead log
    /// holds (SQLite: a truncating checkpoint). Returns whether it did.
    func checkpointIfIdle(for idle: TimeInterval) async throws -> Bool
}
