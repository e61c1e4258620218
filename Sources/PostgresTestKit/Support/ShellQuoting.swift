extension String {
    /// This text in single quotes for a POSIX shell (a quote inside becomes `'\''`): what the
    /// toolkit prints for a shell to read (`server env`, the kept database's `psql` line).
    package var shellQuoted: String {
        "'" + replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
