import FoundationEssentials
import HTTPTestClient
@testable import Registry
import Testing
@testable import Service

private let metricsToken = "metrics-0123456789abcdef0123456"
private let predictOnlyToken = "predict-0123456789abcdef012345"
private let adminOnlyToken = "admin-0123456789abcdef0123456789"
private func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

@Suite(.timeLimit(.minutes(10))) struct ConsoleTests {
    @Test func readsTheExpositionItWrites() {
        let samples = MetricsText.parse("""
            # HELP vigia_http_requests_total Requests.
            # TYPE vigia_http_requests_total counter
            vigia_http_requests_total{route="/v1/models/{name}:predict",method="POST",status="200"} 7
            vigia_http_requests_total{route="/a \\"b\\"",method="GET",status="503"} 2
            vigia_build_info{version="1.0.0"} 1
            process_open_fds 12
            vigia_prediction_score_bucket{model="m",version="1",le="+Inf"} 3
            broken{label="unclosed} 1
            """)
        #expect(samples.count == 5)
        #expect(samples[1].labels == ["route": "/a \"b\"", "method": "GET", "status": "503"])
        #expect(samples[3] == MetricSample(name: "process_open_fds", labels: [:], value: 12))
        #expect(samples[4].labels["le"] == "+Inf" && samples[4].value == 3)
        #expect(samples.sum("vigia_http_requests_total") == 9)
        #expect(samples.sum("vigia_http_requests_total") { $0["status"] == "503" } == 2)
    }

    @Test func quantilesInterpolateInsideTheirBucketAsPrometheusDoes() {
        let buckets: [(bound: Double, count: Double)] = [(0.1, 50), (0.2, 90), (0.4, 100), (.infinity, 100)]
        #expect(HistogramMath.quantile(0.5, cumulative: buckets) == 0.1)
        #expect(abs(HistogramMath.quantile(0.7, cumulative: buckets)! - 0.15) < 1e-12)
        #expect(abs(HistogramMath.quantile(0.99, cumulative: buckets)! - 0.38) < 1e-12)
        #expect(HistogramMath.quantile(0.99, cumulative: [(0.1, 0), (.infinity, 0)]) == nil)
        // Past the last finite bound: that bound (no extrapolation).
        #expect(HistogramMath.quantile(0.99, cumulative: [(0.1, 1), (.infinity, 10)]) == 0.1)
        let bins = HistogramMath.bins(cumulative: [(0.5, 2), (1, 5), (.infinity, 5)])
        #expect(bins.map(\.upper) == [0.5, 1] && bins.map(\.count) == [2, 3])
    }

    @Test func intervalsGiveRateErrorShareAndP99() {
        let a = ConsolePoint(time: 10, requests: 100, serverErrors: 1, latency: [(0.01, 90), (0.1, 100), (.infinity, 100)])
        let b = ConsolePoint(time: 15, requests: 150, serverErrors: 6, latency: [(0.01, 90), (0.1, 150), (.infinity, 150)])
        let interval = ConsoleInterval.between(a, b)
        #expect(interval?.requestsPerSecond == 10)
        #expect(interval?.errorRatio == 0.1)
        #expect(abs(interval!.p99Seconds! - (0.01 + 0.09 * 49.5 / 50)) < 1e-12)
        // A restarted process (counters went down) or no time between: no interval.
        #expect(ConsoleInterval.between(b, a) == nil)
        #expect(ConsoleInterval.between(a, a) == nil)
        let history = ConsoleHistory(capacity: 2, minimumSpacing: 1)
        _ = history.record(a)
        #expect(history.record(ConsolePoint(time: 10.5, requests: 0, serverErrors: 0, latency: [])).count == 1)
        _ = history.record(b)
        #expect(history.record(ConsolePoint(time: 20, requests: 200, serverErrors: 6, latency: [])).map(\.time) == [15, 20])
    }

    @Test func thePageNamesTheServingVersionAndLoadErrorsAndEscapesText() {
        let status = ModelStatus(
            model: "m<x>", servingVersion: 2, pinned: true, storagePin: nil, storagePinIssue: nil, previousVersion: 1,
            labels: ["stable": 2], pendingLabels: [:],
            versions: [
                VersionStatus(version: 3, state: .failed(reason: "checksum_mismatch"), labels: [], inStorage: true,
                              publishedAt: nil, loadedAt: nil, error: "checksum_mismatch: weights.bin <bad>", attempts: 2, nextRetryAt: nil),
                VersionStatus(version: 2, state: .available, labels: ["stable"], inStorage: true,
                              publishedAt: nil, loadedAt: nil, error: nil, attempts: 1, nextRetryAt: nil),
            ],
            storageError: nil, labelsFileError: nil, required: true, rollout: nil)
        let samples = MetricsText.parse("""
            vigia_prediction_score_bucket{model="m<x>",version="2",le="0.5"} 3
            vigia_prediction_score_bucket{model="m<x>",version="2",le="1"} 4
            vigia_prediction_score_bucket{model="m<x>",version="2",le="+Inf"} 4
            """)
        let html = ConsolePage(statuses: [status], samples: samples, history: [], now: Date(timeIntervalSince1970: 0)).render()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains(#"<span class="serving" id="serving-m&lt;x&gt;">2</span> (pinned by an admin)"#))
        #expect(html.contains("checksum_mismatch: weights.bin &lt;bad&gt; (2 attempts)"))
        #expect(html.contains("stable → 2") && html.contains("previous (rollback) 1"))
        #expect(html.contains("version 2 (serving): 4 scores") && html.contains("0.50–1.00: 1 (25.0 %)"))
        // Nothing to fetch: no script, no image or style sheet, the icon is an empty data: URL.
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http") && html.contains(#"<link rel="icon" href="data:,">"#))
        #expect(html.contains("Rates appear after the next reload"))
    }

    /// Over a real service: HTML with the serving version; the score histogram fills after
    /// predictions; a newly published version shows as serving.
    @Test func theConsoleFollowsTheServiceAndAVersionPublishedMeanwhile() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { service, port in
            let client = try TestClient(port: port)
            let first = try client.request("GET", "/console")
            #expect(first.status == 200)
            #expect(first.headers.first { $0.0.lowercased() == "content-type" }?.1 == "text/html; charset=utf-8")
            #expect(first.text.contains(#"id="serving-prohibited-items">1</span>"#))
            for _ in 0..<3 { #expect(try client.postJSON(predictPath, #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#).status == 200) }
            let page = try client.request("GET", "/console").text
            #expect(page.contains("version 1 (serving): 6 scores"), "\(page)")
            try storage.publish(version: 2)
            service.registry.testsOnly_pollNow()
            #expect(eventually { (try? client.request("GET", "/console").text.contains(#"id="serving-prohibited-items">2</span>"#)) == true })
            let openAPI = try client.request("GET", "/openapi.json").text
            #expect(openAPI.contains(#""/console""#))
        }
    }

    @Test func withAuthTheConsoleNeedsAMetricsOrAdminToken() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let environment = ["VIGIA_AUTH_ENABLED": "true", "VIGIA_AUTH_METRICS_TOKENS": metricsToken,
                           "VIGIA_AUTH_PREDICT_TOKENS": predictOnlyToken, "VIGIA_AUTH_ADMIN_TOKENS": adminOnlyToken]
        try withService(storage: storage, environment: environment) { _, port in
            let client = try TestClient(port: port)
            #expect(try client.request("GET", "/console").status == 401)
            #expect(try client.request("GET", "/console", headers: bearer(predictOnlyToken)).status == 403)
            #expect(try client.request("GET", "/console", headers: bearer(metricsToken)).status == 200)
            #expect(try client.request("GET", "/console", headers: bearer(adminOnlyToken)).status == 200)
        }
    }
}
