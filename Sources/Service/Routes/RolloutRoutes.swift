import HTTPServer
import JSON
import Monitoring
import Registry

/// Rollout control and comparison (shadow, canary, promote, abort).
enum RolloutRoutes {
    /// Rollout control on this replica: set (over rollout.json), back to the file, promote, abort.
    static func register(into routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>) {
        let problems: [(status: Int, description: String, schema: Schema?, mediaType: String)] = [
            (400, "Malformed JSON, or a path parameter that is not a valid name", Schemas.problem, ProblemDetails.contentType),
            (404, "Unknown model", Schemas.problem, ProblemDetails.contentType),
            (409, "No rollout with a canary, or the canary version is not available", Schemas.problem, ProblemDetails.contentType),
        ]
        @Sendable func answer(_ name: String) -> HTTPResponse {
            let status = registry.status(model: name)
            let body: JSONValue = [
                "name": .string(name),
                "serving_version": status?.servingVersion.map { .number(Double($0)) } ?? .null,
                "pinned": .bool(status?.pinned ?? false),
                "rollout": ModelRoutes.rolloutJSON(status?.rollout, report: nil),
            ]
            return ModelRoutes.json(JSONWriter.encode(body))
        }
        let result = Schema.object(
            "What serves and the rollout in force after a rollout call.",
            properties: [("name", .string()), ("serving_version", .integer(minimum: 1, nullable: true)), ("pinned", .boolean()),
                         ("rollout", Schemas.rolloutStatus)],
            required: ["name", "serving_version", "pinned", "rollout"], componentName: "RolloutResult")
        routes.add(
            Operation(method: "PUT", path: "/v1/models/{name}/rollout", operationId: "setRollout",
                      summary: "Put a rollout (shadow, canary, guards) in force on this replica, over rollout.json, until DELETE or a restart.",
                      tags: ["admin"], requestBody: Schemas.rolloutRequest,
                      responses: [(200, "The rollout in force", result, "application/json")] + problems
                        + [(415, "Not application/json", Schemas.problem, ProblemDetails.contentType),
                           (422, "Body breaks the schema", Schemas.problem, ProblemDetails.contentType)],
                      requiresAuth: true)
        ) { request in
            try ModelRoutes.requireJSON(request)
            let body = try JSONParser.parse(request.body)
            let schema = Schemas.rolloutRequest
            guard schema.conforms(body) else { throw ContractError.schemaViolation(schema.validate(body)) }
            let spec: RolloutSpec
            do throws(RolloutSpecError) {
                spec = try RolloutSpec.parse(request.body)
            } catch {
                throw ContractError.schemaViolation([FieldProblem(pointer: error.pointer, problem: error.problem)])
            }
            let name = request.pathParameters["name"] ?? ""
            try registry.setRollout(model: name, spec: spec)
            return answer(name)
        }
        routes.add(
            Operation(method: "DELETE", path: "/v1/models/{name}/rollout", operationId: "clearRollout",
                      summary: "Back to rollout.json (or no rollout without one) on this replica.", tags: ["admin"],
                      responses: [(200, "The rollout in force", result, "application/json")] + problems, requiresAuth: true)
        ) { request in
            let name = request.pathParameters["name"] ?? ""
            try registry.clearRollout(model: name)
            return answer(name)
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:promote", operationId: "promote",
                      summary: "The canary becomes the serving version on this replica (pinned, as :pin) and the rollout ends here.",
                      tags: ["admin"], responses: [(200, "Serving now", result, "application/json")] + problems, requiresAuth: true)
        ) { request in
            let name = request.pathParameters["name"] ?? ""
            try registry.promote(model: name)
            return answer(name)
        }
        routes.add(
            Operation(method: "POST", path: "/v1/models/{name}:abort", operationId: "abort",
                      summary: "Stop the canary on this replica (weight 0; the shadow keeps scoring) until a new rollout.",
                      tags: ["admin"], responses: [(200, "The rollout in force", result, "application/json")] + problems, requiresAuth: true)
        ) { request in
            let name = request.pathParameters["name"] ?? ""
            try registry.abortCanary(model: name, reason: "aborted by an admin", automatic: false)
            return answer(name)
        }
    }

    /// The OpenAPI document; the Listing component is the default model's serving signature.
}
