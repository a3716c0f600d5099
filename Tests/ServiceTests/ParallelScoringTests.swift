import Foundation
import Glibc
import Inference
import Testing
@testable import Service

/// `vigia predict`'s parallel run: batches of whole lines, scored on several threads, written
/// in input order; the first failure stops it unless told to keep going.
@Suite(.timeLimit(.minutes(10))) struct ParallelScoringTests {
    @Test func chunkerCutsWholeLinesAndNumbersThem() {
        var chunker = LineChunker()
        func feed(_ text: String) -> LineBatch? {
            Array(text.utf8).withUnsafeBytes { chunker.feed($0) }
        }
        #expect(feed("ab") == nil)
        #expect(feed("c\nde") == LineBatch(sequence: 0, firstLine: 1, bytes: Array("abc\n".utf8)))
        #expect(feed("f\n\ng\nh") == LineBatch(sequence: 1, firstLine: 2, bytes: Array("def\n\ng\n".utf8)))
        #expect(chunker.nextLineNumber == 5)
        #expect(chunker.finish() == LineBatch(sequence: 2, firstLine: 5, bytes: Array("h".utf8)))
        #expect(chunker.finish() == nil)
    }

    static func listing(_ k: Int) -> String {
        #"{"id":"L\#(k)","site_id":"MLB","title":"pistola \#(k) glock réplica airsoft","category_id":"MLB1234","price_usd":\#(k % 900),"seller_age_days":\#(k),"seller_sales":3}"#
    }

    /// Runs `text` through ParallelScoring with tiny chunks (so many batches) on 3 threads.
    static func run(_ text: String, keepGoing: Bool) throws -> (output: String, summary: ParallelScoring.Summary, reported: [Int]) {
        let predictor = BatchPredictor(model: try defaultModel.get())
        let directory = FileManager.default.temporaryDirectory.appending(path: "parallel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputPath = directory.appending(path: "in.jsonl").path, outputPath = directory.appending(path: "out.jsonl").path
        #expect(FileManager.default.createFile(atPath: inputPath, contents: Data(text.utf8)))
        let input = open(inputPath, O_RDONLY), output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(input) }
        var reported: [Int] = []
        let summary = try ParallelScoring(predictor: predictor, threads: 3, keepGoing: keepGoing, chunkSize: 257)
            .run(input: input, output: output, report: { reported.append($0.line) }, progress: { _, _ in })
        close(output)
        let written = String(decoding: try #require(FileManager.default.contents(atPath: outputPath)), as: UTF8.self)
        return (written, summary, reported)
    }

    @Test func writesWhatTheLineByLinePredictorWritesInInputOrder() throws {
        let predictor = BatchPredictor(model: try defaultModel.get())
        let lines = (0..<400).map { $0 % 37 == 5 ? "" : Self.listing($0) }
        let expected = try lines.enumerated().compactMap { try predictor.predict(line: $1, number: $0 + 1) }
        let result = try Self.run(lines.joined(separator: "\n"), keepGoing: false)  // no final LF
        #expect(result.output == expected.map { $0 + "\n" }.joined())
        #expect(result.summary.scored == expected.count)
        #expect(result.summary.failed == 0 && result.summary.stoppedBy == nil && result.reported.isEmpty)
    }

    @Test func stopsAtTheFirstBadLineOrReportsEveryOneInOrder() throws {
        var lines = (0..<300).map(Self.listing)
        for bad in [120, 121, 250] { lines[bad - 1] = #"{"id":"x","title":"no site"}"# }
        let text = lines.joined(separator: "\n") + "\n"

        let stopped = try Self.run(text, keepGoing: false)
        #expect(stopped.summary.stoppedBy?.line == 120)
        #expect(stopped.summary.scored == 119)
        #expect(stopped.output.split(separator: "\n").count == 119)
        #expect(stopped.output.split(separator: "\n").last?.hasPrefix(#"{"id":"L118","#) == true)

        let going = try Self.run(text, keepGoing: true)
        #expect(going.reported == [120, 121, 250])
        #expect(going.summary.failed == 3 && going.summary.scored == 297 && going.summary.stoppedBy == nil)
        #expect(going.output.split(separator: "\n").count == 297)
    }
}
