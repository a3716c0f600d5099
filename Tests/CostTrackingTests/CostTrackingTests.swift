import FoundationEssentials
import Testing
@testable import CostTracking

@Suite(.timeLimit(.minutes(10))) struct CostComparisonTests {
    func report(_ cases: [(String, Double?, Double, Double)]) -> CostReport {
        CostReport(cases: cases.map { CostCase(name: $0.0, what: "", iterations: 100, instructions: $0.1, allocations: $0.2, allocatedBytes: $0.3) })
    }

    @Test func passesCountsWithinTheTolerance() {
        let baseline = report([("predict-1", 10_000, 20, 2_000)])
        let current = report([("predict-1", 11_000, 22, 2_200)])  // exactly +10 %
        let comparison = CostComparison(baseline: baseline, current: current)
        #expect(!comparison.failed)
        #expect(comparison.rows.map(\.verdict) == [.within, .within, .within])
        #expect(comparison.rows.map(\.metric) == ["instructions", "allocations", "allocated bytes"])
    }

    @Test func failsWhenOneCountGrowsMoreThanTheTolerance() {
        let baseline = report([("predict-1", 10_000, 20, 2_000), ("model-predict", 5_000, 6, 900)])
        let current = report([("predict-1", 10_000, 20, 2_000), ("model-predict", 5_501, 6, 900)])
        let comparison = CostComparison(baseline: baseline, current: current)
        #expect(comparison.failed)
        #expect(comparison.rows.filter { $0.verdict == .grew }.map { "\($0.name) \($0.metric)" } == ["model-predict instructions"])
        #expect(comparison.table.contains("| model-predict | instructions | 5,000 | 5,501 | +10 % | **grew more than 10 %** |"))
    }

    @Test func anAllocationOverABaselineOfZeroFails() {
        let comparison = CostComparison(
            baseline: report([("predict-1", 1_000, 0, 0)]), current: report([("predict-1", 1_000, 0.01, 16)]))
        #expect(comparison.failed)
        #expect(comparison.rows[1].change == nil)
        #expect(comparison.table.contains("| predict-1 | allocations | 0 | 0.01 | new |"))
    }

    @Test func aFallPassesAndSuggestsAnUpdate() {
        let comparison = CostComparison(
            baseline: report([("predict-1", 10_000, 27, 3_779)]), current: report([("predict-1", 8_000, 22, 3_000)]))
        #expect(!comparison.failed)
        #expect(comparison.rows[0].verdict == .shrank)
        #expect(comparison.table.contains("-20 %"))
        #expect(comparison.table.contains("update the baseline to keep it"))
    }

    @Test func aTighterToleranceIsHonoured() {
        let comparison = CostComparison(
            baseline: report([("a", 100, 1, 1)]), current: report([("a", 103, 1, 1)]), tolerance: 0.02)
        #expect(comparison.failed)
    }

    @Test func missingAndExtraCasesFail() {
        let comparison = CostComparison(
            baseline: report([("predict-1", 1, 1, 1), ("predict-32", 1, 1, 1)]),
            current: report([("predict-1", 1, 1, 1), ("predict-64", 1, 1, 1)]))
        #expect(comparison.failed)
        #expect(comparison.problems == ["predict-64: not in the baseline", "predict-32: in the baseline but not measured"])
    }

    @Test func instructionsNotCountedFail() {
        let comparison = CostComparison(baseline: report([("a", 100, 1, 1)]), current: report([("a", nil, 1, 1)]))
        #expect(comparison.failed)
        #expect(comparison.problems == ["a: instructions were not counted (run the benchmark under callgrind)"])
    }
}

@Suite(.timeLimit(.minutes(10))) struct CostReportTests {
    @Test func perCallCountsComeFromTotals() {
        let c = CostCase(name: "x", what: "", iterations: 3, totalInstructions: 1_000, totalAllocations: 7, totalBytes: 100)
        #expect(c.instructions == 333)
        #expect(c.allocations == 2.33)
        #expect(c.allocatedBytes == 33.33)
        #expect(CostCase(name: "x", what: "", iterations: 3, totalInstructions: nil, totalAllocations: 0, totalBytes: 0).instructions == nil)
    }

    @Test func roundTripsThroughItsFileFormat() throws {
        let report = CostReport(cases: [
            CostCase(name: "predict-1", what: "one listing", iterations: 100, instructions: 69_571, allocations: 27, allocatedBytes: 3_779.5),
        ])
        let bytes = try report.encoded()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        #expect(text.contains("\"allocated_bytes\" : 3779.5"))
        #expect(text.contains("\"format\" : 1"))
        #expect(try CostReport.decode(bytes) == report)
    }

    @Test func rejectsAFileThatIsNotAReport() {
        #expect(throws: (any Error).self) { try CostReport.decode(Array("{\"cases\": 3}".utf8)) }
    }

    @Test func formatsCountsForTables() {
        #expect(formatCount(1_236_508) == "1,236,508")
        #expect(formatCount(27) == "27")
        #expect(formatCount(2.5) == "2.5")
        #expect(formatCount(1_778.47) == "1,778.47")
        #expect(formatCount(0.05) == "0.05")
        #expect(formatCount(999.999) == "1,000")
        #expect(percent(0.1) == "+10 %")
        #expect(percent(-0.123) == "-12.3 %")
    }
}

@Suite(.timeLimit(.minutes(10))) struct CallgrindDumpTests {
    @Test func readsTheSummaryOfInstructions() {
        let dump = """
            # callgrind format
            version: 1
            creator: callgrind-3.19.0
            cmd:  cost-bench measure
            part: 2

            positions: line
            events: Ir
            summary: 6957053

            fn=(1) cost_probe_region
            0 12
            totals: 6957053
            """
        #expect(Callgrind.instructions(inDump: dump) == 6_957_053)
    }

    @Test func fallsBackToTotals() {
        #expect(Callgrind.instructions(inDump: "events: Ir Dr\ntotals: 42 7\n") == 42)
    }

    @Test func refusesADumpWhoseFirstEventIsNotInstructions() {
        #expect(Callgrind.instructions(inDump: "events: Dr Ir\nsummary: 42 7\n") == nil)
        #expect(Callgrind.instructions(inDump: "events: Ir\n") == nil)
        #expect(Callgrind.instructions(inDump: "") == nil)
    }
}
