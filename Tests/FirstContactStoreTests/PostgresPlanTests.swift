import FirstContactCore
import Foundation
import PostgresNIO
import Testing

@testable import FirstContactPostgres

// A first ingest into PostgreSQL runs on tables that were never analyzed. With the calls of a
// customer written as `call_key IN (SELECT …)`, the planner joined them to a sequential scan of
// the whole record table, once per customer derived: the sample day took 24 s, and a day's cost
// grew with the square of its size. The reads of one customer must go through the indexes.
@Suite(
    "PostgreSQL reads one customer's records through the indexes, before any ANALYZE",
    .enabled(if: StoreFixture.postgresServer != nil))
struct PostgresPlanTests {
    // The record tables of a whole sample day (5,807 legs, 9,302 queue events) are large enough
    // for the plan to matter; a day's derived tables are not yet (their reads use the same form,
    // `earlierContacts`).
    @Test("a customer's call records are read through the call index, not a sequential scan of the table")
    func customerReadsUseIndexes() async throws {
        let server = try #require(StoreFixture.postgresServer)
        let url = try await PostgresDatabases.createUnique("fc_plan_", on: server)
        let store = PostgresContactStore(url: url)
        do {
            // Kept from autovacuum's ANALYZE, which could otherwise come in the middle of the test.
            try await store.write { tx in
                for table in ["leg", "queue_event", "call"] {
                    _ = try await tx.run("ALTER TABLE \(table) SET (autovacuum_enabled = false)")
                }
            }
            _ = try await store.ingest(try StoreFixture.records(calls: 4_000), correlator: StoreFixture.correlator)
            let plans = try await store.read { tx -> [String: String] in
                let analyzed = try await tx.value(
                    Int64.self,
                    "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('leg', 'queue_event', 'call') AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"
                )
                #expect(analyzed == 0, "the tables must still lack statistics for this test to mean anything")
                let customer = try #require(
                    try await tx.value(
                        String.self, "SELECT customer_key FROM call WHERE customer_key IS NOT NULL LIMIT 1"))
                var plans: [String: String] = [:]
                let statements = [
                    "leg": "SELECT * FROM leg WHERE \(PostgresContactStore.customerCalls)",
                    "queue_event": "SELECT * FROM queue_event WHERE \(PostgresContactStore.customerCalls)",
                ]
                for (table, sql) in statements {
                    let rows = try await tx.rows("EXPLAIN " + sql) {
                        $0.add(customer)
                        $0.add(Int64(0))
                    }
                    plans[table] = try rows.map { try Columns($0).text(0) }.joined(separator: "\n")
                }
                return plans
            }
            #expect(plans.count == 2)
            for (table, plan) in plans {
                #expect(!plan.contains("Seq Scan on \(table)"), "\(table):\n\(plan)")
            }
        } catch {
            await store.close()
            try await PostgresDatabases.drop(url.database, on: server)
            throw error
        }
        await store.close()
        try await PostgresDatabases.drop(url.database, on: server)
    }

    // The same unanalyzed tables made the planner's guesses large enough to JIT-compile a
    // one-row read and start parallel workers for it: 30 ms a read in a scheduler tick.
    @Test("the store's connections run without JIT and without parallel workers")
    func noJITNorParallelWorkers() async throws {
        let server = try #require(StoreFixture.postgresServer)
        let url = try await PostgresDatabases.createUnique("fc_plan_", on: server)
        let store = PostgresContactStore(url: url)
        let settings = try await store.read { tx in
            [
                try await tx.value(String.self, "SHOW jit"),
                try await tx.value(String.self, "SHOW max_parallel_workers_per_gather"),
            ]
        }
        await store.close()
        try await PostgresDatabases.drop(url.database, on: server)
        #expect(settings == ["off", "0"])
    }
}
