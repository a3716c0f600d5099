import HTTPServer
import JSON
import Registry

/// Version control on this replica: reload, pins and labels (admin role).
enum AdminRoutes {
    static func register(into routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>) {
        let problems: [(status: Int, description: String, schema: Schema?, mediaType: String)] = [
            (400, "Malformed JSON, or a path parameter that is not a valid name", Schemas.problem, ProblemDetails.contentType),
            (404, "Unknown model or label", Schemas.problem, ProblemDetails.contentType),
            (415, "Not application/json (routes with a body)", Schemas.problem, ProblemDetails.contentType),
            (409, "The version is not available", Schemas.problem, ProblemDetails.contentType),
            (422, "Body breaks the schema", Schemas.problem, ProblemDetails.contentType),
        ]
        @Sendable func versionBody(_ request: HTTPRequest, _ schema: Schema) throws -> Int {
            try ModelRoutes.requireJSON(request)
            let body = try JSONParser.parse(request.body)
            guard schema.conforms(body) else { throw ContractError.schemaViolation(schema.validate(body)) }
            // The schema bounds the number to a positive integer below 2^53, so it converts exactly.
            guard let version = body["version"]?.numberValue.flatMap({ Int(exactly: $0) }) else {
                throw ContractError.schemaViolation([FieldProblem(pointer: "/version", problem: "expected a positive integer")])
            }
            return version
        }
        /// Applies `change` to the model the path names and answers what serves now (AdminResult).
        @Sendable func changed(_ request: HTTPRequest, _ change: (String) throws -> Void) throws -> HTTPResponse {
            let name = request.pathParameters["name"] ?? ""
            try change(name)
            let status = registry.status(model: name)
            let body: JSONValue = [
                "name": .string(name),
                "serving_version": status?.servingVersion.map { .number(Double($0)) } ?? .null,
                "pinned": .bool(status?.pinned ?? false),
                "labels": ModelRoutes.versionMap(status?.labels ?? [:]),
            ]
            return ModelRoutes.json(JSONWriter.encode(body))
        }
        routes.add(
            Operation(method: "POST", path: "/v1/admin/reload", operationId: "reload",
                      summary: "Rescan storage now and retry failed versions.", tags: ["admin"],
                      responses: [(202, "Rescan requested", nil, "application/json")], requiresAuth: true)
        ) { _ in
            registry.reloadNow()
            return ModelRoutes.json(Array(#"{"status":"reload requested"}"#.utf8), status: 202)
        }
        routes.add(
            Operation(method: "PUT", path: "/v1/models/{name}/labels/{label}", operationId: "setLabel",
                      summary: "Point a label (e.g. stable, canary) at an available version.", tags: ["admin"],
                      requestBody: Schemas.labelRequest, responses: [(200, "Labels now", Schemas.adminResult, "application/json")] + problems,
                      requiresAuth: true)
        ) { request in
            try changed(request) { name in
                try registry.setLabel(model: name, label: request.pathParameters["label"] ?? "",
                                      version: try versionBody(request, Schemas.labelRequest))
            }
        }
        routes.add(
            Operation(method: "DELETE", path: "/v1/models/{name}/labels/{label}", operationId: "removeLabel",
                      summary: "Remove a label.", tags: ["admin"], responses: [(200, "Labels now", Schemas.adminResult, "application/json")] + problems,
                      requiresAuth: true)
        ) { request in
            try changed(request) { try registry.removeLabel(model: $0, label: request.pathParameters["label"] ?? "") }
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:pin", operationId: "pin",
                      summary: "Serve this version until unpinned.", tags: ["admin"], requestBody: Schemas.pinRequest,
                      responses: [(200, "Serving now", Schemas.adminResult, "application/json")] + problems, requiresAuth: true)
        ) { request in
            try changed(request) { try registry.pin(model: $0, version: try versionBody(request, Schemas.pinRequest)) }
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:unpin", operationId: "unpin",
                      summary: "Serve the newest available version again.", tags: ["admin"],
                      responses: [(200, "Serving now", Schemas.adminResult, "application/json")] + problems, requiresAuth: true)
        ) { request in
            try changed(request) { try registry.unpin(model: $0) }
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:rollback", operationId: "rollback",
                      summary: "Pin the previous serving version (kept loaded for this).", tags: ["admin"],
                      responses: [(200, "Serving now", Schemas.adminResult, "application/json")] + problems, requiresAuth: true)
        ) { request in
            try changed(request) { _ = try registry.rollback(model: $0) }
        }
    }

    /// Rollout control on this replica: set (over rollout.json), back to the file, promote, abort.
}
