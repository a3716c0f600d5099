import Testing
@testable import Service

/// The Open Inference Protocol decoder as a pure function: JSON and binary tensor data in,
/// a request or a 400 that names the input out.
@Suite(.timeLimit(.minutes(10))) struct V2DecoderTests {
    /// Every datatype by its exact name, from a string and from bytes; nothing else.
    @Test func datatypesAreKnownByTheirExactNames() {
        func named(_ text: String) -> V2Datatype? {
            Array(text.utf8).withUnsafeBufferPointer { V2Datatype.named($0) }
        }
        for datatype in V2Datatype.allCases {
            #expect(V2Datatype.named(datatype.rawValue) == datatype)
            #expect(named(datatype.rawValue) == datatype)
            #expect(named(datatype.rawValue.lowercased()) == nil)
            #expect(named(datatype.rawValue + " ") == nil)
            #expect(named(String(datatype.rawValue.dropLast())) == nil)
            #expect(V2Datatype.named(datatype.rawValue + "\u{0}") == nil)
        }
        for text in ["", "FP", "FP6", "FP128", "STRING", "BYTESX", "INT128", "UINT256"] {
            #expect(V2Datatype.named(text) == nil, "\(text)")
            #expect(named(text) == nil, "\(text)")
        }
    }

    /// `predict` answers INT64 for classes written as integers (scikit-learn trained on 0/1),
    /// BYTES otherwise.
    @Test func scikitLearnPredictOutputIsIntegerOnlyWhenEveryLabelIs() {
        #expect(V2Codec.integerLabels(["0", "1"]) == [0, 1])
        #expect(V2Codec.integerLabels(["-1", "1"]) == [-1, 1])
        #expect(V2Codec.integerLabels(["allowed", "prohibited"]) == nil)
        #expect(V2Codec.integerLabels(["0", "prohibited"]) == nil)
        #expect(V2Codec.integerLabels(["1.0", "0"]) == nil)
    }

    func decode(_ json: String, binary: [UInt8] = [], headerLength: Bool = false) throws(V2RequestError) -> V2InferRequest {
        let header = Array(json.utf8)
        return try V2RequestDecoder.decode(header + binary, headerLength: headerLength ? header.count : nil, maxBatchSize: 64)
    }

    /// The message of the 400 a request gets, or nil when it decodes.
    func refusal(_ json: String, binary: [UInt8] = [], headerLength: Bool = false) -> String? {
        do { _ = try decode(json, binary: binary, headerLength: headerLength); return nil } catch { return error.message }
    }

    static func lengthPrefixed(_ texts: [String]) -> [UInt8] {
        texts.flatMap { text -> [UInt8] in
            let n = UInt32(text.utf8.count)
            return [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + Array(text.utf8)
        }
    }

    @Test func decodesJSONInputsFlatOrNestedWithParametersAndOutputs() throws {
        let request = try decode(#"""
            {"id":"r1","parameters":{"content_type":"pd","binary_data_output":true},
             "inputs":[{"name":"title","datatype":"BYTES","shape":[2,1],"parameters":{"content_type":"str"},"data":[["a"],["b"]]},
                       {"name":"price_usd","datatype":"FP32","shape":[2],"data":[1.5,null]},
                       {"name":"seller_sales","datatype":"INT64","shape":[2],"data":[3,4]},
                       {"name":"flag","datatype":"BOOL","shape":[2],"data":[true,false]}],
             "outputs":[{"name":"score"},{"name":"label","parameters":{"binary_data":false}}]}
            """#)
        #expect(request.id == "r1")
        #expect(request.binaryDataOutput)
        #expect(request.inputs.map(\.name) == ["title", "price_usd", "seller_sales", "flag"])
        #expect(request.inputs[0].values == .text(["a", "b"]))
        #expect(request.inputs[1].values == .numbers([1.5, nil]))
        #expect(request.inputs[2].values == .numbers([3, 4]))
        #expect(request.inputs[3].values == .bools([true, false]))
        #expect(request.outputs == [V2RequestedOutput(name: "score"), V2RequestedOutput(name: "label", binary: false)])
    }

    @Test func decodesBinaryTensorDataAfterTheHeader() throws {
        let texts = Self.lengthPrefixed(["Pistola", "çà"])
        var doubles: [UInt8] = []
        for value in [12.5, 900.0] { withUnsafeBytes(of: value.bitPattern.littleEndian) { doubles += $0 } }
        let int32: [UInt8] = [7, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        let json = #"{"inputs":[{"name":"title","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":\#(texts.count)}},"#
            + #"{"name":"price_usd","datatype":"FP64","shape":[2,1],"parameters":{"binary_data_size":16}},"#
            + #"{"name":"n","datatype":"INT32","shape":[2],"parameters":{"binary_data_size":8}},"#
            + #"{"name":"b","datatype":"BOOL","shape":[2],"parameters":{"binary_data_size":2}}]}"#
        let request = try decode(json, binary: texts + doubles + int32 + [1, 0], headerLength: true)
        #expect(request.inputs[0].values == .text(["Pistola", "çà"]))
        #expect(request.inputs[1].values == .numbers([12.5, 900]))
        #expect(request.inputs[2].values == .numbers([7, -1]))
        #expect(request.inputs[3].values == .bools([true, false]))
    }

    /// Each malformed case is a 400 whose message names the input.
    @Test func refusesMalformedInputsNamingThem() {
        let cases: [(json: String, binary: [UInt8], mentions: String)] = [
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[-1],"data":["a"]}]}"#, [], "'t' has the negative"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1e300],"data":["a"]}]}"#, [], "'t' has shape dimension"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[3],"data":["a","b"]}]}"#, [], "'t' has 2 elements"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a","b"]}]}"#, [], "'t' has 2 elements"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":[["a"],["b"]]}]}"#, [], "'t' has more elements"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[2,2],"data":["a","b","c","d"]}]}"#, [], "'t' has shape [2, 2]"),
            (#"{"inputs":[{"name":"t","datatype":"COMPLEX","shape":[1],"data":["a"]}]}"#, [], "'t' has the unknown datatype"),
            (#"{"inputs":[{"name":"t","datatype":"UINT8","shape":[1],"data":[1]}]}"#, [], "'t' has datatype UINT8"),
            (#"{"inputs":[{"name":"t","datatype":"INT32","shape":[1],"data":[1.5]}]}"#, [], "'t' element 0 is not an integer"),
            (#"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"data":["x"]}]}"#, [], "'t' element 0 is string"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]},{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]}]}"#, [], "'t' appears twice"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"parameters":{"content_type":"base64"},"data":["a"]}]}"#, [], "'t' has content_type 'base64'"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":99}}]}"#, [1, 0, 0, 0, 65], "'t' has binary_data_size 99"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":5}}]}"#, [9, 0, 0, 0, 65], "'t' element 0 is 9 bytes long"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":5}}]}"#, [1, 0, 0, 0, 0xFF], "'t' element 0 is not UTF-8"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":5}}]}"#, [1, 0, 0, 0, 65], "'t' has binary data for 1 BYTES"),
            (#"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"parameters":{"binary_data_size":4}}]}"#, [0, 0, 0, 0], "'t' has binary_data_size 4"),
            (#"{"inputs":[{"name":"t","datatype":"FP64","shape":[1],"parameters":{"binary_data_size":8}}]}"#, [0, 0, 0, 0, 0, 0, 0xF8, 0x7F], "'t' element 0 is not a finite"),
            (#"{"inputs":[{"name":"t","datatype":"BOOL","shape":[1],"parameters":{"binary_data_size":1}}]}"#, [2], "'t' element 0 is the byte 2"),
            (#"{"inputs":[{"name":"t","datatype":"BYTES","shape":[1],"data":["a"]}]}"#, [1, 2, 3], "3 bytes of binary data"),
        ]
        for (json, binary, mentions) in cases {
            let message = refusal(json, binary: binary, headerLength: true)
            #expect(message?.contains(mentions) == true, "\(json) → \(message ?? "accepted")")
        }
    }

    @Test func refusesMalformedRequestsAsAWhole() {
        let many = (0...V2RequestDecoder.maxInputs).map { #"{"name":"f\#($0)","datatype":"BYTES","shape":[1],"data":["a"]}"# }
        let outputs = (0...V2RequestDecoder.maxOutputs).map { #"{"name":"o\#($0)"}"# }
        let cases: [(String, String)] = [
            ("[]", "must be a JSON object"),
            (#"{"inputs":"#, "not valid JSON"),
            (#"{"inputs":[]}"#, "0 inputs"),
            (#"{"inputs":[\#(many.joined(separator: ","))]}"#, "\(many.count) inputs"),
            (#"{"inputs":[{"name":"a","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[\#(outputs.joined(separator: ","))]}"#, "at most"),
            (#"{"inputs":[{"name":"a","datatype":"BYTES","shape":[1],"data":["a"]}],"outputs":[{"name":"score"},{"name":"score"}]}"#, "'score' is asked for twice"),
            (#"{"id":7,"inputs":[{"name":"a","datatype":"BYTES","shape":[1],"data":["a"]}]}"#, "id must be a string"),
            (#"{"parameters":{"content_type":"np"},"inputs":[{"name":"a","datatype":"BYTES","shape":[1],"data":["a"]}]}"#, "content_type 'np'"),
        ]
        for (json, mentions) in cases {
            let message = refusal(json)
            #expect(message?.contains(mentions) == true, "\(json.prefix(120)) → \(message ?? "accepted")")
        }
        #expect(refusal(#"{"inputs":[]}"#, headerLength: false) != nil)
        do {
            _ = try V2RequestDecoder.decode(Array("{}".utf8), headerLength: 3, maxBatchSize: 4)
            Issue.record("a header length past the body was accepted")
        } catch {
            #expect(error.message.contains("Inference-Header-Content-Length"))
        }
    }
}
