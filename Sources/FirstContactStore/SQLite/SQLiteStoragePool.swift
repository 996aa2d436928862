import Foundation
import GRDB

/// The store's GRDB pool, through which every read and write goes: a failure for lack of space
/// leaves it as ``StoreError/storageFull(path:)`` (the same answer whatever statement hit it),
/// and every write's fate is recorded in ``watch``.
///
/// Why one wrapper rather than a `catch` per store method: SQLite reports a full disk from any
/// statement or from the commit, so only the place every access goes through sees them all.
struct SQLiteStoragePool: Sendable {
    let base: DatabasePool
    let watch: StorageWatch

    var path: String { self.base.path }

    func read<T>(_ value: (Database) throws -> T) throws -> T {
        do { return try self.base.read(value) } catch { throw self.mapped(error) }
    }

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await self.base.read(value) } catch { throw self.mapped(error) }
    }

    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        do { return try self.written(self.base.write(updates)) } catch { throw self.mapped(error) }
    }

    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await self.written(self.base.write(updates)) } catch { throw self.mapped(error) }
    }

    func writeWithoutTransaction<T>(_ updates: (Database) throws -> T) throws -> T {
        do { return try self.written(self.base.writeWithoutTransaction(updates)) } catch { throw self.mapped(error) }
    }

    func writeWithoutTransaction<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await self.written(self.base.writeWithoutTransaction(updates)) } catch {
            throw self.mapped(error)
        }
    }

    func barrierWriteWithoutTransaction<T>(_ updates: (Database) throws -> T) throws -> T {
        do { return try self.written(self.base.barrierWriteWithoutTransaction(updates)) } catch {
            throw self.mapped(error)
        }
    }

    func barrierWriteWithoutTransaction<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T)
        async throws -> T
    {
        do { return try await self.written(self.base.barrierWriteWithoutTransaction(updates)) } catch {
            throw self.mapped(error)
        }
    }

    private func written<T>(_ value: T) -> T {
        self.watch.wrote()
        return value
    }

    /// `error` as the store reports it: ``StoreError/storageFull(path:)`` (recorded in the watch)
    /// when it means the disk has no room, else unchanged. Also for errors caught inside a
    /// transaction (a savepoint's) that never leave through this pool.
    func mapped(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError, Self.isStorageFull(error, database: self.path) else { return error }
        self.watch.failedForSpace()
        return StoreError.storageFull(path: self.path)
    }

    /// `SQLITE_FULL` ("database or disk is full": a write found no room, or `max_page_count` was
    /// reached), or an I/O error while the file system has no room left: SQLite reports a failed
    /// grow of the `-shm` file or a failed sync on a full disk as `SQLITE_IOERR_*`, and the errno
    /// it saw is gone by the time the error leaves GRDB, so the file system is asked instead.
    static func isStorageFull(_ error: DatabaseError, database: String) -> Bool {
        switch error.resultCode {
        case .SQLITE_FULL:
            return true
        case .SQLITE_IOERR:
            if let message = error.message,
                message.contains("database or disk is full") || message.contains("No space left on device")
            {
                return true
            }
            return (StorageWatch.freeBytes(at: database) ?? Int64.max) < StorageWatch.room
        default:
            return false
        }
    }
}
