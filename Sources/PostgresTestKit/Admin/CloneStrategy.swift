/// How `CREATE DATABASE … TEMPLATE` copies the template (PostgreSQL 15 and later).
package enum CloneStrategy: String, Sendable, CaseIterable {
    /// Copy block by block through the WAL (PostgreSQL 15's default).
    case walLog = "WAL_LOG"
    /// Copy the files and checkpoint (faster for small templates on fast storage).
    case fileCopy = "FILE_COPY"
}
