import Foundation
import HTTPServer
import HTTPTestClient
import JSON
import Logging
import Synchronization
import Testing
import Inference
@testable import Service

/// The value of one series on a Prometheus text page (`name{labels}` exactly as rendered).
func sample(_ page: String, _ series: String) -> Double? {
    for line in page.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct MetricsTests {
    @Test func metricsCountRequestsByRoutePatternAndPredictionsByVersionAndLabel() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { service, port in
            let client = try TestClient(port: port)
            for _ in 0..<3 {
                let response = try client.postJSON(predictPath, #"{"instances":[\#(listingJSON),\#(benignJSON)]}"#)
                #expect(response.status == 200)
            }
            #expect(try client.postJSON(predictPath, #"{"instances":[{"title":7}]}"#).status == 422)
            #expect(try client.request("GET", "/v1/models/prohibited-items/versions/1").status == 200)
            #expect(try client.request("GET", "/no/such/path").status == 404)

            let scrape = try client.request("GET", "/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let page = scrape.text
            let predict = #"route="/v1/models/{name}:predict",method="POST""#
            #expect(sample(page, #"vigia_http_requests_total{\#(predict),status="200"}"#) == 3)
            #expect(sample(page, #"vigia_http_requests_total{\#(predict),status="422"}"#) == 1)
            #expect(sample(page, #"vigia_http_request_duration_seconds_count{\#(predict)}"#) == 4)
            #expect(sample(page, #"vigia_http_requests_total{route="/v1/models/{name}/versions/{version}",method="GET",status="200"}"#) == 1)
            // Route patterns only: no raw path ever becomes a label value.
            #expect(!page.contains("prohibited-items:predict"))
            #expect(!page.contains("/no/such/path"))
            #expect(sample(page, #"vigia_predictions_total{model="prohibited-items",version="1",label="prohibited"}"#) == 3)
            #expect(sample(page, #"vigia_predictions_total{model="prohibited-items",version="1",label="allowed"}"#) == 3)
            let scores = #"model="prohibited-items",version="1""#
            #expect(sample(page, #"vigia_prediction_score_count{\#(scores)}"#) == 6)
            #expect(sample(page, #"vigia_prediction_score_bucket{\#(scores),le="+Inf"}"#) == 6)
            // The benign listing scores 0.0105 with the committed model (`vigia predict`).
            #expect(sample(page, #"vigia_prediction_score_bucket{\#(scores),le="0.05"}"#) == 3)
            #expect(sample(page, #"vigia_prediction_score_bucket{\#(scores),le="0.5"}"#) == 3, "3 benign listings score below 0.5")
            #expect(sample(page, #"vigia_model_serving_version{model="prohibited-items"}"#) == 1)
            #expect(sample(page, #"vigia_model_versions_loaded{model="prohibited-items"}"#) == 1)
            #expect(sample(page, #"vigia_model_load_successes_total{model="prohibited-items"}"#) == 1)
            let age = try #require(sample(page, #"vigia_model_serving_version_age_seconds{model="prohibited-items"}"#))
            #expect(age >= 0 && age < 3600)
            #expect(sample(page, "vigia_http_open_connections") ?? 0 >= 1)
            #expect(sample(page, "vigia_http_in_flight_requests") == 1, "the scrape itself")
            #expect(sample(page, "vigia_http_received_bytes_total") ?? 0 > 1000)
            #expect(sample(page, "vigia_http_sent_bytes_total") ?? 0 > 1000)
            #expect(sample(page, #"vigia_build_info{version="\#(VigiaVersion.current)"}"#) == 1)
            #expect(sample(page, "process_resident_memory_bytes") ?? 0 > 1_000_000)
            #expect(sample(page, "process_open_fds") ?? 0 > 3)
            #expect(sample(page, "process_max_fds") ?? 0 > 3)
            #expect(sample(page, "process_cpu_seconds_total") ?? 0 > 0)
            let started = try #require(sample(page, "process_start_time_seconds"))
            #expect(abs(started - Date().timeIntervalSince1970) < 24 * 3600)
            #expect(page.contains("# TYPE vigia_prediction_score histogram"))
            #expect(page.contains("# HELP vigia_http_requests_total "))

            // Mirrored counters only grow between scrapes.
            let again = try client.request("GET", "/metrics").text
            let receivedBefore = try #require(sample(page, "vigia_http_received_bytes_total"))
            let receivedAfter = try #require(sample(again, "vigia_http_received_bytes_total"))
            #expect(receivedAfter > receivedBefore)
            #expect(sample(again, #"vigia_http_requests_total{route="/metrics",method="GET",status="200"}"#) == 1)

            let openAPI = try client.request("GET", "/openapi.json").text
            #expect(openAPI.contains(#""/metrics""#))
        }
    }

    @Test func loadFailuresAreCountedByReasonCode() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try storage.publish(version: 2, corrupt: true)
        try withService(storage: storage) { _, port in
            let client = try TestClient(port: port)
            // The registry retries the corrupt version with back-off (1 s, 2 s, …) while the
            // test runs, so the counter is bracketed by the attempts the status reports
            // before and after the scrape, whenever the retries happen.
            func attempts() throws -> Int {
                let versions = try json(client.request("GET", "/v1/models/prohibited-items"))["versions"]?.arrayValue ?? []
                return versions.first { $0["version"] == 2 }?["attempts"]?.numberValue.map { Int($0) } ?? 0
            }
            let before = try attempts()
            let page = try client.request("GET", "/metrics").text
            let after = try attempts()
            let failures = try #require(sample(page, #"vigia_model_load_failures_total{model="prohibited-items",reason="checksum_mismatch"}"#))
            #expect(before >= 1)
            #expect(Double(before) <= failures && failures <= Double(after), "attempts \(before)...\(after), counted \(failures)")
            #expect(sample(page, #"vigia_model_serving_version{model="prohibited-items"}"#) == 1)
        }
    }

    @Test func metricsCanBeSwitchedOff() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage, environment: ["VIGIA_METRICS_ENABLED": "false"]) { service, port in
            #expect(service.metrics == nil)
            let client = try TestClient(port: port)
            #expect(try client.request("GET", "/metrics").status == 404)
            #expect(try client.postJSON(predictPath, #"{"instances":[\#(listingJSON)]}"#).status == 200)
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct AccessLogTests {
    @Test func samplerLogsAnEvenShareAndEveryServerError() {
        let quarter = AccessLogSampler(rate: 0.25)
        #expect((0..<100).filter { _ in quarter.shouldLog(status: 200) }.count == 25)
        let none = AccessLogSampler(rate: 0)
        #expect((0..<10).filter { _ in none.shouldLog(status: 200) }.isEmpty)
        #expect(none.shouldLog(status: 500) && none.shouldLog(status: 503))
        let all = AccessLogSampler()
        #expect((0..<10).allSatisfy { _ in all.shouldLog(status: 404) })
    }

    @Test func accessLogIsSampledCarriesRequestIDsAndNeverTokensOrBodies() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let log = CapturedLog()
        let environment = ["VIGIA_LOGGING_ACCESS_LOG": "true", "VIGIA_LOGGING_ACCESS_LOG_SAMPLE_RATE": "0.5"]
        try withService(storage: storage, environment: environment, logLevel: .info, logSink: log.sink) { _, port in
            let client = try TestClient(port: port)
            let secretTitle = "Zyxxwq unique listing title 42"
            let body = #"{"instances":[{"id":"L9","site_id":"MLB","title":"\#(secretTitle)","category_id":"MLB1","price_usd":5,"seller_age_days":1,"seller_sales":0,"seller_reputation":"new"}]}"#
            for i in 0..<10 {
                let response = try client.postJSON(
                    predictPath, body, headers: [("Authorization", "Bearer sekret-token-123"), ("X-Request-Id", "req-\(i)")])
                #expect(response.status == 200)
            }
            // A malformed body is not echoed into the log either.
            #expect(try client.postJSON(predictPath, #"{"instances": [\#(secretTitle)"#).status == 400)
        }
        let logged = log.all
        let access = try logged.map { try JSONParser.parse(Array($0.utf8.dropLast())) }.filter { $0["msg"] == "request" }
        // 11 requests at rate 0.5: every second one is logged.
        #expect(access.count == 5)
        for line in access {
            #expect(line["request.id"]?.stringValue?.hasPrefix("req-") == true)
            #expect(line["http.route"] == "/v1/models/{name}:predict")
        }
        for line in logged {
            #expect(!line.contains("sekret-token-123"))
            #expect(!line.contains("Zyxxwq"))
        }
    }
}

@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct ServiceOverloadTests {
    @Test func maxConnectionsFromConfigurationTurnsExtraConnectionsAwayAndCountsThem() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage, environment: ["VIGIA_SERVER_MAX_CONNECTIONS": "2"]) { service, port in
            #expect(service.server.configuration.maxConnections == 2)
            let first = try TestClient(port: port)
            #expect(try first.request("GET", "/health/live").status == 200)
            let second = try TestClient(port: port)
            #expect(try second.request("GET", "/health/live").status == 200)
            for _ in 0..<3 {
                let extra = try TestClient(port: port)
                let refused = try extra.readResponse()
                #expect(refused.status == 503 && refused.header("Retry-After") == "1")
            }
            let page = try first.request("GET", "/metrics").text
            #expect(sample(page, #"vigia_http_overload_rejections_total{limit="max_connections"}"#) == 3)
            #expect(sample(page, #"vigia_http_overload_rejections_total{limit="max_in_flight"}"#) == 0)
            #expect(sample(page, "vigia_http_open_connections") == 2)
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct ScoreHistogramTests {
    @Test func scoresFallIntoTheFirstBucketWhoseBoundIsAtOrAboveThem() {
        #expect(ScoreHistogram.bucket(of: 0) == 0)
        #expect(ScoreHistogram.bucket(of: 0.05) == 0)
        #expect(ScoreHistogram.bucket(of: 0.050001) == 1)
        #expect(ScoreHistogram.bucket(of: 0.1) == 1)
        #expect(ScoreHistogram.bucket(of: 0.3) == 5)
        #expect(ScoreHistogram.bucket(of: 0.95) == 18)
        #expect(ScoreHistogram.bucket(of: 1) == 19)
        #expect(ScoreHistogram.bucket(of: 1.5) == 20)
        for k in 1...20 {
            let bound = Double(k) / 20
            #expect(ScoreHistogram.bucket(of: bound) == k - 1)
            #expect(ScoreHistogram.bucket(of: bound.nextUp) == k)
        }
    }

    @Test func renderIsCumulativeWithSumAndCount() {
        let histogram = ScoreHistogram(labels: [("model", "m"), ("version", "1")])
        var tally = PredictionTally(labelCount: 2)
        for score in [0.01, 0.02, 0.4, 0.99] {
            tally.add(Prediction(score: score, label: score >= 0.5 ? "b" : "a", isPositive: score >= 0.5))
        }
        histogram.add(tally)
        var text = ""
        histogram.render(name: "s", into: &text)
        #expect(sample(text, #"s_bucket{model="m",version="1",le="0.05"}"#) == 2)
        #expect(sample(text, #"s_bucket{model="m",version="1",le="0.4"}"#) == 3)
        #expect(sample(text, #"s_bucket{model="m",version="1",le="0.95"}"#) == 3)
        #expect(sample(text, #"s_bucket{model="m",version="1",le="1.0"}"#) == 4)
        #expect(sample(text, #"s_bucket{model="m",version="1",le="+Inf"}"#) == 4)
        #expect(sample(text, #"s_count{model="m",version="1"}"#) == 4)
        #expect(abs((sample(text, #"s_sum{model="m",version="1"}"#) ?? 0) - 1.42) < 1e-9)
        #expect(tally.count(ofLabel: 0) == 3)
        #expect(tally.count(ofLabel: 1) == 1)
    }

    /// The tally counts the first classes without the heap and the rest in an array of its
    /// own; every class of a many-class model reaches its counter either way.
    @Test func everyClassOfAManyClassModelIsCounted() {
        let metrics = ServiceMetrics()
        let classes = (0..<20).map { "class\($0)" }
        let handles = metrics.modelVersion(model: "m", version: 1, labels: classes)
        var tally = handles.tally()
        for (index, repeats) in [(0, 1), (15, 2), (16, 3), (19, 4)] {
            for _ in 0..<repeats {
                let probabilities = (0..<20).map { $0 == index ? 0.81 : 0.01 }
                let scores = ClassScores(classes: classes, probabilities: probabilities, labelIndex: index)
                tally.add(Prediction(score: 0.99, label: classes[index], isPositive: true, classScores: scores))
            }
        }
        handles.record(tally)
        let page = String(decoding: metrics.exposition(server: ServerCounters(), models: []), as: UTF8.self)
        for (index, expected) in [(0, 1), (1, 0), (15, 2), (16, 3), (17, 0), (19, 4)] {
            #expect(sample(page, #"vigia_predictions_total{model="m",version="1",label="class\#(index)"}"#) == Double(expected), "class\(index)")
        }
        #expect(sample(page, #"vigia_prediction_score_count{model="m",version="1"}"#) == 10)
    }
}

/// Series of a version that is no longer loaded leave the page, so a long-lived process that
/// swaps versions all day keeps a bounded label set.
@Suite(.timeLimit(.minutes(10))) struct LatencyHistogramTests {
    @Test func durationsFallIntoTheFirstBucketWhoseBoundIsAtOrAboveThem() {
        let bounds = LatencyHistogram.boundsInNanoseconds
        #expect(bounds.first == 500_000 && bounds.last == 10_000_000_000)
        #expect(LatencyHistogram.bucket(ofNanoseconds: 0) == 0)
        for (index, bound) in bounds.enumerated() {
            #expect(LatencyHistogram.bucket(ofNanoseconds: bound) == index)
            #expect(LatencyHistogram.bucket(ofNanoseconds: bound + 1) == index + 1)
        }
        #expect(LatencyHistogram.bucket(ofNanoseconds: .max) == bounds.count)
    }

    @Test func secondsAreWrittenExactly() {
        #expect(LatencyHistogram.secondsText(0) == "0.0")
        #expect(LatencyHistogram.secondsText(500_000) == "0.0005")
        #expect(LatencyHistogram.secondsText(2_500_000_000) == "2.5")
        #expect(LatencyHistogram.secondsText(10_000_000_000) == "10.0")
        #expect(LatencyHistogram.secondsText(12_345_678_901) == "12.345678901")
        #expect(LatencyHistogram.secondsText(1) == "0.000000001")
        #expect(LatencyHistogram.nanoseconds(.microseconds(1.5)) == 1_500)
        #expect(LatencyHistogram.nanoseconds(.seconds(Int64.max)) == .max)
    }

    @Test func renderIsCumulativeWithExactSumAndCount() {
        let histogram = LatencyHistogram(labels: [("route", "/r"), ("method", "GET")])
        for duration: Duration in [.microseconds(100), .microseconds(500), .microseconds(501), .milliseconds(30), .seconds(11), .seconds(-1)] {
            histogram.record(duration)
        }
        var text = ""
        histogram.render(name: "d", into: &text)
        let labels = #"route="/r",method="GET""#
        #expect(sample(text, "d_bucket{\(labels),le=\"0.0005\"}") == 3)  // -1 s counts as 0, 500 µs is inclusive
        #expect(sample(text, "d_bucket{\(labels),le=\"0.001\"}") == 4)
        #expect(sample(text, "d_bucket{\(labels),le=\"0.025\"}") == 4)
        #expect(sample(text, "d_bucket{\(labels),le=\"0.05\"}") == 5)
        #expect(sample(text, "d_bucket{\(labels),le=\"10.0\"}") == 5)
        #expect(sample(text, "d_bucket{\(labels),le=\"+Inf\"}") == 6)
        #expect(sample(text, "d_count{\(labels)}") == 6)
        #expect(text.contains("d_sum{\(labels)} 11.031101\n"), "\(text)")
        #expect(text.split(separator: "\n").count == 17)
    }

    /// Loops record without a lock: every record from concurrent threads is counted.
    @Test func concurrentRecordsAreAllCounted() async {
        let histogram = LatencyHistogram(labels: [("route", "/r"), ("method", "GET")])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in 0..<10_000 { histogram.record(.microseconds((task * 10_000 + i) % 3_000)) }
                }
            }
        }
        var text = ""
        histogram.render(name: "d", into: &text)
        #expect(sample(text, #"d_count{route="/r",method="GET"}"#) == 80_000)
        // The 80,000 durations are n % 3000 µs for n in 0..<80,000.
        let underHalfMillisecond = (0..<80_000).filter { $0 % 3_000 <= 500 }.count
        #expect(sample(text, #"d_bucket{route="/r",method="GET",le="0.0005"}"#) == Double(underHalfMillisecond))
    }
}

