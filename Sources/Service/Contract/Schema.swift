import HTTPServer
import JSON

/// A JSON type name as JSON Schema spells it.
public enum JSONType: String, Sendable {
    case object, array, string, number, integer, boolean, null
}

/// One violation of a schema: where (a JSON Pointer, RFC 6901) and what was expected.
/// The same type the problem+json body lists, so validation results go out unchanged.
public typealias FieldProblem = ProblemDetails.FieldProblem

/// A schema's type and bounds for a value, held without references: a request path checks a
/// field with it without touching the schema object, which every thread shares (each retain of
/// it moved its reference count from core to core). `Schema.conforms` uses it too, so there is
/// one definition of what a value must be.
public struct ScalarCheck: Sendable {
    /// One bit per accepted `JSONType` (`bit(_:)`).
    let accepted: UInt8
    let minLength: Int?
    let maxLength: Int?
    let minimum: Double?
    let maximum: Double?
    /// The schema lists allowed strings: a string also needs `Schema.enumValues` checked.
    public let hasEnum: Bool

    init(types: [JSONType], minLength: Int?, maxLength: Int?, minimum: Double?, maximum: Double?, hasEnum: Bool) {
        accepted = types.reduce(0) { $0 | Self.bit($1) }
        self.minLength = minLength
        self.maxLength = maxLength
        self.minimum = minimum
        self.maximum = maximum
        self.hasEnum = hasEnum
    }

    @inline(__always)
    static func bit(_ type: JSONType) -> UInt8 {
        switch type {
        case .object: 1
        case .array: 2
        case .string: 4
        case .number: 8
        case .integer: 16
        case .boolean: 32
        case .null: 64
        }
    }

    /// Whether `value` has an accepted type (an integral number counts as `integer`).
    @inline(__always)
    public func matchesType(_ value: JSONValue) -> Bool {
        switch value {
        case .null: accepted & Self.bit(.null) != 0
        case .bool: accepted & Self.bit(.boolean) != 0
        case .string: accepted & Self.bit(.string) != 0
        case .array: accepted & Self.bit(.array) != 0
        case .object: accepted & Self.bit(.object) != 0
        case .number(let n): accepted & Self.bit(.number) != 0 || (accepted & Self.bit(.integer) != 0 && n.rounded() == n)
        }
    }

    /// Whether a string, number, boolean or null `value` has an accepted type and is within the
    /// bounds (the allowed strings of `hasEnum` aside). Allocates nothing.
    @inline(__always)
    public func accepts(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): acceptsString(s)
        case .number(let n): acceptsNumber(n)
        case .bool, .null, .array, .object: matchesType(value)
        }
    }

    /// `accepts(.string(s))`, for a decoder that read a string without making a `JSONValue`.
    @inline(__always)
    public func acceptsString(_ s: String) -> Bool { acceptsString(length: { Schema.length(of: s) }) }

    /// `acceptsString` of a string given as its (valid) UTF-8.
    @inline(__always)
    public func acceptsString(utf8: UnsafeBufferPointer<UInt8>) -> Bool { acceptsString(length: { Schema.length(utf8: utf8) }) }

    /// A string's type and length bounds; `length` (in scalars) is counted only when bounded.
    @inline(__always)
    private func acceptsString(length: () -> Int) -> Bool {
        guard accepted & Self.bit(.string) != 0 else { return false }
        if minLength != nil || maxLength != nil {
            let length = length()
            if let minLength, length < minLength { return false }
            if let maxLength, length > maxLength { return false }
        }
        return true
    }

    /// `accepts(.number(n))`, likewise.
    @inline(__always)
    public func acceptsNumber(_ n: Double) -> Bool {
        guard accepted & Self.bit(.number) != 0 || (accepted & Self.bit(.integer) != 0 && n.rounded() == n) else { return false }
        if let minimum, n < minimum { return false }
        if let maximum, n > maximum { return false }
        return true
    }
}

