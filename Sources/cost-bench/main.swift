// cost-bench: deterministic counts per call of the predict and V2 infer handler paths and the
// model, against a committed baseline. No timings: instructions (counted by callgrind) and heap
// allocations (counted by the CCostProbe allocator on this thread), once warm.
//
//   cost-bench measure --bodies DIR [--storage models] [--model prohibited-items]
//                      [--warmup 50] [--iterations 100] [--callgrind-dumps DIR] [--output FILE]
//   cost-bench compare BASELINE CURRENT [--tolerance 0.10]
//
// DIR holds bench/make_bodies.py's output: single.json and batch.json (V1), v2-single.json and
// v2-batch.json (V2 JSON), v2-binary-single.json/.bin and v2-binary-batch.json/.bin (V2 with
// binary tensor data: the JSON header, then the data after it, as tritonclient sends them).
//
// bench/cost.sh drives both: it makes the bodies, runs `measure` under callgrind and compares
// with bench/cost-baseline.json (or replaces it: `bench/cost.sh update`).
import CCostProbe
import CostTracking
import FoundationEssentials
import HTTPServer
import Inference
import Logging
import Service
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String, status: Int32 = 2) -> Never {
    let line = Array("cost-bench: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(status)
}

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name) else { return nil }
    guard i + 1 < arguments.count else { fail("\(name) needs a value") }
    return arguments[i + 1]
}

func integerOption(_ name: String, _ fallback: Int) -> Int {
    guard let text = option(name) else { return fallback }
    guard let value = Int(text), value > 0 else { fail("\(name) must be a positive integer, not '\(text)'") }
    return value
}

func readFile(_ path: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    return Array(data)
}

func writeFile(_ bytes: [UInt8], to path: String) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fail("cannot write \(path)") }
}

// MARK: Measuring

/// Runs `body` `rounds` times inside `cost_probe_region`, the function callgrind counts in,
/// and returns the allocations this thread made in those calls (read inside the region, so
/// that only the calls themselves are counted).
func counted(rounds: Int, _ body: () -> Void) -> (allocations: UInt64, bytes: UInt64) {
    typealias Context = (rounds: Int, body: () -> Void, allocations: UInt64, bytes: UInt64)
    return withoutActuallyEscaping(body) { body in
        var context: Context = (rounds, body, 0, 0)
        withUnsafeMutablePointer(to: &context) { pointer in
            cost_probe_region({ raw in
                let context = raw!.assumingMemoryBound(to: Context.self)
                let before = cost_probe_thread_allocations()
                for _ in 0..<context.pointee.rounds { context.pointee.body() }
                let after = cost_probe_thread_allocations()
                context.pointee.allocations = after.allocations - before.allocations
                context.pointee.bytes = after.bytes - before.bytes
            }, pointer)
        }
        return (context.allocations, context.bytes)
    }
}

/// An in-process POST of `body` to `path`, as the server hands it to the router once parsed.
/// `headerLength`: a V2 body with binary tensor data after a JSON header of that many bytes,
/// sent as tritonclient sends it (`Inference-Header-Content-Length`, no Content-Type).
func post(_ path: String, _ body: [UInt8], headerLength: Int? = nil) -> HTTPRequest {
    var head = HTTPRequestHead(
        method: "POST", target: path, path: path, query: nil, version: .http1_1,
        headers: ["Host": "127.0.0.1"],
        framing: .contentLength(body.count), keepAlive: true, expectsContinue: false)
    if let headerLength {
        head.headers.add("Inference-Header-Content-Length", String(headerLength))
    } else {
        head.headers.add("Content-Type", "application/json")
    }
    head.headers.add("Content-Length", String(body.count))
    return HTTPRequest(head: head, body: body)
}

