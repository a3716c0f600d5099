import JSON
import Testing
@testable import Service
import JSON

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

    /// A string's length bounds count Unicode scalars, read from its UTF-8 (the one-pass
    /// decoder) as from the String (the general path).
    @Test func lengthBoundsCountScalarsFromTheBytesAsFromTheString() {
        let check = Schema.string(minLength: 2, maxLength: 4).scalarCheck
        for text in ["", "a", "ab", "é", "éé", "東京😀", "abcd", "abcde", "ção!", "ções!", "😀😀😀😀", "😀😀😀😀😀", "e\u{301}e\u{301}"] {
            let fromBytes = Array(text.utf8).withUnsafeBufferPointer { check.acceptsString(utf8: $0) }
            #expect(fromBytes == check.acceptsString(text), "\(text)")
            #expect(fromBytes == (2...4).contains(text.unicodeScalars.count), "\(text)")
        }
        #expect(!Array("1".utf8).withUnsafeBufferPointer { Schema.number().scalarCheck.acceptsString(utf8: $0) })
    }

    /// A string read as its UTF-8 conforms exactly when the same string as a `JSONValue` does:
    /// bounds and an enum's allowed values.
    @Test func stringsConformFromTheirBytesAsAsValues() {
        for schema in [Schema.string(minLength: 2, maxLength: 4), Schema.string(enumValues: ["gold", "ção", "e\u{301}"]), Schema.number()] {
            for text in ["", "a", "gold", "golds", "ção", "cão", "e\u{301}", "\u{e9}", "😀😀😀😀😀"] {
                let fromBytes = Array(text.utf8).withUnsafeBufferPointer { schema.conforms(stringUTF8: $0) }
                #expect(fromBytes == schema.conforms(.string(text)), "\(text)")
            }
        }
    }

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