/// One definition of a JSON shape, used both to validate request bodies and to write the
/// OpenAPI document, so the two can never disagree. A subset of JSON Schema 2020-12 that
/// covers what the contract needs; immutable once built.
public final class Schema: Sendable {
    public let types: [JSONType]
    public let description: String?
    /// Object members in declaration order.
    public let properties: [(name: String, schema: Schema)]
    public let required: [String]
    /// Whether members not in `properties` are accepted (reported as problems when not).
    public let additionalProperties: Bool
    /// Schema of the values of an open-ended object (a map); nil means any.
    public let additionalPropertiesSchema: Schema?
    public let items: Schema?
    public let minItems: Int?
    public let maxItems: Int?
    public let minimum: Double?
    public let maximum: Double?
    public let minLength: Int?
    public let maxLength: Int?
    public let enumValues: [String]?
    /// A name under `components/schemas` in the OpenAPI document, when this schema is shared.
    public let componentName: String?
    public let example: JSONValue?
    /// Member names of which an object must carry exactly one (JSON Schema's `oneOf` of
    /// `required`); empty: no such rule. Default empty.
    public let exactlyOneOf: [String]
    /// The type and bounds, as a value without references (see `ScalarCheck`).
    public let scalarCheck: ScalarCheck

    public init(
        types: [JSONType], description: String? = nil, properties: [(name: String, schema: Schema)] = [],
        required: [String] = [], additionalProperties: Bool = true, additionalPropertiesSchema: Schema? = nil,
        items: Schema? = nil, minItems: Int? = nil, maxItems: Int? = nil, minimum: Double? = nil,
        maximum: Double? = nil, minLength: Int? = nil, maxLength: Int? = nil, enumValues: [String]? = nil,
        componentName: String? = nil, example: JSONValue? = nil, exactlyOneOf: [String] = []
    ) {
        self.exactlyOneOf = exactlyOneOf
        self.types = types
        self.description = description
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.additionalPropertiesSchema = additionalPropertiesSchema
        self.items = items
        self.minItems = minItems
        self.maxItems = maxItems
        self.minimum = minimum
        self.maximum = maximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.enumValues = enumValues
        self.componentName = componentName
        self.example = example
        self.scalarCheck = ScalarCheck(types: types, minLength: minLength, maxLength: maxLength, minimum: minimum,
                                       maximum: maximum, hasEnum: enumValues != nil)
    }

    // MARK: Builders

    public static func string(
        _ description: String? = nil, minLength: Int? = nil, maxLength: Int? = nil, enumValues: [String]? = nil,
        nullable: Bool = false
    ) -> Schema {
        Schema(
            types: nullable ? [.string, .null] : [.string], description: description, minLength: minLength,
            maxLength: maxLength, enumValues: enumValues)
    }

    public static func number(
        _ description: String? = nil, minimum: Double? = nil, maximum: Double? = nil, nullable: Bool = false
    ) -> Schema {
        Schema(types: nullable ? [.number, .null] : [.number], description: description, minimum: minimum, maximum: maximum)
    }

    public static func integer(
        _ description: String? = nil, minimum: Double? = nil, maximum: Double? = nil, nullable: Bool = false
    ) -> Schema {
        Schema(types: nullable ? [.integer, .null] : [.integer], description: description, minimum: minimum, maximum: maximum)
    }

    public static func boolean(_ description: String? = nil, nullable: Bool = false) -> Schema {
        Schema(types: nullable ? [.boolean, .null] : [.boolean], description: description)
    }

    public static func array(
        _ items: Schema, description: String? = nil, minItems: Int? = nil, maxItems: Int? = nil
    ) -> Schema {
        Schema(types: [.array], description: description, items: items, minItems: minItems, maxItems: maxItems)
    }

    public static func object(
        _ description: String? = nil, properties: [(name: String, schema: Schema)], required: [String] = [],
        additionalProperties: Bool = false, componentName: String? = nil, example: JSONValue? = nil
    ) -> Schema {
        Schema(
            types: [.object], description: description, properties: properties, required: required,
            additionalProperties: additionalProperties, componentName: componentName, example: example)
    }

    public static func map(_ values: Schema, description: String? = nil) -> Schema {
        Schema(types: [.object], description: description, additionalPropertiesSchema: values)
    }

    // MARK: Validation

    /// `conforms(.string(s))` for a string given as its (valid) UTF-8: the type and length
    /// bounds on the bytes, an enum's allowed values (Strings) through a `String`.
    public func conforms(stringUTF8 utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard scalarCheck.acceptsString(utf8: utf8) else { return false }
        guard let enumValues else { return true }
        return enumValues.contains(String(decoding: utf8, as: UTF8.self))
    }

