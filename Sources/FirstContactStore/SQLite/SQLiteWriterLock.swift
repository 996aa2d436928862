import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The claim of one long-running writer (`serve`) on a SQLite file: an exclusive `flock` on
/// `<db>.lock` with the holder's pid written inside, held as long as this value lives.
///
/// Why: two services on one file each run the scheduler and deliver every webhook, and collide on
/// the migrations when started together. The kernel drops the lock when the process ends however
/// it ends (kill -9 included), so a stale lock file never blocks a restart. Commands that only
/// read do not take it.
package final class SQLiteWriterLock: Sendable {
    let descriptor: Int32
    package let path: String

    /// Takes the lock for the database at `database`.
    /// - Throws: ``SQLiteWriterLockError/held(database:pid:)`` when another process holds it,
    ///   ``SQLiteWriterLockError/unavailable(path:reason:)`` when the lock file cannot be opened.
    package init(database: String) throws {
        let path = database + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SQLiteWriterLockError.unavailable(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            close(descriptor)
            guard reason == EWOULDBLOCK else {
                throw SQLiteWriterLockError.unavailable(path: path, reason: String(cString: strerror(reason)))
            }
            let holder = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            throw SQLiteWriterLockError.held(database: database, pid: holder.isEmpty ? "unknown" : holder)
        }
        // The pid only names the holder in another process's refusal; the flock is the claim. It
        // is written over the old one before the rest is cut, so a lock file that already had a
        // block needs no new one, and a failed write (a full disk) does not stop the start:
        // serve on a full disk answers 507 and waits for room, which tells a PBX more than no
        // answer at all. Another process then names the holder "unknown".
        let pid = Array("\(getpid())\n".utf8)
        if pwrite(descriptor, pid, pid.count, 0) == pid.count {
            _ = ftruncate(descriptor, off_t(pid.count))
        } else {
            _ = ftruncate(descriptor, 0)
        }
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(self.descriptor) }
}

package enum SQLiteWriterLockError: Error, CustomStringConvertible, Equatable {
    /// Another process serves the database; `pid` is what it wrote in the lock file.
    case held(database: String, pid: String)
    case unavailable(path: String, reason: String)

    package var description: String {
        switch self {
        case .held(let database, let pid): "database \(database) is served by another firstcontact (pid \(pid))"
        case .unavailable(let path, let reason): "cannot lock \(path): \(reason)"
        }
    }
}