@Suite(.timeLimit(.minutes(10))) struct VersionSeriesTests {
    @Test func hundredsOfSwapsLeaveOnlyTheLoadedVersionsOnThePage() {
        let metrics = ServiceMetrics()
        var loaded: [ModelVersionMetrics] = []
        for version in 1...300 {
            let handles = metrics.modelVersion(model: "m", version: version, labels: ["allowed", "prohibited"])
            var tally = handles.tally()
            tally.add(Prediction(score: 0.9, label: "prohibited", isPositive: true))
            handles.record(tally)
            loaded.append(handles)
            if version > 2 { metrics.versionUnloaded(model: "m", version: version - 2) }  // serving + previous stay
        }
        let page = String(decoding: metrics.exposition(server: ServerCounters(), models: []), as: UTF8.self)
        var versionLabels = Set<String>()
        for line in page.split(separator: "\n") where !line.hasPrefix("#") {
            guard let range = line.range(of: #"version=""#) else { continue }
            versionLabels.insert(String(line[range.upperBound...].prefix { $0 != "\"" }))
        }
        #expect(versionLabels.subtracting([VigiaVersion.current]) == ["299", "300"])
        #expect(sample(page, #"vigia_predictions_total{model="m",version="300",label="prohibited"}"#) == 1)
        #expect(sample(page, #"vigia_prediction_score_count{model="m",version="299"}"#) == 1)
        #expect(page.count < 20_000, "the page does not grow with the number of swaps (\(page.count) bytes)")

        // Loaded again, a version starts new series.
        let again = metrics.modelVersion(model: "m", version: 5, labels: ["allowed", "prohibited"])
        var tally = again.tally()
        tally.add(Prediction(score: 0.1, label: "allowed", isPositive: false))
        again.record(tally)
        let later = String(decoding: metrics.exposition(server: ServerCounters(), models: []), as: UTF8.self)
        #expect(sample(later, #"vigia_predictions_total{model="m",version="5",label="allowed"}"#) == 1)
        #expect(sample(later, #"vigia_predictions_total{model="m",version="5",label="prohibited"}"#) == 0)
    }

    /// The registry's unload event reaches the metrics in the running service.
    @Test func aVersionUnloadedByTheRegistryLeavesTheMetricsPage() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try withService(storage: storage) { service, port in
            let client = try TestClient(port: port)
            #expect(try client.postJSON(predictPath, #"{"instances":[\#(listingJSON)]}"#).status == 200)
            let before = try client.request("GET", "/metrics").text
            #expect(sample(before, #"vigia_prediction_score_count{model="prohibited-items",version="1"}"#) == 1)
            // One at a time (both at once could make 1 the previous version of 3): serving 3
            // with 2 as the previous version, 1 is unloaded.
            try storage.publish(version: 2)
            #expect(eventually { service.registry.status(model: "prohibited-items")?.servingVersion == 2 })
            try storage.publish(version: 3)
            #expect(eventually {
                service.registry.status(model: "prohibited-items")?.versions.first { $0.version == 1 }.map {
                    if case .available = $0.state { false } else { true }
                } ?? true
            })
            #expect(eventually { service.registry.status(model: "prohibited-items")?.servingVersion == 3 })
            // The unload event follows the state change: wait for the page, not the status.
            #expect(eventually { (try? client.request("GET", "/metrics").text.contains(#"version="1""#)) == false })
            let after = try client.request("GET", "/metrics").text
            #expect(sample(after, #"vigia_prediction_score_count{model="prohibited-items",version="3"}"#) == 0)
        }
    }
}
