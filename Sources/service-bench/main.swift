import Foundation
import HTTPServer
import Inference
import JSON
import Logging
import Service

// Where a predict request's time goes, in-process (no sockets): JSON parse, schema check,
// listing → pipeline input, model, response encoding, and the whole handler path through
// the router; then V1 :predict against Open Inference Protocol infer for the same listings,
// as JSON and with binary tensor data as tritonclient sends it, in alternating rounds.
// Bodies are real listings from data/listings.csv (via bench/make_bodies.py's output or built
// here). Usage: service-bench [--storage models] [--rounds 9] [--iterations 2000] [--counts 1,64]

func argument(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

let storage = argument("--storage", "models")
let rounds = Int(argument("--rounds", "9")) ?? 9
let iterations = Int(argument("--iterations", "2000")) ?? 2000
let counts = argument("--counts", "1,64").split(separator: ",").compactMap { Int($0) }

/// Listings from the CSV, as JSON objects in the contract's shape.
func listings(count: Int) throws -> [String] {
    let text = try String(contentsOfFile: "data/listings.csv", encoding: .utf8)
    var rows: [String] = []
    for line in text.split(separator: "\n").dropFirst() where !line.contains("\"") {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard f.count >= 8 else { continue }
        var w = JSONWriter()
        w.raw("{\"id\":"); w.string(f[0]); w.raw(",\"site_id\":"); w.string(f[1]); w.raw(",\"title\":"); w.string(f[2])
        w.raw(",\"category_id\":"); w.string(f[3]); w.raw(",\"price_usd\":"); w.number(Double(f[4]) ?? 0)
        w.raw(",\"seller_age_days\":"); w.number(Double(f[5]) ?? 0); w.raw(",\"seller_sales\":"); w.number(Double(f[6]) ?? 0)
        w.raw(",\"seller_reputation\":"); w.string(f[7]); w.raw("}")
        rows.append(String(decoding: w.bytes, as: UTF8.self))
        if rows.count == count { break }
    }
    return rows
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// Mean ns per call of `body` over `iterations` calls.
func meanNanoseconds(_ body: () -> Void) -> Double {
    let start = ContinuousClock.now
    for _ in 0..<iterations { body() }
    let elapsed = ContinuousClock.now - start
    return (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(iterations)
}

/// Median over rounds of the mean ns per call of `body`.
func measure(_ body: () -> Void) -> Double {
    median((0..<rounds).map { _ in meanNanoseconds(body) })
}

let configuration = try ServiceConfiguration.resolve(
    file: nil, environment: ["VIGIA_STORAGE_PATH": storage, "VIGIA_LOGGING_ACCESS_LOG": "false"])
let service = VigiaService(configuration: configuration, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
try service.registry.start()
let deadline = ContinuousClock.now + .seconds(60)
while !service.registry.isReady, ContinuousClock.now < deadline { sched_yield() }
let handle = try service.registry.handle(model: "prohibited-items")
let serving = handle.servable

print("| listings | tree: parse | validate | to features | one pass: decode to features | predict | encode | whole handler | handler µs | JSON share |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for count in counts {
    let body = Array(("{\"instances\":[" + (try listings(count: count)).joined(separator: ",") + "]}").utf8)
    let parsed = try JSONParser.parse(body)
    let objects = parsed["instances"]!.arrayValue!.map { $0.objectValue! }
    let values = objects.map(serving.featureValues)
    var head = HTTPRequestHead(method: "POST", target: "/v1/models/prohibited-items:predict", path: "/v1/models/prohibited-items:predict",
                               query: nil, version: .http1_1, headers: ["Host": "x", "Content-Type": "application/json"],
                               framing: .contentLength(body.count), keepAlive: true, expectsContinue: false)
    head.headers.add("Content-Length", String(body.count))
    let request = HTTPRequest(head: head, body: body)
    precondition(service.router.respond(to: request).status == .ok)

    let parse = measure { _ = try! JSONParser.parse(body) }
    let validate = measure { precondition(serving.requestSchema.conforms(parsed)) }
    let toFeatures = measure { _ = objects.map(serving.featureValues) }
    // What the handler runs: the one-pass decoder (the tree above is its fallback for bad bodies).
    precondition((try? serving.instances(of: body)) == values)
    let onePass = measure { _ = try! serving.instances(of: body) }
    let predict = measure { for v in values { _ = serving.model.predict(v) } }
    let predictions = values.map { serving.model.predict($0) }
    let encode = measure {
        var out = JSONWriter(capacity: 96 + 96 * count)
        out.raw("{\"model_name\":\"prohibited-items\",\"model_version\":1,\"predictions\":[")
        for (i, p) in predictions.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"id\":"); out.string("MLB-123456"); out.raw(",\"score\":"); out.number(p.score)
            out.raw(",\"label\":"); out.string(p.label); out.raw(",\"threshold\":"); out.number(0.37); out.raw("}")
        }
        out.raw("]}")
    }
    let whole = measure { _ = service.router.respond(to: request) }
    if count == 1 {
        var liveHead = head
        liveHead.method = "GET"; liveHead.path = "/health/live"; liveHead.target = "/health/live"
        let live = HTTPRequest(head: liveHead)
        let routing = measure { _ = service.router.respond(to: live) }
        let handleCost = measure { _ = try! service.registry.handle(model: "prohibited-items") }
        print("(GET /health/live through the router: \(Int(routing)) ns; registry.handle: \(Int(handleCost)) ns)")
    }
    let json = (onePass + encode) / whole * 100
    func ns(_ v: Double) -> String { String(format: "%.0f ns", v) }
    print("| \(count) | \(ns(parse)) | \(ns(validate)) | \(ns(toFeatures)) | \(ns(onePass)) | \(ns(predict)) | \(ns(encode)) | \(ns(whole)) | \(String(format: "%.1f", whole / 1000)) | \(String(format: "%.0f %%", json)) |")
}

/// The listings as an Open Inference Protocol infer body: one input per field, in the
/// listing's member order (BYTES for text, FP64 for numbers), shape [N].
func v2Body(_ objects: [JSONObject]) -> [UInt8] {
    var out = JSONWriter()
    out.raw("{\"inputs\":[")
    for (k, member) in objects[0].members.enumerated() {
        if k > 0 { out.raw(",") }
        out.raw("{\"name\":"); out.string(member.key)
        out.raw(member.value.stringValue != nil ? ",\"datatype\":\"BYTES\",\"shape\":[" : ",\"datatype\":\"FP64\",\"shape\":[")
        out.number(objects.count); out.raw("],\"data\":")
        out.value(.array(objects.map { $0[member.key] ?? .null }))
        out.raw("}")
    }
    out.raw("]}")
    return out.bytes
}

/// The same columns as tritonclient.http sends them by default: a JSON header naming each
/// input's `binary_data_size`, then the tensor data (BYTES as 4-byte little-endian lengths and
/// UTF-8, FP64 as 8-byte little-endian), every output asked for as binary data.
func v2BinaryBody(_ objects: [JSONObject]) -> (body: [UInt8], headerLength: Int) {
    var out = JSONWriter()
    var data: [UInt8] = []
    out.raw("{\"inputs\":[")
    for (k, member) in objects[0].members.enumerated() {
        let start = data.count
        for object in objects {
            switch object[member.key] {
            case .string(let text)?:
                withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian) { data.append(contentsOf: $0) }
                data.append(contentsOf: text.utf8)
            case let value?:
                withUnsafeBytes(of: (value.numberValue ?? 0).bitPattern.littleEndian) { data.append(contentsOf: $0) }
            case nil: break
            }
        }
        if k > 0 { out.raw(",") }
        out.raw("{\"name\":"); out.string(member.key)
        out.raw(",\"shape\":["); out.number(objects.count)
        out.raw(member.value.stringValue != nil ? "],\"datatype\":\"BYTES\"" : "],\"datatype\":\"FP64\"")
        out.raw(",\"parameters\":{\"binary_data_size\":"); out.number(data.count - start); out.raw("}}")
    }
    out.raw("],\"parameters\":{\"binary_data_output\":true}}")
    return (out.bytes + data, out.bytes.count)
}

/// Median ns per call of each of `bodies`, measured in alternating rounds so that machine
/// noise falls on all alike.
func measureAlternating(_ bodies: [() -> Void]) -> [Double] {
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<rounds {
        for (k, body) in bodies.enumerated() { times[k].append(meanNanoseconds(body)) }
    }
    return times.map(median)
}

print("")
print("| listings | V1 :predict handler | V2 infer handler (JSON) | V2/V1 throughput | V2 infer handler (binary tensor data) | binary V2/V1 throughput |")
print("|---:|---:|---:|---:|---:|---:|")
for count in counts {
    let objects = try listings(count: count).map { try JSONParser.parse(Array($0.utf8)).objectValue! }
    /// `headerLength`: binary tensor data follows a JSON header of that many bytes (sent as
    /// tritonclient sends it: `Inference-Header-Content-Length`, no Content-Type).
    func request(_ path: String, _ body: [UInt8], headerLength: Int? = nil) -> HTTPRequest {
        var head = HTTPRequestHead(method: "POST", target: path, path: path, query: nil, version: .http1_1,
                                   headers: ["Host": "x"],
                                   framing: .contentLength(body.count), keepAlive: true, expectsContinue: false)
        if let headerLength {
            head.headers.add("Inference-Header-Content-Length", String(headerLength))
        } else {
            head.headers.add("Content-Type", "application/json")
        }
        head.headers.add("Content-Length", String(body.count))
        return HTTPRequest(head: head, body: body)
    }
    let v1 = request("/v1/models/prohibited-items:predict", JSONWriter.encode(["instances": .array(objects.map { .object($0) })]))
    let v2 = request("/v2/models/prohibited-items/infer", v2Body(objects))
    let binary = v2BinaryBody(objects)
    let v2Binary = request("/v2/models/prohibited-items/infer", binary.body, headerLength: binary.headerLength)
    for r in [v1, v2, v2Binary] {
        let response = service.router.respond(to: r)
        precondition(response.status == .ok, String(decoding: response.body, as: UTF8.self))
    }
    let t = measureAlternating([{ _ = service.router.respond(to: v1) }, { _ = service.router.respond(to: v2) }, { _ = service.router.respond(to: v2Binary) }])
    func us(_ ns: Double) -> String { String(format: "%.1f µs", ns / 1000) }
    print("| \(count) | \(us(t[0])) | \(us(t[1])) | \(String(format: "%.2f", t[0] / t[1])) | \(us(t[2])) | \(String(format: "%.2f", t[0] / t[2])) |")
}
service.registry.shutdown()
