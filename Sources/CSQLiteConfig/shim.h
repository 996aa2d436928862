/* Process-wide SQLite settings for FirstContactStore. sqlite3_config is variadic, which Swift
   cannot call; these wrappers can. Each must run before the process opens its first connection
   (afterwards sqlite3_config answers SQLITE_MISUSE and changes nothing). SwiftPM does not rebuild
   the Swift files that import this header when it changes: touch them (SQLiteContactStore.swift). */
#include <sqlite3.h>

/* Stops SQLite keeping memory statistics: with them on, every sqlite3_malloc and sqlite3_free
   takes one process-wide mutex to update figures FirstContact never reads. */
static inline int fc_sqlite3_memory_statistics_off(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
