import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /v1/obligations` pages in SQL (`ContactStore.obligationPage`); these tests hold it to the
/// rule it replaced: load every contact, keep those the caller's `Scope` admits in memory, flatten,
/// sort, page.
@Suite("Obligation paging in the store")
struct ObligationPagingTests {
    /// The sample day (asterisk/ + ivr/) ingested and ticked to 23:59:59, in `directory`.
    static func sampleDay(in directory: URL) async throws -> (Engine, SQLiteContactStore) {
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        let day = Fixture.sampleDay
        _ = try await IngestPipeline(engine: engine, store: store).ingest(
            paths: [day.appendingPathComponent("asterisk").path, day.appendingPathComponent("ivr").path], format: nil)
        let end = try #require(Timestamp(iso8601: Fixture.sampleEnd))
        _ = try await store.advanceClock(to: end, correlator: engine.correlator)
        return (engine, store)
    }

    /// What the old in-memory listing returned for `principal` and `state`, in its order.
    static func expected(
        _ store: SQLiteContactStore, _ principal: Principal, state: ObligationState?, directory: Directory,
        violations: [ContactID: [Violation]]? = nil
    ) async throws -> [Obligation] {
        var byContact = violations ?? [:]
        if violations == nil { byContact = Dictionary(grouping: try await store.snapshot().violations, by: \.contact) }
        let scope = principal.scope(directory: directory)
        return try await store.contacts(ContactQuery(obligationStates: state.map { [$0] } ?? [], limit: Int.max))
            .filter { scope.admits($0, violations: byContact[$0.id] ?? []) }
            .flatMap(\.obligations)
            .filter { state == nil || $0.state == state }
            .sorted { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }
    }

    /// The demo supervisor, every agent of the directory, heads of other departments, an agent the
    /// directory does not know and a supervisor without departments.
    static func principals(_ engine: Engine) -> [Principal] {
        var principals = [
            Principal(name: "demo-admin", role: .admin),
            Principal(
                name: "lin-supervisor", role: .supervisor,
                departments: [DepartmentID("service"), DepartmentID("billing")]),
            Principal(name: "repairs-supervisor", role: .supervisor, departments: [DepartmentID("repairs")]),
            Principal(
                name: "quality-leadership", role: .supervisor,
                departments: [DepartmentID("quality"), DepartmentID("leadership")]),
            Principal(name: "nobody-supervisor", role: .supervisor),
            Principal(name: "stranger", role: .agent, agent: AgentID("9999")),
            Principal(name: "agent-without-id", role: .agent),
            Principal(name: "pbx", role: .pbx),
        ]
        principals += engine.configuration.agents.map { Principal(name: "agent-\($0.id)", role: .agent, agent: $0.id) }
        return principals
    }

    @Test(
        "paging obligationPage with small limits yields exactly what the in-memory scope check over all contacts yields, in order, each once",
        arguments: [nil, ObligationState.pending, .breached, .satisfied])
    func storePagesMatchCanSee(state: ObligationState?) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (engine, store) = try await Self.sampleDay(in: directory)
        var nonEmpty = 0
        var partial = 0
        let violations = Dictionary(grouping: try await store.snapshot().violations, by: \.contact)
        for principal in Self.principals(engine) {
            let expected = try await Self.expected(
                store, principal, state: state, directory: engine.directory, violations: violations)
            for limit in [1, 7, 50] where limit > 1 || expected.count <= 300 {
                var got: [Obligation] = []
                var after: ObligationPosition?
                var pages = 0
                while pages <= expected.count + 1 {
                    let page = try await store.obligationPage(
                        states: state.map { [$0] } ?? [], scope: principal.scope(directory: engine.directory),
                        after: after,
                        limit: limit)
                    #expect(page.count <= limit)
                    got += page
                    pages += 1
                    guard page.count == limit, let last = page.last else { break }
                    after = ObligationPosition(createdAt: last.createdAt, id: last.id)
                }
                #expect(
                    got.map(\.id) == expected.map(\.id),
                    "\(principal.name), state \(state?.rawValue ?? "any"), limit \(limit)")
                #expect(got == expected, "\(principal.name): the same obligations, field for field")
            }
            if !expected.isEmpty { nonEmpty += 1 }
            let all = try await Self.expected(
                store, Principal(name: "admin", role: .admin), state: state, directory: engine.directory,
                violations: violations)
            if !expected.isEmpty && expected.count < all.count { partial += 1 }
        }
        // The comparison means something: several callers see some but not all obligations.
        #expect(nonEmpty >= 5)
        #expect(partial >= 4)
    }

    @Test(
        "GET /v1/obligations pages for the demo admin, supervisor and agent 1001 list what the in-memory scope check lists, in order, each once"
    )
    func httpPagesMatchCanSee() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (engine, store) = try await Self.sampleDay(in: directory)
        let now = try #require(Timestamp(iso8601: Fixture.sampleEnd))
        let app = buildApplication(
            engine: engine, store: store, clock: ManualClock(now: now), host: "127.0.0.1", port: 0)
        let callers: [(HTTPFields, Principal)] = [
            (APITests.admin, Principal(name: "demo-admin", role: .admin)),
            (
                APITests.supervisor,
                Principal(
                    name: "lin-supervisor", role: .supervisor,
                    departments: [DepartmentID("service"), DepartmentID("billing")])
            ),
            (APITests.agent1001, Principal(name: "demo-agent-1001", role: .agent, agent: AgentID("1001"))),
        ]
        try await app.test(.router) { client in
            for (headers, principal) in callers {
                for state in [nil, ObligationState.pending] {
                    let expected = try await Self.expected(store, principal, state: state, directory: engine.directory)
                        .map(\.id.rawValue)
                    try #require(!expected.isEmpty, "\(principal.name) sees obligations in the sample day")
                    let path = "/v1/obligations" + (state.map { "?state=\($0.rawValue)&" } ?? "?")
                    let limit = max(1, expected.count / 4)
                    var ids: [String] = []
                    var cursor: String?
                    var pages = 0
                    repeat {
                        let uri = path + "limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                        cursor = try await client.execute(uri: uri, method: .get, headers: headers) {
                            response -> String? in
                            #expect(response.status == .ok)
                            let list = try #require(try APITests.json(response) as? [[String: Any]])
                            #expect(list.count <= limit)
                            ids += list.compactMap { $0["id"] as? String }
                            return response.headers[PagingTests.nextCursor]
                        }
                        pages += 1
                    } while cursor != nil && pages <= expected.count
                    #expect(ids == expected, "\(principal.name), state \(state?.rawValue ?? "any")")
                    // A full last page has no cursor after it: exactly ceil(n / limit) pages.
                    #expect(pages == (expected.count + limit - 1) / limit)
                }
            }
        }
    }
}
