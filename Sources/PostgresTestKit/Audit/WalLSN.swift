/// A position in the server's write-ahead log (`pg_lsn`, written `16/B374D848`).
package struct WalLSN: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The byte position in the WAL stream.
    package let value: UInt64

    /// A position from its byte offset.
    package init(_ value: UInt64) { self.value = value }

    /// Parses PostgreSQL's `pg_lsn` text form (`X/Y`, both hexadecimal); `nil` when malformed.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
              high <= UInt64(UInt32.max), low <= UInt64(UInt32.max) else { return nil }
        value = high << 32 | low
    }

    /// The `pg_lsn` text form.
    package var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xffff_ffff, radix: 16, uppercase: true)
    }

    /// The position with a page header it points past taken back to its page's start: the
    /// insert position (`pg_current_wal_insert_lsn()`) at a page boundary names the first byte
    /// after the page header, where no record can start, while the flush position stops at the
    /// boundary. `pageSize` is `wal_block_size`; a long page header (at a segment start) has 40
    /// bytes, a short one 24.
    package func backingOffPageHeader(pageSize: UInt64) -> WalLSN {
        let offset = value % pageSize
        return offset == 24 || offset == 40 ? WalLSN(value - offset) : self
    }

    /// Earlier in the WAL.
    package static func < (lhs: WalLSN, rhs: WalLSN) -> Bool { lhs.value < rhs.value }
}
