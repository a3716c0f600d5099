import Inference
import JSON
import Testing
import Training
@testable import Service

/// The signature-aware V2 decoder against the general path (`V2RequestDecoder`, then
/// `V2Signature.listings`): it may decline a body, but whatever it decodes must be exactly
/// what the general path gives — the same listings and the same request members — and it
/// must never accept a body the general path refuses.
@Suite(.timeLimit(.minutes(10))) struct V2ListingDecoderTests {
    static let maxBatchSize = 4
    let serving: ServingModel
    let decoder: V2ListingDecoder

    init() throws {
        serving = ServingModel(model: try defaultModel.get(), maxBatchSize: Self.maxBatchSize)
        decoder = try #require(serving.v2Decoder)
    }

    /// The general path's answer: the request and its listings, or the 400.
    func general(_ body: [UInt8], headerLength: Int?) -> Result<V2ListingDecoder.Decoded, V2RequestError> {
        do {
            var request = try V2RequestDecoder.decode(body, headerLength: headerLength, maxBatchSize: Self.maxBatchSize)
            let listings = try serving.v2Signature.listings(request)
            request.inputs = []
            return .success(V2ListingDecoder.Decoded(request: request, listings: listings))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes `body` both ways; records a disagreement. True when the decoder decoded it.
    @discardableResult
    func compare(_ body: [UInt8], headerLength: Int? = nil) -> Bool {
        guard let fast = decoder.decode(body, headerLength: headerLength) else { return false }
        switch general(body, headerLength: headerLength) {
        case .success(let expected):
            #expect(fast.listings == expected.listings, "\(String(decoding: body, as: UTF8.self))")
            #expect(fast.request == expected.request, "\(String(decoding: body, as: UTF8.self))")
        case .failure(let error):
            Issue.record("decoded a body the general path refuses (\(error.message)): \(String(decoding: body, as: UTF8.self))")
        }
        return true
    }

    /// The default model's fields, the datatype clients send for each, element values, and
    /// values that break the listing schema (a negative price, a fractional or out-of-range count).
    static let fields: [(name: String, datatype: String, values: [String], wrong: [String])] = [
        ("id", "BYTES", [#""L1""#, #""MLB-2""#, #""a\"b""#], ["null"]),
        ("site_id", "BYTES", [#""MLB""#, #""MLA""#], ["null"]),
        ("title", "BYTES", [#""Pistola 9mm glock""#, #""Boneca \u00e7 \ud83d\ude00""#, #""çà""#, #""""#], ["null"]),
        ("category_id", "BYTES", [#""MLB1234""#, #""C""#], ["null"]),
        ("price_usd", "FP64", ["850", "12.5", "0", "-0", "1e2"], ["-1", "null"]),
        ("seller_age_days", "INT64", ["3", "900", "0"], ["2.5", "-2"]),
        ("seller_sales", "INT32", ["0", "340", "7"], ["2147483648", "-1"]),
        ("seller_reputation", "BYTES", [#""gold""#, "null", #""platinum""#], ["7"]),
    ]

    /// Writes requests shaped as clients write them for this signature, each part sometimes wrong.
    struct Generator {
        var random: SeededGenerator

        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
        mutating func pick<T>(_ options: [T]) -> T { options.randomElement(using: &random)! }

        mutating func input(_ field: (name: String, datatype: String, values: [String], wrong: [String]), rows: Int) -> String {
            var datatype = field.datatype
            if chance(0.01) {
                datatype = datatype == "BYTES" ? pick(["BYTES", "FP64", "BOOL"]) : pick(["FP32", "FP64", "INT64", "INT32", "BOOL", "BYTES", "UINT8"])
            }
            let count = chance(0.01) ? rows + pick([-1, 1]) : rows
            var elements = (0..<max(count, 0)).map { _ in chance(0.005) ? pick(field.wrong) : pick(field.values) }
            if chance(0.01), !elements.isEmpty { elements[0] = pick(["null", "true", #""x""#, "{}", "[1]"]) }
            let data: String
            switch Int.random(in: 0..<60, using: &random) {
            case 0: data = "[" + elements.map { "[\($0)]" }.joined(separator: ",") + "]"
            case 1: data = "[[" + elements.joined(separator: ",") + "]]"
            default: data = "[" + elements.joined(separator: chance(0.2) ? " , " : ",") + "]"
            }
            let shape = chance(0.01) ? pick([
                "[\(rows + 1)]", "[\(rows),2]", "[0]", "[\(rows),1,1]", "[-1]", "[1.5]", #"["1"]"#, "[0\(rows)]", "[00]", "[10000]", "[1e0]",
            ]) : chance(0.02) ? pick(["[ \(rows)]", "[\(rows) ]", "[\(rows) , 1]"]) : pick(["[\(rows)]", "[\(rows),1]"])
            var members = [#""name":"\#(field.name)""#, #""datatype":"\#(datatype)""#, #""shape":\#(shape)"#, #""data":\#(data)"#]
            if chance(0.03) {
                members.append(#""parameters":"# + pick([#"{"content_type":"str"}"#, #"{"content_type":"np"}"#, #"{"content_type":"base64"}"#, "{}", "[]", #"{"other":[1]}"#]))
            }
            if chance(0.03) { members.append(#""extra":{"a":[1,null]}"#) }
            if chance(0.02) { members.shuffle(using: &random) }
            if chance(0.005) { members.append(members[0]) }
            return "{" + members.joined(separator: ",") + "}"
        }

        mutating func request(maxBatchSize: Int) -> String {
            let rows = chance(0.01) ? maxBatchSize + 1 : Int.random(in: 1...maxBatchSize, using: &random)
            var inputs = V2ListingDecoderTests.fields.filter { field in
                field.name == "seller_reputation" ? !chance(0.3) : !chance(0.02)
            }.map { input($0, rows: rows) }
            if chance(0.1) { inputs.shuffle(using: &random) }
            if chance(0.04) { inputs.append(#"{"name":"unknown","datatype":"FP64","shape":[\#(rows)],"data":[\#(Array(repeating: "1", count: rows).joined(separator: ","))]}"#) }
            if chance(0.02), let first = inputs.first { inputs.append(first) }
            var members = [#""inputs":[\#(inputs.joined(separator: ","))]"#]
            if chance(0.3) { members.append(#""id":"# + (chance(0.01) ? "7" : #""req-\#(Int.random(in: 0...99, using: &random))""#)) }
            if chance(0.15) {
                members.append(#""parameters":"# + (chance(0.9) ? pick([#"{"content_type":"pd"}"#, #"{"binary_data_output":true}"#]) : pick([
                    #"{"content_type":"pd"}"#, #"{"binary_data_output":true}"#, #"{"binary_data_output":false,"content_type":"pd"}"#,
                    #"{"content_type":"np"}"#, #"{"binary_data_output":"yes"}"#, "3", "{}",
                ])))
            }
            if chance(0.2) {
                let names = ["score", "label", "id", "predict_proba", "predict"].shuffled(using: &random)
                let outputs = names.prefix(Int.random(in: 0...3, using: &random)).map { known in
                    let name = chance(0.95) ? known : pick(["margin", "score"])
                    return chance(0.3) ? #"{"name":"\#(name)","parameters":{"binary_data":\#(pick(["true", "false", "1"]))}}"# : #"{"name":"\#(name)"}"#
                }
                members.append(#""outputs":[\#(outputs.joined(separator: ","))]"#)
            }
            if chance(0.05) { members.append(#""model_name":"m""#) }
            members.shuffle(using: &random)
            return (chance(0.1) ? " { " : "{") + members.joined(separator: ",") + (chance(0.1) ? " } " : "}")
        }
    }

    @Test func generatedRequestsDecodeAsTheGeneralPathDecodesThem() {
        var generator = Generator(random: SeededGenerator(seed: 20_261_205))
        var decoded = 0
        for _ in 0..<4000 {
            let body = Array(generator.request(maxBatchSize: Self.maxBatchSize).utf8)
            if compare(body) { decoded += 1 }
        }
        // Most bodies are ones clients send; a generator whose bodies were all declined would prove little.
        #expect(decoded > 1000, "\(decoded) of 4000 decoded")
    }

    @Test func damagedBodiesAreNeverDecodedDifferently() {
        var generator = Generator(random: SeededGenerator(seed: 11))
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \"\ntfnulrasxé"#.utf8) + [0x00, 0xC3, 0xFF]
        var decoded = 0
        for _ in 0..<4000 {
            var body = Array(generator.request(maxBatchSize: Self.maxBatchSize).utf8)
            for _ in 0...Int.random(in: 0...2, using: &generator.random) {
                let at = Int.random(in: 0..<body.count, using: &generator.random)
                switch Int.random(in: 0..<4, using: &generator.random) {
                case 0: body[at] = generator.pick(alphabet)
                case 1: body.insert(generator.pick(alphabet), at: at)
                case 2: body.remove(at: at)
                default: body = Array(body.prefix(at))
                }
                if body.isEmpty { body = [0x20] }
            }
            if compare(body) { decoded += 1 }
        }
        #expect(decoded > 20, "\(decoded) damaged bodies still decoded")
    }

    /// Bodies clients send, decoded here rather than declined, and what they decode to.
    @Test func decodesClientShapedBodies() throws {
        let body = #"{"id":"r1","parameters":{"content_type":"pd"},"inputs":[{"name":"id","datatype":"BYTES","shape":[2,1],"parameters":{"content_type":"str"},"data":["L1","L2"]},{"name":"site_id","datatype":"BYTES","shape":[2],"data":["MLB","MLA"]},{"name":"title","datatype":"BYTES","shape":[2],"data":["Pistola 9mm","Boneca"]},{"name":"category_id","datatype":"BYTES","shape":[2],"data":["C1","C2"]},{"name":"price_usd","datatype":"FP32","shape":[2],"data":[850,12.5]},{"name":"seller_age_days","datatype":"INT64","shape":[2],"data":[3,900]},{"name":"seller_sales","datatype":"FP64","shape":[2],"data":[0,340]},{"name":"seller_reputation","datatype":"BYTES","shape":[2],"data":[null,"gold"]}],"outputs":[{"name":"score","parameters":{"binary_data":true}}]}"#
        let fast = try #require(decoder.decode(Array(body.utf8), headerLength: nil))
        #expect(fast.request == V2InferRequest(id: "r1", inputs: [], outputs: [V2RequestedOutput(name: "score", binary: true)]))
        #expect(fast.listings == [
            [.string("L1"), .string("MLB"), .string("Pistola 9mm"), .string("C1"), .number(850), .number(3), .number(0), .missing],
            [.string("L2"), .string("MLA"), .string("Boneca"), .string("C2"), .number(12.5), .number(900), .number(340), .string("gold")],
        ])
        #expect(compare(Array(body.utf8)))
        // The whole body declared as the JSON header is still all JSON.
        #expect(compare(Array(body.utf8), headerLength: body.utf8.count))
    }

    /// Compact inputs with each field's own datatype take the one-comparison opening; around
    /// them, every way the compact form can stop being that (other members before or after
    /// `data`, spaces, another datatype, fields out of order, a field twice) decodes as the
    /// general path decodes it, or is declined.
    @Test func compactInputsDecodeAsTheMemberWalkDoes() throws {
        let values = ["\"L1\"", "\"MLB\"", "\"Pistola 9mm\"", "\"C1\"", "850", "3", "0", "\"gold\""]
        let fields = serving.v2Signature.fields
        func compact(_ f: Int, _ rows: Int = 1) -> String {
            let data = Array(repeating: values[f], count: rows).joined(separator: ",")
            return #"{"name":"\#(fields[f].name)","datatype":"\#(fields[f].datatype.rawValue)","shape":[\#(rows)],"data":[\#(data)]}"#
        }
        func body(_ inputs: [String]) -> [UInt8] { Array(#"{"inputs":[\#(inputs.joined(separator: ","))]}"#.utf8) }
        let all = fields.indices.map { compact($0) }
        #expect(compare(body(all)), "every input compact")
        #expect(compare(body(fields.indices.map { compact($0, 3) })), "three rows")
        #expect(compare(body(Array(all.reversed()))), "fields out of order")
        var variants: [String] = []
        let first = all[0]
        variants.append(first.replacingOccurrences(of: #","data""#, with: #","parameters":{"content_type":"str"},"data""#))
        variants.append(first.replacingOccurrences(of: "]}", with: #"],"parameters":{}}"#))
        variants.append(first.replacingOccurrences(of: #""shape":"#, with: #""shape": "#))
        variants.append(first.replacingOccurrences(of: #","data":"#, with: #", "data": "#))
        variants.append(first.replacingOccurrences(of: "]}", with: "] }"))
        variants.append(first.replacingOccurrences(of: "[1]", with: "[1,1]"))
        variants.append(first.replacingOccurrences(of: "[1]", with: "[2]"))
        variants.append(first.replacingOccurrences(of: #""data":["L1"]"#, with: #""data":[7]"#))
        variants.append(first.replacingOccurrences(of: "]}", with: #"],"data":["L2"]}"#))
        for variant in variants {
            compare(body([variant] + all.dropFirst()))
            compare(body(Array(all.dropLast()) + [variant.replacingOccurrences(of: #""id""#, with: #""seller_reputation""#)]))
        }
        #expect(compare(body([variants[0]] + all.dropFirst())), "parameters before data")
        #expect(compare(body([variants[1]] + all.dropFirst())), "parameters after data")
        #expect(decoder.decode(body(all + [all[2]]), headerLength: nil) == nil, "a field twice")
        let numbers = fields.indices.filter { fields[$0].datatype != .bytes }
        let other = all.enumerated().map { f, input in numbers.contains(f) ? input.replacingOccurrences(of: "FP64", with: "INT64") : input }
        #expect(compare(body(other)), "another accepted datatype")
        // A fraction or a value past 2^63 sent as INT64 is the general path's to refuse.
        let numberField = try #require(numbers.first)
        for bad in ["2.5", "1e19"] {
            var inputs = other
            inputs[numberField] = other[numberField].replacingOccurrences(of: #""data":[\#(values[numberField])]"#, with: #""data":[\#(bad)]"#)
            #expect(inputs[numberField] != other[numberField])
            #expect(decoder.decode(body(inputs), headerLength: nil) == nil, "\(bad) as INT64")
            #expect(throws: (any Error).self) { try general(body(inputs), headerLength: nil).get() }
        }
    }

    /// What the decoder leaves to the general path, even when the general path accepts it.
    @Test func declinesWhatItDoesNotHandle() throws {
        let inputs = Self.fields.map { #"{"name":"\#($0.name)","datatype":"\#($0.datatype)","shape":[1],"data":[\#($0.values[0])]}"# }
        func body(_ inputs: [String]) -> [UInt8] { Array(#"{"inputs":[\#(inputs.joined(separator: ","))]}"#.utf8) }
        let plain = body(inputs)
        #expect(compare(plain))
        var unknown = inputs
        unknown.append(#"{"name":"other","datatype":"FP64","shape":[1],"data":[1]}"#)
        var escaped = inputs
        escaped[2] = escaped[2].replacingOccurrences(of: #""title""#, with: #""ti\u0074le""#)
        var dataFirst = inputs
        dataFirst[2] = #"{"data":["Pistola"],"name":"title","datatype":"BYTES","shape":[1]}"#
        var nested = inputs
        nested[2] = #"{"name":"title","datatype":"BYTES","shape":[1,1],"data":[["Pistola"]]}"#
        for declined in [unknown, escaped, dataFirst, nested] {
            let bytes = body(declined)
            #expect(decoder.decode(bytes, headerLength: nil) == nil)
            #expect((try? general(bytes, headerLength: nil).get()) != nil, "the general path serves \(String(decoding: bytes, as: UTF8.self))")
        }
        // Binary tensor data after the JSON header that no input claims.
        let binary = plain + [1, 0, 0, 0]
        #expect(decoder.decode(binary, headerLength: plain.count) == nil)
        #expect((try? general(binary, headerLength: plain.count).get()) == nil)
    }

    /// Binary tensor data as tritonclient sends it by default (every input's elements after
    /// the JSON header): decoded as the general path decodes it, and a damaged binary section
    /// never decoded differently.
    @Test func binaryTensorDataDecodesAsTheGeneralPathDecodesIt() throws {
        func text(_ values: [String]) -> [UInt8] {
            values.flatMap { value in withUnsafeBytes(of: UInt32(value.utf8.count).littleEndian, Array.init) + Array(value.utf8) }
        }
        func little<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }
        let title = "Pistola 9mm réplica \"original\""
        let inputs: [(name: String, datatype: String, data: [UInt8])] = [
            ("id", "BYTES", text(["L1", "L2"])), ("site_id", "BYTES", text(["MLB", "MLA"])),
            ("title", "BYTES", text([title, "Boneca"])), ("category_id", "BYTES", text(["MLB1234", "C2"])),
            ("price_usd", "FP32", little([Float(850).bitPattern, Float(12.5).bitPattern])),
            ("seller_age_days", "INT64", little([Int64(3), 900])), ("seller_sales", "INT32", little([Int32(0), 340])),
            ("seller_reputation", "BYTES", text(["gold", "silver"])),
        ]
        func body(_ inputs: [(name: String, datatype: String, data: [UInt8])], sizeDelta: Int = 0) -> (body: [UInt8], headerLength: Int) {
            let described = inputs.enumerated().map { k, input in
                #"{"name":"\#(input.name)","shape":[2],"datatype":"\#(input.datatype)","parameters":{"binary_data_size":\#(input.data.count + (k == 2 ? sizeDelta : 0))}}"#
            }
            let header = Array((#"{"inputs":["# + described.joined(separator: ",") + #"],"outputs":[{"name":"score","parameters":{"binary_data":true}}]}"#).utf8)
            return (header + inputs.flatMap(\.data), header.count)
        }
        let whole = body(inputs)
        #expect(compare(whole.body, headerLength: whole.headerLength))
        let fast = try #require(decoder.decode(whole.body, headerLength: whole.headerLength))
        #expect(fast.listings[0][2] == .string(title))
        #expect(fast.listings[1][4] == .number(12.5))
        #expect(fast.listings[1][5] == .number(900))
        #expect(fast.request.outputs == [V2RequestedOutput(name: "score", binary: true)])

        // Each byte of the binary data changed in turn, bytes missing or left over, a size one
        // off: whatever the decoder takes, the general path takes the same.
        var decoded = 0
        for at in whole.headerLength..<whole.body.count {
            for byte: UInt8 in [0x00, 0x02, 0x80, 0xFF] where whole.body[at] != byte {
                var damaged = whole.body
                damaged[at] = byte
                if compare(damaged, headerLength: whole.headerLength) { decoded += 1 }
            }
        }
        #expect(decoded > 0, "some changed bytes still make a listing (another character, another number)")
        for (damaged, headerLength) in [(Array(whole.body.dropLast()), whole.headerLength), (whole.body + [0], whole.headerLength),
                                        body(inputs, sizeDelta: 1), body(inputs, sizeDelta: -1), (whole.body, whole.headerLength + 1)] {
            #expect(decoder.decode(damaged, headerLength: headerLength) == nil)
            #expect((try? general(damaged, headerLength: headerLength).get()) == nil)
        }
    }

    /// Signatures whose names the byte matcher cannot hold have no signature-aware decoder.
    @Test func signaturesOutsideItsLimitsHaveNone() {
        func signature(_ names: [String]) -> V2Signature {
            V2Signature(
                fields: names.map {
                    V2Signature.Field(name: $0, required: true, typeName: "number", datatype: .fp64, accepted: [.fp64],
                                      conforms: { _ in true }, problem: { _ in "" })
                }, outputNames: ["score"])
        }
        #expect(V2ListingDecoder(signature: signature((0..<64).map { "x\($0)" }), maxBatchSize: 4) != nil)
        #expect(V2ListingDecoder(signature: signature((0..<65).map { "x\($0)" }), maxBatchSize: 4) == nil)
        #expect(V2ListingDecoder(signature: signature(["preço"]), maxBatchSize: 4) == nil)
        #expect(V2ListingDecoder(signature: signature([""]), maxBatchSize: 4) == nil)
    }
}

extension V2ListingDecoderTests {
    /// Fields past the 32nd are told apart, counted as fed and required like the first ones.
    @Test func signaturesOfMoreThan32FieldsDecodeEveryField() throws {
        let names = (0..<40).map { "x\($0)" }
        let signature = V2Signature(
            fields: names.map {
                V2Signature.Field(name: $0, required: true, typeName: "number", datatype: .fp64, accepted: [.fp64],
                                  conforms: { _ in true }, problem: { _ in "" })
            }, outputNames: ["score"])
        let decoder = try #require(V2ListingDecoder(signature: signature, maxBatchSize: 4))
        func body(_ inputs: [Int]) -> [UInt8] {
            let parts = inputs.map { #"{"name":"x\#($0)","datatype":"FP64","shape":[1],"data":[\#($0)]}"# }
            return Array((#"{"inputs":["# + parts.joined(separator: ",") + "]}").utf8)
        }
        let all = try #require(decoder.decode(body(Array(0..<40)), headerLength: nil))
        #expect(all.listings == [(0..<40).map { FeatureValue.number(Double($0)) }])
        #expect(decoder.decode(body((0..<40).filter { $0 != 35 }), headerLength: nil) == nil)
        #expect(decoder.decode(body(Array(0..<40) + [35]), headerLength: nil) == nil)
    }
}

extension V2ListingDecoderTests {
    /// String elements are checked where the body holds them, on their UTF-8, as the general
    /// path checks each as a `String`: lengths in scalars, an enum's allowed values, escapes;
    /// every one is made by the decoder's `textValue` (the service's keeps long ones in buffers
    /// its thread reuses).
    @Test func stringElementsAreCheckedOnTheirBytesAndMadeByTheTextValue() throws {
        let signature = Signature(fields: [
            FieldSpec(name: "title", type: .string, required: true, constraints: FieldConstraints(minLength: 3, maxLength: 40)),
            FieldSpec(name: "grade", type: .string, constraints: FieldConstraints(allowed: ["gold", "silver"])),
        ])
        let v2 = V2Codec.signature(signature, listing: ListingSchema.from(signature), tensors: SignatureTensors(signature))
        let mark: @Sendable (UnsafeBufferPointer<UInt8>) -> FeatureValue = { .string("<" + String(decoding: $0, as: UTF8.self) + ">") }
        let reused: @Sendable (UnsafeBufferPointer<UInt8>) -> FeatureValue = { ReusedStorage.textValue($0) }
        let marked = try #require(V2ListingDecoder(signature: v2, maxBatchSize: 4, textValue: mark))
        let plain = try #require(V2ListingDecoder(signature: v2, maxBatchSize: 4, textValue: reused))
        func body(_ title: String, _ grade: String = #""gold""#) -> [UInt8] {
            Array((#"{"inputs":[{"name":"title","datatype":"BYTES","shape":[1],"data":["# + title
                + #"]},{"name":"grade","datatype":"BYTES","shape":[1],"data":["# + grade + "]}]}").utf8)
        }
        func general(_ body: [UInt8]) -> [[FeatureValue]]? {
            guard let request = try? V2RequestDecoder.decode(body, headerLength: nil, maxBatchSize: 4) else { return nil }
            return try? v2.listings(request)
        }
        let forty = String(repeating: "ç", count: 40)  // 40 scalars, 80 bytes: within the bound
        let accepted: [(json: String, text: String)] = [
            (#""Réplica \"glock\" 9mm""#, #"Réplica "glock" 9mm"#), ("\"\(forty)\"", forty), (#""abc""#, "abc"),
        ]
        for (json, text) in accepted {
            let listings = try #require(marked.decode(body(json), headerLength: nil)?.listings, "\(json)")
            #expect(listings == [[.string("<" + text + ">"), .string("<gold>")]])
            #expect(plain.decode(body(json), headerLength: nil)?.listings == general(body(json)))
            #expect(general(body(json)) == [[.string(text), .string("gold")]])
        }
        // 41 scalars, 2 scalars, a grade outside the enum: the decoder leaves each to the
        // general path, which refuses it.
        for refused in [body("\"\(forty)ç\""), body(#""ab""#), body(#""abc""#, #""bronze""#)] {
            #expect(marked.decode(refused, headerLength: nil) == nil)
            #expect(general(refused) == nil)
        }
    }
}

extension V2ListingDecoder.Decoded: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.request == b.request && a.listings == b.listings }
}
