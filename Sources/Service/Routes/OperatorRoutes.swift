import FoundationEssentials
import HTTPServer
import Registry

/// What an operator looks at: the Prometheus metrics and the console page.
enum OperatorRoutes {
    static func registerMetrics(
        into routes: inout RouteTable, metrics: ServiceMetrics, counters: ServerCounters, registry: ModelRegistry<ServingModelLoader>,
        monitor: LiveMonitor
    ) {
        routes.add(
            Operation(method: "GET", path: "/metrics", operationId: "metrics",
                      summary: "Prometheus text exposition: HTTP, model and process metrics.", tags: ["meta"],
                      responses: [(200, "Metrics", nil, ServiceMetrics.contentType)])
        ) { _ in
            HTTPResponse(headers: ["Content-Type": ServiceMetrics.contentType],
                         body: metrics.exposition(server: counters, models: registry.status(), monitor: monitor))
        }
    }

    /// GET /console: the operator's page, from the registry's status and this process's own
    /// metrics (without `metrics.enabled`, only models and versions). Needs a metrics (or
    /// admin) token when `auth.enabled`.
    static func registerConsole(
        into routes: inout RouteTable, metrics: ServiceMetrics?, counters: ServerCounters, registry: ModelRegistry<ServingModelLoader>,
        monitor: LiveMonitor, requiresAuth: Bool
    ) {
        let history = ConsoleHistory()
        let clock = ContinuousClock()
        let origin = clock.now
        routes.add(
            Operation(method: "GET", path: "/console", operationId: "console",
                      summary: "Operator console: one self-contained HTML page (inline SVG, no script) that reloads every 5 s: models, versions with states and load errors, labels and pins, the rollout comparison, input skew, score histograms per version, request rate, 5xx share and p99 latency from this replica's metrics.",
                      tags: ["meta"], responses: [(200, "The console", Schema.string(), ConsolePage.contentType)],
                      requiresAuth: requiresAuth, requiredRole: .metrics)
        ) { _ in
            let statuses = registry.status()
            var samples: [MetricSample] = []
            var points: [ConsolePoint] = []
            if let metrics {
                samples = MetricsText.parse(String(decoding: metrics.exposition(server: counters, models: statuses, monitor: monitor), as: UTF8.self))
                let elapsed = (clock.now - origin).components
                points = history.record(ConsolePoint(
                    time: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18, samples: samples))
            }
            let page = ConsolePage(statuses: statuses, samples: samples, history: points, now: Date())
            return HTTPResponse(headers: ["Content-Type": ConsolePage.contentType, "Cache-Control": "no-store"],
                                body: Array(page.render().utf8))
        }
    }
}