    /// Whether `value` satisfies the schema. Allocates nothing, so the request path runs it
    /// first and builds the problem list (with pointers) only for a body that fails.
    public func conforms(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s):
            guard scalarCheck.accepts(value) else { return false }
            if let enumValues, !enumValues.contains(s) { return false }
        case .number, .bool, .null:
            return scalarCheck.accepts(value)
        case .array(let elements):
            guard matchesType(value) else { return false }
            if let minItems, elements.count < minItems { return false }
            if let maxItems, elements.count > maxItems { return false }
            if let items { for element in elements where !items.conforms(element) { return false } }
        case .object(let object):
            guard matchesType(value) else { return false }
            for name in required where object[name] == nil { return false }
            if !exactlyOneOf.isEmpty, exactlyOneOf.count(where: { object[$0] != nil }) != 1 { return false }
            for member in object.members {
                if let property = properties.first(where: { $0.name == member.key }) {
                    if !property.schema.conforms(member.value) { return false }
                } else if let additionalPropertiesSchema {
                    if !additionalPropertiesSchema.conforms(member.value) { return false }
                } else if !additionalProperties {
                    return false
                }
            }
        }
        return true
    }

    /// Every problem in `value`, not just the first, each with its JSON Pointer.
    public func validate(_ value: JSONValue, at pointer: String = "") -> [FieldProblem] {
        var problems: [FieldProblem] = []
        validate(value, at: pointer, into: &problems)
        return problems
    }

    public func validate(_ value: JSONValue, at pointer: String, into problems: inout [FieldProblem]) {
        guard matchesType(value) else {
            let expected = types.map(\.rawValue).joined(separator: " or ")
            problems.append(FieldProblem(pointer: pointer, problem: "expected \(expected), got \(value.typeName)"))
            return
        }
        switch value {
        case .string(let s):
            if let enumValues, !enumValues.contains(s) {
                let listed = enumValues.count <= 12 ? ": " + enumValues.joined(separator: ", ") : ""
                problems.append(FieldProblem(pointer: pointer, problem: "must be one of \(enumValues.count) allowed values\(listed)"))
            }
            if minLength != nil || maxLength != nil {
                let length = Self.length(of: s)
                if let minLength, length < minLength {
                    problems.append(FieldProblem(pointer: pointer, problem: "must have at least \(minLength) characters"))
                }
                if let maxLength, length > maxLength {
                    problems.append(FieldProblem(pointer: pointer, problem: "must have at most \(maxLength) characters"))
                }
            }
        case .number(let n):
            if let minimum, n < minimum {
                problems.append(FieldProblem(pointer: pointer, problem: "must be ≥ \(Self.format(minimum))"))
            }
            if let maximum, n > maximum {
                problems.append(FieldProblem(pointer: pointer, problem: "must be ≤ \(Self.format(maximum))"))
            }
        case .array(let elements):
            if let minItems, elements.count < minItems {
                problems.append(FieldProblem(pointer: pointer, problem: "must have at least \(minItems) items"))
            }
            if let maxItems, elements.count > maxItems {
                problems.append(FieldProblem(pointer: pointer, problem: "must have at most \(maxItems) items (limit), got \(elements.count)"))
                return
            }
            if let items {
                for (i, element) in elements.enumerated() {
                    items.validate(element, at: pointer + "/" + String(i), into: &problems)
                }
            }
        case .object(let object):
            for name in required where object[name] == nil {
                problems.append(FieldProblem(pointer: pointer + "/" + Self.escape(name), problem: "is required"))
            }
            if !exactlyOneOf.isEmpty, exactlyOneOf.count(where: { object[$0] != nil }) != 1 {
                problems.append(FieldProblem(pointer: pointer, problem: "must have exactly one of \(exactlyOneOf.joined(separator: ", "))"))
            }
            for member in object.members {
                let memberPointer = pointer + "/" + Self.escape(member.key)
                if let property = properties.first(where: { $0.name == member.key }) {
                    property.schema.validate(member.value, at: memberPointer, into: &problems)
                } else if let additionalPropertiesSchema {
                    additionalPropertiesSchema.validate(member.value, at: memberPointer, into: &problems)
                } else if !additionalProperties {
                    problems.append(FieldProblem(pointer: memberPointer, problem: "is not a known field"))
                }
            }
        case .bool, .null:
            break
        }
    }

    private func matchesType(_ value: JSONValue) -> Bool { scalarCheck.matchesType(value) }

    /// RFC 6901 escaping of one reference token.
    /// A string's length as JSON Schema counts it: code points, not grapheme clusters
    /// ("c\u{327}", a c and a combining cedilla, is 2).
    static func length(of string: String) -> Int { string.unicodeScalars.count }

    /// `length(of:)` of valid UTF-8: its bytes that start a scalar (all but 10xxxxxx).
    static func length(utf8: UnsafeBufferPointer<UInt8>) -> Int {
        var continuations = 0
        for byte in utf8 where byte & 0xC0 == 0x80 { continuations &+= 1 }
        return utf8.count &- continuations
    }

    public static func escape(_ token: String) -> String {
        guard token.contains("~") || token.contains("/") else { return token }
        return token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    // MARK: JSON Schema output

    /// This schema as JSON Schema 2020-12 (OpenAPI 3.1). Named components become `$ref`s
    /// when `useReferences` is set and this is not the component being defined. A nullable
    /// component is defined without `null` and referenced as `anyOf: [$ref, {type: null}]`, so
    /// code generators see one named type that a field may leave null. A nullable enum is its
    /// values and `null`, without `type` (JSON Schema checks `enum` against null too), and an array
    /// whose items are unconstrained says so with `items: {}`.
    public func jsonSchema(useReferences: Bool = true, isDefinition: Bool = false) -> JSONValue {
        let nullableComponent = componentName != nil && useReferences && types.count > 1 && types.contains(.null)
        if useReferences, !isDefinition, let componentName {
            let reference: JSONValue = ["$ref": .string("#/components/schemas/\(componentName)")]
            return nullableComponent ? ["anyOf": [reference, ["type": "null"]]] : reference
        }
        let types = nullableComponent ? self.types.filter { $0 != .null } : self.types
        var out = JSONObject()
        let nullableEnum = enumValues != nil && types.contains(.null)
        if !nullableEnum {
            out.append("type", types.count == 1 ? .string(types[0].rawValue) : .array(types.map { .string($0.rawValue) }))
        }
        if let description { out.append("description", .string(description)) }
        if !properties.isEmpty {
            out.append(
                "properties",
                .object(JSONObject(properties.map { (key: $0.name, value: $0.schema.jsonSchema(useReferences: useReferences)) })))
        }
        if !required.isEmpty { out.append("required", .array(required.map { .string($0) })) }
        if !exactlyOneOf.isEmpty { out.append("oneOf", .array(exactlyOneOf.map { ["required": [.string($0)]] })) }
        if types.contains(.object) {
            if let additionalPropertiesSchema {
                out.append("additionalProperties", additionalPropertiesSchema.jsonSchema(useReferences: useReferences))
            } else if !additionalProperties {
                out.append("additionalProperties", false)
            }
        }
        if let items {
            out.append("items", items.jsonSchema(useReferences: useReferences))
        } else if types.contains(.array) {
            out.append("items", .object(JSONObject()))
        }
        if let minItems { out.append("minItems", .number(Double(minItems))) }
        if let maxItems { out.append("maxItems", .number(Double(maxItems))) }
        if let minimum { out.append("minimum", .number(minimum)) }
        if let maximum { out.append("maximum", .number(maximum)) }
        if let minLength { out.append("minLength", .number(Double(minLength))) }
        if let maxLength { out.append("maxLength", .number(Double(maxLength))) }
        if let enumValues {
            out.append("enum", .array(enumValues.map { .string($0) } + (nullableEnum ? [.null] : [])))
        }
        if let example { out.append("examples", .array([example])) }
        return .object(out)
    }

    /// This schema and every named component reachable from it, by name.
    public func components(into found: inout [(name: String, schema: Schema)]) {
        if let componentName {
            if found.contains(where: { $0.name == componentName }) { return }
            found.append((name: componentName, schema: self))
        }
        for property in properties { property.schema.components(into: &found) }
        items?.components(into: &found)
        additionalPropertiesSchema?.components(into: &found)
    }
}