func measure() {
    // Swift seeds Hashable per process: dictionary and set layouts, and so the instructions
    // spent probing them, would differ from run to run.
    guard getenv("SWIFT_DETERMINISTIC_HASHING").map({ String(cString: $0) }) == "1" else {
        fail("set SWIFT_DETERMINISTIC_HASHING=1: with per-process hash seeds the counts are not repeatable")
    }
    // The counting allocator must be the process's malloc, or every count reads 0. (Through
    // the Swift runtime, as the code measured allocates: the optimizer removes a bare
    // malloc/free pair.)
    let probe = counted(rounds: 1) { UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8).deallocate() }
    guard probe.allocations == 1, probe.bytes == 64 else {
        fail("the counting allocator is not in effect (a malloc counted \(probe.allocations) times)")
    }

    guard let bodies = option("--bodies") else {
        fail("measure needs --bodies DIR: the request bodies bench/make_bodies.py writes")
    }
    let singlePath = "\(bodies)/single.json", batchPath = "\(bodies)/batch.json"
    let storage = option("--storage") ?? "models"
    let modelName = option("--model") ?? "prohibited-items"
    let warmup = integerOption("--warmup", 50)
    let iterations = integerOption("--iterations", 100)
    let dumps = option("--callgrind-dumps")

    // The service as configured by default (metrics on, input-skew monitoring on), without the
    // access log: its line carries a timestamp and a duration, time-dependent work that makes
    // the counts vary a little (one case has it on). Nothing is served; requests go straight to the router. The
    // monitor's worker is not started (the request path is what is counted): after each call
    // what the request handed it is counted finished, unprocessed, as a worker that keeps up
    // finishes it, so that the request thread reuses its jobs as it does when served.
    func startedService(_ environment: [String: String], logSink: LogSink = LogSink { _ in }) -> VigiaService {
        var settings = ["VIGIA_STORAGE_PATH": storage, "VIGIA_LOGGING_ACCESS_LOG": "false"]
        settings.merge(environment) { _, given in given }
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.resolve(file: nil, environment: settings)
        } catch {
            fail("configuration: \(error)")
        }
        let service = VigiaService(
            configuration: configuration, logger: Logger(label: "cost-bench") { _ in SwiftLogNoOpLogHandler() }, logSink: logSink)
        do { try service.registry.start() } catch { fail("registry: \(error)") }
        let deadline = ContinuousClock.now + .seconds(600)
        while !service.registry.isReady, ContinuousClock.now < deadline { sched_yield() }
        // Stop the watcher thread once the model serves: the measuring thread is then the only one.
        service.registry.shutdown()
        return service
    }
    let service = startedService([:])
    // The same with monitoring.input_skew off: nothing goes to the monitor.
    let skewOff = startedService(["VIGIA_MONITORING_INPUT_SKEW": "false"])
    // The same with the access log on, as shipped, its lines buffered as `vigia serve` buffers
    // them (written out to /dev/null when the buffer fills, on the request's thread; the timed
    // flush is an hour off, so no other thread runs).
    let devNull = open("/dev/null", O_WRONLY)
    guard devNull >= 0 else { fail("/dev/null: errno \(errno)") }
    let accessLogged = startedService(
        ["VIGIA_LOGGING_ACCESS_LOG": "true"], logSink: .buffered(fd: devNull, interval: .seconds(3600), limit: 256 * 1024))
    let serving: ServingModel
    do { serving = try service.registry.handle(model: modelName).servable } catch {
        fail("model \(modelName) does not serve from \(storage): \(error)")
    }

    let path = "/v1/models/\(modelName):predict"
    let single = post(path, readFile(singlePath))
    let batch = post(path, readFile(batchPath))
    let listings: [[FeatureValue]]
    do { listings = try serving.instances(of: batch.body) } catch {
        fail("\(batchPath): not a predict body this model accepts: \(error)")
    }
    // The same listings through Open Inference Protocol infer: all JSON, and with binary tensor data.
    let inferPath = "/v2/models/\(modelName)/infer"
    func binaryInfer(_ stem: String) -> HTTPRequest {
        let header = readFile("\(bodies)/\(stem).json")
        return post(inferPath, header + readFile("\(bodies)/\(stem).bin"), headerLength: header.count)
    }
    let v2Single = post(inferPath, readFile("\(bodies)/v2-single.json"))
    let v2Batch = post(inferPath, readFile("\(bodies)/v2-batch.json"))
    let v2BinarySingle = binaryInfer("v2-binary-single")
    let v2BinaryBatch = binaryInfer("v2-binary-batch")
    for (request, file) in [(single, "single.json"), (batch, "batch.json"), (v2Single, "v2-single.json"), (v2Batch, "v2-batch.json"),
                            (v2BinarySingle, "v2-binary-single"), (v2BinaryBatch, "v2-binary-batch")] {
        let response = service.router.respond(to: request)
        guard skewOff.router.respond(to: request).status == response.status, accessLogged.router.respond(to: request).status == response.status
        else { fail("\(file): the services answer differently") }
        guard response.status == .ok else {
            fail("\(bodies)/\(file): answered \(response.status.code): \(String(decoding: response.body, as: UTF8.self))")
        }
    }
    // The checks handed each monitor jobs; finished now, they do not hold back the request
    // thread's reuse of the jobs that follow (it frees them in the order they were handed over).
    for checked in [service, skewOff, accessLogged] { checked.benchOnly_finishMonitorJobs() }
    let model = serving.model

    struct Case {
        var name: String
        var what: String
        /// Calls per round: the counts are per call.
        var calls: Int
        var body: () -> Void
    }
    /// One request answered through `service`'s router (200 expected), per call.
    func routed(_ name: String, _ what: String, _ service: VigiaService, _ request: HTTPRequest) -> Case {
        Case(name: name, what: what, calls: 1) {
            var response = service.router.respond(to: request)
            precondition(response.status == .ok)
            // What the event loop does once the response is written out.
            if response.recyclesBody { ResponseBodies.giveBack(&response.body) }
            service.benchOnly_finishMonitorJobs()
        }
    }
    let n = listings.count
    let cases = [
        routed("predict-1", "V1 :predict of 1 listing through the router (decode, validate, score, encode)", service, single),
        routed("predict-\(n)", "V1 :predict of \(n) listings through the router", service, batch),
        routed("predict-1-skew-off", "predict-1 with monitoring.input_skew false (predict-1 over this: what skew monitoring costs a request)", skewOff, single),
        routed("predict-\(n)-skew-off", "predict-\(n) with monitoring.input_skew false", skewOff, batch),
        routed("predict-1-access-log", "predict-1 with the access log on, as shipped (over predict-1: what its line costs a request)", accessLogged, single),
        routed("v2-infer-1", "V2 infer of the same listing, JSON (decode, check against the signature, score, encode)", service, v2Single),
        routed("v2-infer-\(n)", "V2 infer of the same \(n) listings, JSON", service, v2Batch),
        routed("v2-binary-infer-1", "V2 infer of the listing with binary tensor data in and out, as tritonclient sends it by default", service, v2BinarySingle),
        routed("v2-binary-infer-\(n)", "V2 infer of the \(n) listings with binary tensor data in and out", service, v2BinaryBatch),
        Case(name: "model-predict", what: "one model call (features and score), mean over the \(n) listings", calls: n) {
            for listing in listings { _ = model.predict(listing) }
        },
    ]

    var results: [CostCase] = []
    var regions = 1  // the allocator check above was the first
    for c in cases {
        for _ in 0..<warmup { c.body() }
        let tally = counted(rounds: iterations, c.body)
        regions += 1
        var instructions: UInt64?
        if let dumps {
            // callgrind writes one file per exit from the region: <out-file>.<n>, n from 1.
            let dump = "\(dumps)/callgrind.out.\(regions)"
            guard let text = FileManager.default.contents(atPath: dump).map({ String(decoding: $0, as: UTF8.self) }),
                  let total = Callgrind.instructions(inDump: text)
            else {
                fail("no instruction total in \(dump): run under valgrind --tool=callgrind as bench/cost.sh does")
            }
            instructions = total
        }
        results.append(CostCase(
            name: c.name, what: c.what, iterations: iterations * c.calls, totalInstructions: instructions,
            totalAllocations: tally.allocations, totalBytes: tally.bytes))
    }
    let report = CostReport(cases: results)
    print(report.table)
    if let output = option("--output") {
        do { writeFile(try report.encoded(), to: output) } catch { fail("encoding the report: \(error)") }
    }
}

// MARK: Comparing

func compare() {
    let paths = arguments.dropFirst().prefix { !$0.hasPrefix("--") }
    guard paths.count == 2 else { fail("usage: cost-bench compare BASELINE CURRENT [--tolerance 0.10]") }
    let tolerance = option("--tolerance").map { text in
        guard let value = Double(text), value >= 0 else { fail("--tolerance must be a number ≥ 0, not '\(text)'") }
        return value
    } ?? CostComparison.defaultTolerance
    let reports = paths.map { path in
        do { return try CostReport.decode(readFile(path)) } catch { fail("\(path): not a cost report: \(error)") }
    }
    let comparison = CostComparison(baseline: reports[0], current: reports[1], tolerance: tolerance)
    print(comparison.table)
    if comparison.failed { exit(1) }
}

switch arguments.first {
case "measure": measure()
case "compare": compare()
default: fail("usage: cost-bench measure … | cost-bench compare BASELINE CURRENT (see bench/README.md)")
}
