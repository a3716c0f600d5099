import ArgumentParser
import FoundationEssentials
import Inference
import Service

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

    func run() throws {
        let loaded = try Console.loadModel(at: model)
        let predictor = BatchPredictor(model: loaded)
        var failures = 0
        var number = 0
        func handle(_ line: String) throws {
            number += 1
            do {
                if let output = try predictor.predict(line: line, number: number) { print(output) }
            } catch {
                failures += 1
                if !keepGoing { throw Console.fail("\(input): \(error)") }
                Console.error("error: \(input): \(error)")
            }
        }
        if input == "-" {
            while let line = readLine(strippingNewline: true) { try handle(line) }
        } else {
            guard let bytes = FileManager.default.contents(atPath: input) else { throw Console.fail("cannot read \(input)") }
            let text = String(decoding: bytes, as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            for line in lines { try handle(String(line)) }
        }
        if failures > 0 {
            Console.error("\(failures) line(s) could not be scored")
            throw ExitCode.failure
        }
    }
}
