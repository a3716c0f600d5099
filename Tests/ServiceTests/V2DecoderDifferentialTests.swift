import Testing
import Training
@testable import Service

/// The one-pass V2 decoder against the plain tree-walking one (`V2ReferenceDecoder`): on
/// generated requests — valid, wrong in one place, members in any order, binary data — and on
/// those bodies truncated or with a byte changed, both give the same request or the same 400.
@Suite(.timeLimit(.minutes(10))) struct V2DecoderDifferentialTests {
    typealias Outcome = Result<V2InferRequest, V2RequestError>

    static func outcome(_ decode: () throws(V2RequestError) -> V2InferRequest) -> Outcome {
        do { return .success(try decode()) } catch { return .failure(error) }
    }

    /// Decodes `body` both ways; records a difference.
    static func compare(_ body: [UInt8], headerLength: Int?, maxBatchSize: Int) -> Bool {
        let fast = outcome { () throws(V2RequestError) in try V2RequestDecoder.decode(body, headerLength: headerLength, maxBatchSize: maxBatchSize) }
        let reference = outcome { () throws(V2RequestError) in try V2ReferenceDecoder.decode(body, headerLength: headerLength, maxBatchSize: maxBatchSize) }
        guard fast == reference else {
            Issue.record("""
                decoders differ on \(String(decoding: body.prefix(headerLength ?? body.count), as: UTF8.self)) (+\(body.count - (headerLength ?? body.count)) binary bytes)
                one pass:  \(fast)
                reference: \(reference)
                """)
            return false
        }
        return true
    }

    /// Writes random requests: mostly well-formed, each part sometimes wrong.
    struct Generator {
        var random: SeededGenerator

        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
        mutating func pick<T>(_ options: [T]) -> T { options.randomElement(using: &random)! }
        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

        mutating func element(for datatype: String) -> String {
            if chance(0.03) { return pick(["null", "\"x\"", "true", "{}", "{\"a\":1}", "1.5", "-7", "\"\\u00e7\"", "[]"]) }
            switch datatype {
            case "BYTES": return pick(["\"Pistola 9mm\"", "\"\"", "\"çà\"", "\"a\\\"b\\n\"", "\"MLB\"", "null", "\"\\ud83d\\ude00\""])
            case "BOOL": return pick(["true", "false", "null"])
            case "INT32", "INT64": return pick(["0", "-3", "900", "2147483648", "-2147483649", "1e3", "2.5", "null", "9223372036854775807"])
            default: return pick(["12.5", "0", "-1e-3", "850", "1E2", "null", "123456789012345678"])
            }
        }

        mutating func data(_ datatype: String, count: Int) -> String {
            if chance(0.03) { return pick(["\"abc\"", "7", "null", "{}"]) }
            let n = chance(0.1) ? max(0, count + pick([-1, 1, 2])) : count
            let elements = (0..<n).map { _ in element(for: datatype) }
            switch int(0...9) {
            case 0: return "[" + elements.map { "[\($0)]" }.joined(separator: ",") + "]"  // [N, 1]
            case 1: return "[[" + elements.joined(separator: ",") + "]]"
            case 2 where n > 1: return "[" + elements[0] + ",[" + elements.dropFirst().joined(separator: ",") + "]]"
            case 3: return "[" + elements.map { "[[\($0)]]" }.joined(separator: ",") + "]"
            default: return "[" + elements.joined(separator: " , ") + "]"
            }
        }

        /// Binary tensor data for `count` elements of `datatype`, sometimes of the wrong size.
        mutating func binary(_ datatype: String, count: Int) -> [UInt8] {
            var bytes: [UInt8] = []
            for _ in 0..<count {
                switch datatype {
                case "BYTES":
                    let text = Array(pick(["abc", "", "çà", "x y"]).utf8) + (chance(0.05) ? [0xFF] : [])
                    bytes += [UInt8(text.count), 0, 0, 0] + text
                case "BOOL": bytes.append(chance(0.05) ? 2 : UInt8(int(0...1)))
                case "FP64": withUnsafeBytes(of: (chance(0.05) ? Double.infinity : 12.5).bitPattern.littleEndian) { bytes += $0 }
                case "FP32": withUnsafeBytes(of: Float(3.25).bitPattern.littleEndian) { bytes += $0 }
                case "INT32": withUnsafeBytes(of: Int32(-5).littleEndian) { bytes += $0 }
                default: withUnsafeBytes(of: Int64(77).littleEndian) { bytes += $0 }
                }
            }
            if chance(0.05) { bytes += [1] }
            if chance(0.05), !bytes.isEmpty { bytes.removeLast() }
            return bytes
        }

        mutating func input(_ k: Int, count: Int, binary: inout [UInt8]) -> String {
            let datatype = chance(0.05) ? pick(["UINT8", "COMPLEX", "fp64"]) : pick(["BYTES", "FP64", "FP32", "INT64", "INT32", "BOOL"])
            var members: [String] = []
            if !chance(0.02) { members.append("\"name\":" + (chance(0.03) ? pick(["\"\"", "3", "null"]) : "\"f\(chance(0.05) ? 0 : k)\"")) }
            if !chance(0.02) { members.append("\"datatype\":" + (chance(0.02) ? "5" : "\"\(datatype)\"")) }
            if !chance(0.02) {
                let dims = chance(0.1) ? pick(["[-1]", "[1.5]", "[]", "[\(count),2]", "[\(count),1,1]", "\"x\"", "[100]", "[0]", "[1e300]", "[\(count),-2]", "[\"2\"]"])
                    : pick(["[\(count)]", "[\(count),1]"])
                members.append("\"shape\":" + dims)
            }
            var parameters: [String] = []
            if chance(0.1) { parameters.append("\"content_type\":" + pick(["\"str\"", "\"np\"", "\"base64\"", "7"])) }
            if chance(0.25) {
                let payload = self.binary(datatype, count: count)
                parameters.append("\"binary_data_size\":" + (chance(0.05) ? pick(["-1", "1.5", "\"8\"", "99999"]) : String(payload.count)))
                binary += payload
                if chance(0.05) { members.append("\"data\":" + data(datatype, count: count)) }
            } else if !chance(0.02) {
                members.append("\"data\":" + data(datatype, count: count))
            }
            if chance(0.05) { parameters.append("\"other\":[1,{\"a\":null}]") }
            if !parameters.isEmpty || chance(0.03) {
                members.append("\"parameters\":" + (chance(0.03) ? "[]" : "{" + parameters.shuffled(using: &random).joined(separator: ",") + "}"))
            }
            if chance(0.05) { members.append("\"extra\":{\"x\":[1,2]}") }
            if chance(0.01) { members.append(members.first ?? "\"name\":\"x\"") }  // a duplicate member
            if chance(0.02) { return pick(["7", "[]", "\"input\""]) }
            return "{" + members.shuffled(using: &random).joined(separator: ",") + "}"
        }

        /// A request: its JSON header and the binary data after it.
        mutating func request(maxBatchSize: Int) -> (json: String, binary: [UInt8]) {
            let count = int(1...maxBatchSize)
            var binary: [UInt8] = []
            var members: [String] = []
            if chance(0.3) { members.append("\"id\":" + (chance(0.05) ? "7" : "\"req-\(int(0...99))\"")) }
            if chance(0.2) {
                var parameters: [String] = []
                if chance(0.5) { parameters.append("\"content_type\":" + pick(["\"pd\"", "\"np\"", "1"])) }
                if chance(0.5) { parameters.append("\"binary_data_output\":" + pick(["true", "false", "\"yes\""])) }
                members.append("\"parameters\":" + (chance(0.05) ? "3" : "{" + parameters.joined(separator: ",") + "}"))
            }
            if !chance(0.02) {
                let inputs = (0..<(chance(0.02) ? 0 : int(1...5))).map { input($0, count: count, binary: &binary) }
                members.append("\"inputs\":" + (chance(0.02) ? "{}" : "[" + inputs.joined(separator: ",") + "]"))
            }
            if chance(0.3) {
                let outputs = (0..<int(0...3)).map { _ -> String in
                    let name = pick(["score", "label", "id", "predict_proba", "score"])
                    if chance(0.05) { return pick(["{}", "\"score\"", "{\"name\":3}"]) }
                    return chance(0.3) ? "{\"name\":\"\(name)\",\"parameters\":{\"binary_data\":\(pick(["true", "false", "1"]))}}" : "{\"name\":\"\(name)\"}"
                }
                members.append("\"outputs\":" + (chance(0.03) ? "{}" : "[" + outputs.joined(separator: ",") + "]"))
            }
            if chance(0.1) { members.append("\"model_name\":\"m\"") }
            return ("{" + members.shuffled(using: &random).joined(separator: ",") + "}", binary)
        }
    }

    @Test func generatedRequestsDecodeTheSameBothWays() {
        var generator = Generator(random: SeededGenerator(seed: 20_261_204))
        var differences = 0
        var decoded = 0
        for _ in 0..<3000 where differences < 5 {
            let maxBatchSize = generator.pick([1, 4, 8])
            let (json, binary) = generator.request(maxBatchSize: maxBatchSize)
            let header = Array(json.utf8)
            let headerLength: Int? = binary.isEmpty && generator.chance(0.7) ? nil : header.count
            if !Self.compare(header + binary, headerLength: headerLength, maxBatchSize: maxBatchSize) { differences += 1 }
            if (try? V2RequestDecoder.decode(header + binary, headerLength: headerLength, maxBatchSize: maxBatchSize)) != nil { decoded += 1 }
        }
        // Both outcomes are exercised: a generator that only wrote refusals would prove little.
        #expect(decoded > 300)
    }

    @Test func damagedBodiesAreRefusedTheSameBothWays() {
        var generator = Generator(random: SeededGenerator(seed: 7))
        var differences = 0
        for _ in 0..<1500 where differences < 5 {
            let (json, binary) = generator.request(maxBatchSize: 4)
            var body = Array(json.utf8) + binary
            var headerLength: Int? = binary.isEmpty ? nil : json.utf8.count
            switch generator.int(0...3) {
            case 0:  // truncated
                body = Array(body.prefix(generator.int(0...body.count)))
                if let length = headerLength, length > body.count { headerLength = generator.chance(0.5) ? nil : length }
            case 1:  // one byte changed
                body[generator.int(0...(body.count - 1))] = generator.pick(Array("{}[],:\"\\ 0-.eE1tfn".utf8) + [0x00, 0xC3, 0xFF])
            case 2:  // one byte removed
                body.remove(at: generator.int(0...(body.count - 1)))
            default:  // the header length off by a little
                headerLength = (headerLength ?? body.count) + generator.pick([-2, -1, 1, 3])
            }
            if !Self.compare(body, headerLength: headerLength, maxBatchSize: 4) { differences += 1 }
        }
    }

    /// Hand-picked corners of `data` and `shape` that the generator reaches only by luck.
    @Test func cornersOfDataAndShapeDecodeTheSameBothWays() {
        let bodies = [
            #"{"inputs":[{"data":["a","b"],"name":"t","shape":[2],"datatype":"BYTES"}]}"#,
            #"{"inputs":[{"data":[1,"x",2.5],"name":"t","shape":[3],"datatype":"INT32"}]}"#,
            #"{"inputs":[{"name":"t","datatype":"INT32","shape":[3],"data":[2.5,"x",1]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"INT64","shape":[2],"data":[[1],[2,3]]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"INT64","shape":[3],"data":[1,[2,3]]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"data":[[[[[[[[[[1]]]]]]]]]]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"data":[]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"FP64","shape":[2],"data":[[],1,[2]]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BOOL","shape":[2],"data":[{"a":[1]},true]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":"abc"}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1,1,1],"data":["a"]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1,"1"],"data":["a"]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[-1e30],"data":["a"]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":{"n":1},"data":["a"]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"],"data":["b"]}]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]}],"inputs":[]}"#,
            #"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]}]} x"#,
            #"{"outputs":[{"name":"score"}],"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]}],"id":"r"}"#,
            String(repeating: "[", count: 70) + String(repeating: "]", count: 70),
            #"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"data":["#
                + String(repeating: "[", count: 62) + "1" + String(repeating: "]", count: 62) + "]}]}",
            #"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"data":["#
                + String(repeating: "[", count: 59) + "1" + String(repeating: "]", count: 59) + "]}]}",
        ]
        for body in bodies {
            _ = Self.compare(Array(body.utf8), headerLength: nil, maxBatchSize: 4)
        }
    }
}
