extension PGError {
    /// The error with what to do about it in the toolkit's own terms added to its hint: its
    /// settings, its commands, where the embedded server lives. The connection layer's hints
    /// speak of PostgreSQL only; a manager adds these before an error reaches a test.
    func withToolkitHint(embedded: Bool) -> PGError {
        var extra: String?
        switch sqlState {
        case .tooManyConnections?:
            extra = "Each manager keeps PGTESTKIT_POOL_SIZE clones connected ahead (default 2): lower it, or the tests' parallelism."
        case .diskFull?:
            extra = embedded
                ? "The embedded server lives on the RAM disk /dev/shm (PGTESTKIT_DATA_DIR moves it); pgtestkit reap --kept drops the test databases kept for inspection."
                : "pgtestkit reap --kept drops the test databases kept for inspection."
        default:
            if code == .connectionFailed && !embedded {
                extra = "Leave PGTESTKIT_URL, DATABASE_URL and PGHOST unset to use the embedded server."
            }
        }
        guard let extra, !(hint ?? "").contains(extra) else { return self }
        var error = self
        error.hint = [hint, extra].compactMap { $0 }.joined(separator: " ")
        return error
    }
}
