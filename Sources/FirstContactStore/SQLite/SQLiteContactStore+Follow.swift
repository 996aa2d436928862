import FirstContactCore
import GRDB

extension SQLiteContactStore {
    /// One `serve` holds the file, and with it every lease.
    package func ingest(
        _ records: [IngestRecord], checkpoint: FollowCheckpoint, holding lease: LeaseClaim?, correlator: Correlator
    ) async throws
        -> BatchOutcome
    {
        try await self.pool.write { db in
            let outcome = try Self.ingest(records, correlator: correlator, live: self.live, db: db)
            try db.run(
                """
                INSERT INTO follow_checkpoint (path, device, inode, byte_offset, next_line, fingerprint, fingerprint_length, generation)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(path) DO UPDATE SET device = excluded.device, inode = excluded.inode,
                    byte_offset = excluded.byte_offset, next_line = excluded.next_line, fingerprint = excluded.fingerprint,
                    fingerprint_length = excluded.fingerprint_length, generation = excluded.generation
                """
            ) { StoredRows.bind(checkpoint, into: &$0) }
            return outcome
        }
    }

    package func followCheckpoint(path: String) async throws -> FollowCheckpoint? {
        try await self.reader.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT device, inode, byte_offset, next_line, fingerprint, fingerprint_length, generation
                    FROM follow_checkpoint WHERE path = ?
                    """,
                arguments: [path]
            ).map { row in
                FollowCheckpoint(
                    path: path, device: UInt64(bitPattern: row[0]), inode: UInt64(bitPattern: row[1]), offset: row[2],
                    nextLine: row[3], fingerprint: row[4], fingerprintLength: row[5], generation: row[6])
            }
        }
    }
}
