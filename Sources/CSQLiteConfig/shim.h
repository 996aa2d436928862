/* Process-wide SQLite settings for FirstContactStore. sqlite3_config is variadic, which Swift
   cannot call; these wrappers can. Each must run before the process opens its first connection
   (afterwards sqlite3_config answers SQLITE_MISUSE and changes nothing). SwiftPM does not rebuild
   the Swift files that import this header when it changes: touch them (SQLiteContactStore.swift). */
#include <sqlite3.h>

/* Stops SQLite keeping memory statistics: with them on, every sqlite3_malloc and sqlite3_free
   takes one process-wide mutex to update figures FirstContact never reads. */
static inline int fc_sqlite3_memory_statistics_off(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

/* Keeps a savepoint's undo log (the sub-journal) in memory up to `bytes` before it spills to a
   temporary file. SQLite's default is 64 KiB, which one request of an HTTP group commit (a
   savepoint each) passes: creating, writing and unlinking those files was ≈ 3 % of the server's
   CPU under 16 concurrent posts (BENCHMARKS.md, "HTTP ingest"). */
static inline int fc_sqlite3_statement_journal_spill(int bytes) {
    return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, bytes);
}
