import HTTPServer
import JSON
import Registry

/// Liveness and readiness, where Kubernetes probes and KServe's V1 clients look for them.
enum HealthRoutes {
    /// The liveness answer, built once: probes ask for it every few seconds, load balancers
    /// far more often.
    private static let alive = ModelRoutes.json(Array(#"{"status":"alive"}"#.utf8))

    static func register(into routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>, isDraining: @escaping @Sendable () -> Bool) {
        routes.add(
            Operation(method: "GET", path: "/health/live", operationId: "live", summary: "Liveness: 200 while the event loops answer.",
                      tags: ["health"], responses: [(200, "Alive", Schemas.health, "application/json")])
        ) { _ in
            alive
        }
        routes.add(
            Operation(method: "GET", path: "/", operationId: "root", summary: "Liveness where KServe's V1 clients look for it (is_server_live).",
                      tags: ["health"], responses: [(200, "Alive", Schemas.health, "application/json")])
        ) { _ in
            alive
        }
        routes.add(
            Operation(method: "GET", path: "/health/ready", operationId: "ready",
                      summary: "Readiness: 200 when every required model serves; 503 while starting or draining.",
                      tags: ["health"],
                      responses: [(200, "Ready", Schemas.health, "application/json"), (503, "Not ready", Schemas.health, "application/json")])
        ) { _ in
            let reasons = readinessProblems(registry: registry, isDraining: isDraining)
            let ready = reasons.isEmpty
            let body: JSONValue =
                ready ? ["status": "ready"]
                : ["status": isDraining() ? "draining" : "not_ready", "reasons": .array(reasons.map { .string($0) })]
            return ModelRoutes.json(JSONWriter.encode(body), status: ready ? .ok : .serviceUnavailable)
        }
    }

    /// Why the service is not ready; empty when every required model serves and no drain began.
    static func readinessProblems(registry: ModelRegistry<ServingModelLoader>, isDraining: () -> Bool) -> [String] {
        var reasons: [String] = []
        if isDraining() { reasons.append("the server is draining") }
        let statuses = registry.status()
        for status in statuses where status.required && status.servingVersion == nil {
            let failures = status.versions.compactMap { v -> String? in
                if case .failed(let reason) = v.state { return "version \(v.version): \(reason)" }
                return nil
            }
            let why = status.storageError ?? (failures.isEmpty ? "no version loaded yet" : failures.joined(separator: "; "))
            reasons.append("model '\(status.model)' has no serving version (\(why))")
        }
        for required in registry.configuration.requiredModels where !statuses.contains(where: { $0.model == required }) {
            reasons.append("model '\(required)' is not in storage")
        }
        if reasons.isEmpty, !registry.isReady { reasons.append("no model serves") }
        return reasons
    }
}
