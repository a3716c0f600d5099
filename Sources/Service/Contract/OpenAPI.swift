import JSON
/// One documented operation. Routes are registered through these, so the OpenAPI document
/// lists exactly what the router serves, with the schemas the handlers validate against.
public struct Operation: Sendable {
    public var method: String
    /// Router pattern, e.g. `/v1/models/{name}:predict`.
    public var path: String
    public var operationId: String
    public var summary: String
    public var tags: [String]
    public var requestBody: Schema?
    /// Status → (description, schema, media type).
    public var responses: [(status: Int, description: String, schema: Schema?, mediaType: String)]
    public var requiresAuth: Bool
    /// The role a bearer token needs when `requiresAuth`; nil means `admin`.
    public var requiredRole: AuthRole?
    /// Error bodies also carry `error` (the detail), as Open Inference Protocol clients read
    /// them. Default false.
    public var errorMember = false

    public init(
        method: String, path: String, operationId: String, summary: String, tags: [String] = [],
        requestBody: Schema? = nil, responses: [(status: Int, description: String, schema: Schema?, mediaType: String)],
        requiresAuth: Bool = false, requiredRole: AuthRole? = nil, errorMember: Bool = false
    ) {
        self.errorMember = errorMember
        self.method = method
        self.path = path
        self.operationId = operationId
        self.summary = summary
        self.tags = tags
        self.requestBody = requestBody
        self.responses = responses
        self.requiresAuth = requiresAuth
        self.requiredRole = requiredRole
    }
}

/// Builds the OpenAPI 3.1 document from the registered operations.
public enum OpenAPIDocument {
    public static func build(title: String, version: String, operations: [Operation]) -> JSONValue {
        var paths = JSONObject()
        var components: [(name: String, schema: Schema)] = []
        for operation in operations {
            var item = paths[operation.path]?.objectValue ?? JSONObject()
            var op = JSONObject()
            op.append("operationId", .string(operation.operationId))
            op.append("summary", .string(operation.summary))
            if !operation.tags.isEmpty { op.append("tags", .array(operation.tags.map { .string($0) })) }
            let parameters = Self.pathParameters(operation.path)
            if !parameters.isEmpty {
                op.append("parameters", .array(parameters.map { name in
                    ["name": .string(name), "in": "path", "required": true, "schema": Self.pathParameterSchema(name)]
                }))
            }
            if let body = operation.requestBody {
                body.components(into: &components)
                op.append("requestBody", [
                    "required": true,
                    "content": ["application/json": ["schema": body.jsonSchema()]],
                ])
            }
            var responses = JSONObject()
            for response in operation.responses {
                var entry: JSONObject = ["description": .string(response.description)]
                if let schema = response.schema {
                    schema.components(into: &components)
                    entry.append("content", .object([response.mediaType: ["schema": schema.jsonSchema()]]))
                }
                responses.append(String(response.status), .object(entry))
            }
            op.append("responses", .object(responses))
            if operation.requiresAuth { op.append("security", [["bearer": []]]) }
            item.append(operation.method.lowercased(), .object(op))
            paths[operation.path] = .object(item)
        }
        let schemas = JSONObject(components.map { (key: $0.name, value: $0.schema.jsonSchema(isDefinition: true)) })
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(title), "version": .string(version)],
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
            ],
        ]
    }

    /// Model names and labels follow the registry's naming rule; versions are positive integers.
    static func pathParameterSchema(_ name: String) -> JSONValue {
        switch name {
        case "version": ["type": "integer", "minimum": 1, "maximum": .number(Schemas.maxVersion)]
        // The registry accepts `^[a-z0-9][a-z0-9._-]{0,63}$` without `..`; documented as the
        // stricter form without adjacent or trailing separators, which JSON Schema can say.
        case "name", "label": ["type": "string", "pattern": "^[a-z0-9]+([._-][a-z0-9]+)*$", "maxLength": 64]
        default: ["type": "string"]
        }
    }

    /// `{name}` segments of a router pattern, in order.
    static func pathParameters(_ pattern: String) -> [String] {
        var names: [String] = []
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }
}
