/// Reading callgrind's output files.
public enum Callgrind {
    /// The total of the first event of a callgrind output file (a dump): the number on its
    /// `summary:` line, or `totals:` where there is no summary. With callgrind's default
    /// event set the first event is `Ir`, instructions executed; nil when the file does not
    /// count `Ir` first or has neither line.
    public static func instructions(inDump text: String) -> UInt64? {
        var firstEventIsIr = false
        var summary: UInt64?
        var totals: UInt64?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("events:") {
                firstEventIsIr = line.dropFirst("events:".count).split(separator: " ").first == "Ir"
            } else if line.hasPrefix("summary:") {
                summary = firstNumber(line.dropFirst("summary:".count))
            } else if line.hasPrefix("totals:") {
                totals = firstNumber(line.dropFirst("totals:".count))
            }
        }
        guard firstEventIsIr else { return nil }
        return summary ?? totals
    }

    private static func firstNumber(_ text: Substring) -> UInt64? {
        text.split(separator: " ").first.flatMap { UInt64($0) }
    }
}
