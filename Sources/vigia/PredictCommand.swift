import ArgumentParser
import Foundation
import Inference
import Service
import Training

/// `vigia predict`: JSON Lines in, JSON Lines out, with a published model version.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score listings from a JSON Lines file; writes {\"id\",\"score\",\"label\",\"threshold\"} per line to stdout.",
        discussion: "Each line is checked against the model's listing schema exactly as POST :predict checks a listing."
    )

    @Option(help: "A version directory, e.g. models/prohibited-items/1.")
    var model: String

    @Option(help: "A JSON Lines file of listings (one object a line), or - for stdin.")
    var input: String

    @Flag(help: "Report a bad line on stderr and go on with the next (exit status 1 at the end); by default the first bad line stops the run.")
    var keepGoing = false

    /// Files from this size on get a progress bar on a terminal.
    static let largeFileBytes = 1 << 20

    func run() throws {
        let loaded = try Console.loadModel(at: model)
        let predictor = BatchPredictor(model: loaded)
        var failures = 0
        var number = 0
        func handle(_ line: [UInt8]) throws {
            number += 1
            do {
                if let output = try predictor.predict(line: line, number: number) { print(output) }
            } catch {
                failures += 1
                if !keepGoing { throw Console.fail("\(input): \(error)") }
                Console.error("error: \(input): \(error)")
            }
        }
        // Bytes, split at LF, a line at a time (stdin streams): decoding to String first would
        // turn invalid UTF-8 into U+FFFD and score it.
        let source: FileHandle
        if input == "-" {
            source = FileHandle.standardInput
        } else {
            guard let file = FileHandle(forReadingAtPath: input) else { throw Console.fail("cannot read \(input)") }
            source = file
        }
        // A bar (bytes read, lines, ETA) on a terminal for files of 1 MiB or more; nothing
        // otherwise (stdout carries the scores).
        let display = TerminalProgress()
        let size = input == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? nil
        let barTotal = display.isTerminal ? size.flatMap { $0 >= Self.largeFileBytes ? max(1, $0 / 1024) : nil } : nil
        var bytesRead = 0
        var pending: [UInt8] = []
        while true {
            let chunk = source.availableData
            if chunk.isEmpty { break }
            bytesRead += chunk.count
            if let barTotal {
                display.update(ProgressUpdate(task: "predict", done: min(bytesRead / 1024, barTotal - 1), total: barTotal,
                                              detail: "KiB, \(number) lines"))
            }
            pending.append(contentsOf: chunk)
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try handle(Array(pending[start..<newline]))
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { try handle(pending) }
        if let barTotal { display.update(ProgressUpdate(task: "predict", done: barTotal, total: barTotal, detail: "KiB, \(number) lines")) }
        if failures > 0 {
            Console.error("\(failures) line(s) could not be scored")
            throw ExitCode.failure
        }
    }
}
