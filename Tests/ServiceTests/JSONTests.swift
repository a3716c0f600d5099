import Testing
@testable import Service

@Suite(.timeLimit(.minutes(10))) struct JSONParserTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    private func rejects(_ text: String, _ reason: String) {
        #expect(throws: JSONParseError.self, "\(text) should be rejected: \(reason)") { try parse(text) }
    }

    @Test func parsesAListingWithUnicodeAndEscapes() throws {
        let value = try parse(#"{"id":"a1","title":"Pistola de cola quente \u00e7 \"x\" 🔫","price_usd":12.5,"n":-3,"ok":true,"z":null,"l":[1,2e3]}"#)
        #expect(value["id"] == "a1")
        #expect(value["title"] == .string("Pistola de cola quente ç \"x\" 🔫"))
        #expect(value["price_usd"] == 12.5)
        #expect(value["n"] == -3)
        #expect(value["ok"] == true)
        #expect(value["z"] == .null)
        #expect(value["l"] == [1, 2000])
    }

    @Test func keepsMemberOrder() throws {
        let value = try parse(#"{"b":1,"a":2,"c":3}"#)
        #expect(value.objectValue?.keys == ["b", "a", "c"])
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try parse(#""\ud83d\udd2b""#) == "🔫")
    }

    @Test func rejectsNaNAndInfinity() {
        rejects("NaN", "not JSON")
        rejects("[Infinity]", "not JSON")
        rejects("[-Infinity]", "not JSON")
    }

    @Test func rejectsTrailingGarbageAndCommas() {
        rejects("{} x", "trailing data")
        rejects("[1,]", "trailing comma")
        rejects(#"{"a":1,}"#, "trailing comma")
        rejects("", "empty body")
        rejects("[1 2]", "missing comma")
    }

    @Test func rejectsBadNumbers() {
        rejects("01", "leading zero")
        rejects("1.", "no fraction digits")
        rejects("-", "sign alone")
        rejects("1e", "no exponent digits")
        rejects("1e999", "out of range")
        rejects("+1", "plus sign")
    }

    @Test func rejectsBadStrings() {
        rejects("\"a\u{01}b\"", "raw control character")
        rejects(#""\x""#, "unknown escape")
        rejects(#""\ud83d""#, "lone high surrogate")
        rejects(#""\udd2b""#, "lone low surrogate")
        rejects("\"abc", "unterminated")
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test func rejectsDuplicateMemberNames() {
        rejects(#"{"a":1,"a":2}"#, "duplicate key")
    }

    @Test func findsDuplicatesInLargeObjects() throws {
        let members = (0..<5000).map { "\"k\($0)\":\($0)" }
        let unique = "{" + members.joined(separator: ",") + "}"
        #expect(try parse(unique).objectValue?.count == 5000)
        rejects("{" + members.joined(separator: ",") + ",\"k42\":1}", "duplicate key in a large object")
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(Array(ok.utf8))
    }

    @Test func reportsTheOffsetOfTheProblem() {
        do {
            _ = try parse(#"{"a": tru}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 6)
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct JSONWriterTests {
    @Test func escapesStringsAndWritesNumbersCompactly() {
        let value: JSONValue = ["s": "a\"b\\c\n\u{01}ç", "i": 3, "d": 0.25, "neg": -2.5, "b": false, "n": nil, "a": [1, "x"]]
        let text = String(decoding: JSONWriter.encode(value), as: UTF8.self)
        #expect(text == #"{"s":"a\"b\\c\n\u0001ç","i":3,"d":0.25,"neg":-2.5,"b":false,"n":null,"a":[1,"x"]}"#)
    }

    @Test func roundTripsThroughTheParser() throws {
        let value: JSONValue = ["title": "Réplica \"AAA\" \t 🔫", "score": 0.9991639809606191, "list": [true, nil, -0.001]]
        #expect(try JSONParser.parse(JSONWriter.encode(value)) == value)
    }

    /// Durations in the access log are written by integer arithmetic; the text must be
    /// exactly what `number` writes for the value rounded to thousandths.
    @Test func thousandthsAreWhatNumberWritesForTheRoundedValue() {
        var state: UInt64 = 0x7A11_2026
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        var values: [Double] = [0, -0.0, 0.0004, 0.0005, 0.001, 0.05, 0.1, 1.5, 2.9995, 999.9999, 1e9 + 0.123, -3.25, 8.9e12, 1e13, .infinity, .nan]
        for _ in 0..<20_000 {
            let magnitude = [1.0, 10, 1000, 1e6, 1e9][Int(next() % 5)]
            values.append(Double(next()) / Double(1 << 53) * magnitude * (next() % 4 == 0 ? -1 : 1))
        }
        for value in values {
            var fast = JSONWriter(), reference = JSONWriter()
            fast.thousandths(value)
            reference.number((value * 1000).rounded() / 1000)
            #expect(fast.bytes == reference.bytes, "\(value): \(String(decoding: fast.bytes, as: UTF8.self))")
        }
    }

    @Test func writesNonFiniteAsNull() {
        var writer = JSONWriter()
        writer.number(Double.nan)
        #expect(writer.bytes == Array("null".utf8))
    }
}

@Suite(.timeLimit(.minutes(10))) struct SchemaTests {
    let listing = Schema.object(
        properties: [
            ("id", .string(minLength: 1, maxLength: 64)),
            ("title", .string(minLength: 1, maxLength: 500)),
            ("site_id", .string(enumValues: ["MLB", "MLA"])),
            ("price_usd", .number(minimum: 0)),
            ("seller_age_days", .integer(minimum: 0, nullable: true)),
        ],
        required: ["id", "title"])

    @Test func acceptsAValidListing() {
        let value: JSONValue = ["id": "1", "title": "celular", "site_id": "MLB", "price_usd": 10, "seller_age_days": nil]
        #expect(listing.validate(value).isEmpty)
    }

    @Test func listsEveryProblemWithItsPointer() {
        let request = Schema.object(properties: [("instances", .array(listing, minItems: 1, maxItems: 2))], required: ["instances"])
        let value: JSONValue = [
            "instances": [
                ["id": "1", "title": "ok"],
                ["title": "", "site_id": "XXX", "price_usd": -1, "seller_age_days": 1.5, "extra": 1],
            ]
        ]
        let problems = request.validate(value)
        #expect(problems.map(\.pointer) == [
            "/instances/1/id", "/instances/1/title", "/instances/1/site_id", "/instances/1/price_usd",
            "/instances/1/seller_age_days", "/instances/1/extra",
        ])
        #expect(!request.conforms(value))
        #expect(request.conforms(["instances": [["id": "1", "title": "ok", "price_usd": 0]]]))
        #expect(problems[0].problem == "is required")
        #expect(problems[3].problem == "must be ≥ 0")
        #expect(problems[4].problem == "expected integer or null, got number")
    }

    @Test func statesTheBatchLimit() {
        let request = Schema.array(listing, maxItems: 2)
        let problems = request.validate([["id": "1", "title": "a"], ["id": "2", "title": "b"], ["id": "3", "title": "c"]])
        #expect(problems == [FieldProblem(pointer: "", problem: "must have at most 2 items (limit), got 3")])
    }

    @Test func escapesPointerTokens() {
        let problems = Schema.object(properties: []).validate(["a/b~c": 1])
        #expect(problems.first?.pointer == "/a~1b~0c")
    }

    @Test func writesJSONSchemaWithTheSameConstraints() {
        let schema = listing.jsonSchema()
        #expect(schema["required"] == ["id", "title"])
        #expect(schema["additionalProperties"] == false)
        #expect(schema["properties"]?["seller_age_days"]?["type"] == ["integer", "null"])
        #expect(schema["properties"]?["price_usd"]?["minimum"] == 0)
    }

    @Test func writesNullableComponentsAsAReferenceOrNull() {
        let skew = Schema(
            types: [.object, .null], properties: [("version", .integer(minimum: 1))], required: ["version"],
            additionalProperties: false, componentName: "Skew")
        let holder = Schema.object(properties: [("skew", skew)])
        #expect(holder.jsonSchema()["properties"]?["skew"] == ["anyOf": [["$ref": "#/components/schemas/Skew"], ["type": "null"]]])
        let definition = skew.jsonSchema(isDefinition: true)
        #expect(definition["type"] == "object")
        #expect(definition["required"] == ["version"])
        // Inlined (no components to refer to), the schema keeps its own null.
        #expect(holder.jsonSchema(useReferences: false)["properties"]?["skew"]?["type"] == ["object", "null"])
        // What the validator accepts is unchanged: null or the object.
        #expect(holder.conforms(["skew": nil]))
        #expect(holder.conforms(["skew": ["version": 2]]))
        #expect(!holder.conforms(["skew": ["version": 0]]))
    }

    @Test func writesNullableEnumsAndUnconstrainedItemsAsTheValidatorChecksThem() {
        let source = Schema.string(enumValues: ["file", "admin"], nullable: true)
        #expect(source.jsonSchema()["enum"] == ["file", "admin", nil])
        #expect(source.jsonSchema()["type"] == nil)
        #expect(source.conforms(nil) && source.conforms("file") && !source.conforms("other"))
        #expect(Schema.string(enumValues: ["a"]).jsonSchema()["enum"] == ["a"])
        let data = Schema.array(Schema(types: [.string, .number, .array]))
        #expect(data.jsonSchema()["items"]?["items"] == .object(JSONObject()))
        #expect(data.conforms(["a", 1, [2, [3]]]))
    }
}
