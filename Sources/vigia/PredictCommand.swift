import ArgumentParser
import FoundationEssentials
import Glibc
import Inference
import ProgressDisplay
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

    @Option(help: "Scoring threads (default: one per online core).")
    var threads: Int?

    @Flag(help: "Write `predict: N rows, R rows/s` to stderr every second and a summary line at the end.")
    var progress = false

    /// Files from this size on get a progress bar on a terminal.
    static let largeFileBytes = 1 << 20

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let loaded = try Console.loadModel(at: model)
        // Bytes, cut at LF (stdin streams): decoding to String first would turn invalid UTF-8
        // into U+FFFD and score it. Reading, scoring and writing overlap; output keeps input order.
        let fd: Int32
        if input == "-" {
            fd = 0
        } else {
            fd = open(input, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Console.fail("cannot read \(input)") }
        }
        defer { if fd != 0 { _ = close(fd) } }
        let threadCount = threads ?? max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let scoring = ParallelScoring(predictor: BatchPredictor(model: loaded), threads: threadCount, keepGoing: keepGoing)
        var meter = RateMeter()
        // A bar (bytes read, lines, rows/s) on a terminal for files of 1 MiB or more; with
        // --progress a `predict: N rows, R rows/s` line every second; nothing otherwise (stdout
        // carries the scores).
        let display = TerminalProgress(write: Console.raw)
        let size = input == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? nil
        let barTotal = display.isTerminal ? size.flatMap { $0 >= Self.largeFileBytes ? max(1, $0 / 1024) : nil } : nil
        let summary: ParallelScoring.Summary
        do {
            summary = try scoring.run(input: fd, output: 1, report: { error in
                if keepGoing { Console.error("error: \(input): \(error)") }
            }, progress: { scored, bytes in
                if let barTotal {
                    display.update(ProgressUpdate(task: "predict", done: min(bytes / 1024, barTotal - 1), total: barTotal,
                                                  detail: "KiB, \(scored) lines, \(meter.rate(scored)) rows/s"))
                } else if progress, let line = meter.progress(scored) {
                    Console.error(line)
                }
            })
        } catch {
            throw Console.fail("\(input): \(error)")
        }
        if let barTotal {
            display.update(ProgressUpdate(task: "predict", done: barTotal, total: barTotal, detail: "KiB, \(summary.scored) lines"))
        }
        if let stop = summary.stoppedBy {
            let failure = Console.fail("\(input): \(stop)")
            if progress { Console.error(meter.summary(summary.scored, threads: threadCount)) }
            throw failure
        }
        if progress { Console.error(meter.summary(summary.scored, threads: threadCount)) }
        if summary.failed > 0 {
            Console.error("\(summary.failed) line(s) could not be scored")
            throw ExitCode.failure
        }
    }
}

/// Rows per second on stderr: a line every second while scoring, and one at the end.
struct RateMeter {
    let clock = ContinuousClock()
    let start = ContinuousClock.now
    var lastReport = ContinuousClock.now

    /// A progress line when a second has passed since the last one.
    mutating func progress(_ scored: Int) -> String? {
        let now = clock.now
        guard now - lastReport >= .seconds(1) else { return nil }
        lastReport = now
        return "predict: \(scored) rows, \(Self.rate(scored, now - start)) rows/s"
    }

    /// Rows per second so far.
    func rate(_ scored: Int) -> Int { Self.rate(scored, clock.now - start) }

    func summary(_ scored: Int, threads: Int) -> String {
        let elapsed = clock.now - start
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return "predict: \(scored) rows in \(Double(milliseconds) / 1000) s, \(Self.rate(scored, elapsed)) rows/s, \(threads) thread(s)"
    }

    static func rate(_ rows: Int, _ elapsed: Duration) -> Int {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Int((Double(rows) / seconds).rounded()) : 0
    }
}
