import FoundationEssentials

/// Deterministic counts of one operation, per call, once warm: what the cost benchmark
/// measures and the committed baseline keeps. No timings: the same binary, inputs and
/// environment give the same counts whatever else the machine is doing.
public struct CostCase: Codable, Equatable, Sendable {
    /// Stable name (`predict-1`), the key the baseline is compared by.
    public var name: String
    /// What one call is, in words.
    public var what: String
    /// Calls measured (the counts are totals divided by this).
    public var iterations: Int
    /// Instructions executed per call, counted by callgrind; nil when the benchmark ran
    /// without it (allocations only).
    public var instructions: Double?
    /// Heap allocations per call on the measuring thread (the malloc family's calls).
    public var allocations: Double
    /// Bytes those allocations asked for, per call.
    public var allocatedBytes: Double

    public init(name: String, what: String, iterations: Int, instructions: Double?, allocations: Double, allocatedBytes: Double) {
        self.name = name
        self.what = what
        self.iterations = iterations
        self.instructions = instructions
        self.allocations = allocations
        self.allocatedBytes = allocatedBytes
    }

    /// Per-call counts from totals over `iterations` calls: instructions to the nearest
    /// whole instruction, allocations and bytes to two decimals (a buffer that grows every
    /// few calls shows as a fraction rather than vanishing).
    public init(name: String, what: String, iterations: Int, totalInstructions: UInt64?, totalAllocations: UInt64, totalBytes: UInt64) {
        precondition(iterations > 0, "at least one call")
        let n = Double(iterations)
        self.init(
            name: name, what: what, iterations: iterations,
            instructions: totalInstructions.map { (Double($0) / n).rounded() },
            allocations: (Double(totalAllocations) / n * 100).rounded() / 100,
            allocatedBytes: (Double(totalBytes) / n * 100).rounded() / 100)
    }

    enum CodingKeys: String, CodingKey {
        case name, what, iterations, instructions, allocations
        case allocatedBytes = "allocated_bytes"
    }
}

/// Every case of one run, in run order; the format of the baseline file.
public struct CostReport: Codable, Equatable, Sendable {
    /// Format of this file; bumped when a field changes meaning.
    public var format: Int = 1
    public var cases: [CostCase]

    public init(cases: [CostCase]) {
        self.cases = cases
    }

    public subscript(name name: String) -> CostCase? { cases.first { $0.name == name } }

    /// Pretty-printed JSON with sorted keys and a final newline, so a baseline update is a
    /// readable diff.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    public static func decode(_ bytes: [UInt8]) throws -> CostReport {
        try JSONDecoder().decode(CostReport.self, from: Data(bytes))
    }
}
