import Foundation
import Glibc
import HTTPTestClient
import Inference
import JSON
import Monitoring
import Synchronization
import Testing
@testable import Service

/// A door a background thread waits at while it is shut (bounded: it opens itself after two
/// minutes, so a test that forgets to open it cannot hang the run). Counts the threads it held.
final class Gate: Sendable {
    private let shut = Atomic<Bool>(false)
    let held = Atomic<Int>(0)

    func close() { shut.store(true, ordering: .releasing) }
    func open() { shut.store(false, ordering: .releasing) }

    func pass() {
        guard shut.load(ordering: .acquiring) else { return }
        held.add(1, ordering: .relaxed)
        _ = eventually(within: 120) { !shut.load(ordering: .acquiring) }
    }
}

/// Rows of data/listings.csv as listing JSON objects (the signature's fields, in file order).
func trainingListings(_ count: Int) throws -> [String] {
    let text = try String(contentsOf: repositoryRoot.appending(path: "data/listings.csv"), encoding: .utf8)
    var rows: [String] = []
    for line in text.split(separator: "\n").dropFirst() {
        var fields: [String] = []
        var field = ""
        var quoted = false
        for c in line {
            if c == "\"" { quoted.toggle() } else if c == ",", !quoted { fields.append(field); field = "" } else { field.append(c) }
        }
        fields.append(field)
        guard fields.count >= 8 else { continue }
        func s(_ x: String) -> String { String(decoding: JSONWriter.encode(.string(x)), as: UTF8.self) }
        rows.append(#"{"id":\#(s(fields[0])),"site_id":\#(s(fields[1])),"title":\#(s(fields[2])),"category_id":\#(s(fields[3])),"price_usd":\#(fields[4]),"seller_age_days":\#(fields[5]),"seller_sales":\#(fields[6]),"seller_reputation":\#(s(fields[7]))}"#)
        if rows.count == count { break }
    }
    return rows
}

/// A listing with this id (the rest benign and constant).
func listing(id: String, extra: String = "") -> String {
    #"{"id":"\#(id)","site_id":"MLA","title":"Pistola de silicona caliente 40w para manualidades","category_id":"MLA1234","price_usd":12.5,"seller_age_days":900,"seller_sales":340,"seller_reputation":"gold"\#(extra)}"#
}

func instances(_ listings: [String]) -> String { #"{"instances":[\#(listings.joined(separator: ","))]}"# }

/// The value of one sample on the metrics page (nil: absent).
func metric(_ page: String, _ series: String) -> Double? {
    for line in page.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

/// Shadow, canary, skew, payload sampling and rollout control over loopback sockets, with the
/// service's own threads (and, where a test says so, its monitor worker or payload writer held).
@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct RolloutTrafficTests {
    static let model = "prohibited-items"
    static let statusPath = "/v1/models/prohibited-items"
    static let adminToken = "admin-rollout-0123456789abcdef"
    static var admin: [(String, String)] { [("Authorization", "Bearer \(adminToken)")] }

    @Test func aShadowUnderLoadLeavesEveryResponseUnchangedAndSkipsWhenItsWorkerIsHeld() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let rows = try trainingListings(24)
        // Bodies of 1 and of 4 listings.
        let bodies = rows.map { instances([$0]) } + stride(from: 0, to: 24, by: 4).map { instances(Array(rows[$0..<$0 + 4])) }
        let listingsPer = Array(repeating: 1, count: 24) + Array(repeating: 4, count: 6)
        let gate = Gate()
        try withService(storage: storage, environment: ["VIGIA_ROLLOUT_QUEUE_CAPACITY": "64", "VIGIA_SERVER_EVENT_LOOPS": "2"],
                        hooks: .init(monitorBeforeJob: gate.pass)) { service, port in
            let client = try TestClient(port: port)
            // The answers without a shadow.
            let reference = try bodies.map { body in
                let response = try client.postJSON(predictPath, body)
                #expect(response.status == 200, "\(response.text)")
                return response.body
            }
            // Version 2 (a different threshold, so the labels may differ) shadows version 1.
            try publishFile(storage, "rollout.json", #"{"shadow": {"version": 2}}"#)
            try storage.publish(version: 2) { $0["threshold"] = .number(0.3) }
            service.registry.testsOnly_pollNow()
            var status = try json(client.request("GET", Self.statusPath))
            #expect(status["serving_version"] == 1)
            #expect(status["rollout"]?["shadow"]?["version"] == 2)

            // Load: three clients on their own connections, every answer compared byte for byte.
            let clients = 3, rounds = 4
            let mismatches = Mutex<[String]>([])
            let sent = Atomic<Int>(0)
            let done = Atomic<Int>(0)
            for c in 0..<clients {
                Thread {
                    defer { done.add(1, ordering: .releasing) }
                    do {
                        let connection = try TestClient(port: port)
                        for round in 0..<rounds {
                            for k in bodies.indices {
                                let index = (k + c * 7 + round) % bodies.count
                                let response = try connection.postJSON(predictPath, bodies[index])
                                sent.add(listingsPer[index], ordering: .relaxed)
                                if response.status != 200 || response.body != reference[index] {
                                    mismatches.withLock { $0.append("\(response.status): \(response.text)") }
                                }
                            }
                        }
                    } catch {
                        mismatches.withLock { $0.append("client: \(error)") }
                    }
                }.start()
            }
            #expect(eventually(within: 300) { done.load(ordering: .acquiring) == clients })
            #expect(mismatches.withLock { $0 } == [])
            let total = sent.load(ordering: .relaxed)
            #expect(total == clients * rounds * 48)
            func figures() throws -> (compared: Int, skipped: Int) {
                let rollout = try json(client.request("GET", Self.statusPath))["rollout"]
                return (Int(rollout?["shadow_comparison"]?["listings"]?.numberValue ?? 0),
                        Int(rollout?["skipped_listings"]?.numberValue ?? 0))
            }
            #expect(eventually(within: 120) { (try? figures()).map { $0.compared + $0.skipped == total } ?? false })
            let afterLoad = try figures()
            #expect(afterLoad.compared > 0)
            status = try json(client.request("GET", Self.statusPath))
            #expect(Schemas.modelStatus.conforms(status), "\(Schemas.modelStatus.validate(status))")
            let comparison = status["rollout"]?["shadow_comparison"]
            #expect(comparison?["version"] == 2)
            #expect(comparison?["mean_abs_delta"] == 0, "the same weights give the same scores")
            var page = try client.request("GET", "/metrics").text
            #expect(metric(page, #"vigia_rollout_compared_listings{model="prohibited-items",role="shadow"}"#) == Double(afterLoad.compared))

            // The worker held: one request waits with it, capacity (64) listings queue, and
            // every further listing is skipped and counted; the answers never wait.
            gate.close()
            let held = 100
            for i in 0..<held {
                let response = try client.postJSON(predictPath, bodies[i % 24])
                #expect(response.status == 200 && response.body == reference[i % 24])
            }
            #expect(eventually(within: 60) { gate.held.load(ordering: .relaxed) >= 1 })
            let whileHeld = try figures()
            #expect(whileHeld.skipped - afterLoad.skipped >= held - 1 - 64)
            page = try client.request("GET", "/metrics").text
            #expect(metric(page, #"vigia_monitor_skipped_listings_total{model="prohibited-items"}"#) == Double(whileHeld.skipped))
            gate.open()
            #expect(eventually(within: 120) { (try? figures()).map { $0.compared + $0.skipped == total + held } ?? false })
            #expect(try figures().compared > afterLoad.compared)
        }
    }

    @Test func aCanaryAnswersItsShareStickyByIdAndPinnedRequestsAreNotSplit() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let weight = 0.3
        try publishFile(storage, "rollout.json", #"{"canary": {"version": 2, "weight": 0.3}}"#)
        // Version 2 calls every listing prohibited, so its answers are told apart by their label too.
        try storage.publish(version: 2) { $0["threshold"] = .number(0) }
        try publishFile(storage, "labels.json", #"{"stable": 1}"#)
        try withService(storage: storage) { service, port in
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            let status = try json(client.request("GET", Self.statusPath))
            #expect(status["serving_version"] == 1)
            #expect(status["rollout"]?["canary"]?["weight"]?.numberValue == weight)

            // 600 fixed ids, 10 per request.
            let ids = (0..<600).map { "S\($0)" }
            var answeredBy: [String: Int] = [:]
            for start in stride(from: 0, to: ids.count, by: 10) {
                let batch = Array(ids[start..<start + 10])
                let response = try client.postJSON(predictPath, instances(batch.map { listing(id: $0) }))
                #expect(response.status == 200, "\(response.text)")
                let predictions = try #require(try json(response)["predictions"]?.arrayValue)
                #expect(predictions.count == 10)
                for (id, prediction) in zip(batch, predictions) {
                    let version = Int(prediction["model_version"]?.numberValue ?? -1)
                    answeredBy[id] = version
                    #expect(prediction["id"] == .string(id))
                    #expect(version == (CanarySplit.goesToCanary(id: FeatureText(id), weight: weight) ? 2 : 1))
                    if version == 2 { #expect(prediction["label"] == "prohibited") }
                }
            }
            // The share: within 4.5 standard deviations of a binomial(600, 0.3) count (180 ± 44).
            let byCanary = answeredBy.values.filter { $0 == 2 }.count
            let sd = (600 * weight * (1 - weight)).squareRoot()
            #expect(abs(Double(byCanary) - 600 * weight) <= 4.5 * sd, "\(byCanary) of 600 by the canary")

            // Sticky: one listing per request, in another order, gets the same version again,
            // and the response's model_version names it.
            for id in ids.reversed().prefix(150) {
                let body = try json(client.postJSON(predictPath, instances([listing(id: id)])))
                #expect(body["model_version"]?.numberValue == Double(answeredBy[id] ?? -1), "\(id)")
                #expect(body["predictions"]?.arrayValue?.first?["model_version"]?.numberValue == Double(answeredBy[id] ?? -1))
            }

            // Open Inference Protocol: parameters.model_versions names each listing's version.
            let v2IDs = Array(ids.prefix(8))
            let column = { (values: [String]) in "[" + values.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
            let inputs = [
                ("id", "BYTES", column(v2IDs)), ("site_id", "BYTES", column(Array(repeating: "MLA", count: 8))),
                ("title", "BYTES", column(Array(repeating: "Pistola de silicona caliente 40w para manualidades", count: 8))),
                ("category_id", "BYTES", column(Array(repeating: "MLA1234", count: 8))),
                ("price_usd", "FP64", "[" + Array(repeating: "12.5", count: 8).joined(separator: ",") + "]"),
                ("seller_age_days", "INT64", "[" + Array(repeating: "900", count: 8).joined(separator: ",") + "]"),
                ("seller_sales", "INT64", "[" + Array(repeating: "340", count: 8).joined(separator: ",") + "]"),
                ("seller_reputation", "BYTES", column(Array(repeating: "gold", count: 8))),
            ].map { #"{"name":"\#($0.0)","datatype":"\#($0.1)","shape":[8,1],"data":\#($0.2)}"# }
            let v2 = try client.postJSON("/v2/models/\(Self.model)/infer", #"{"inputs":[\#(inputs.joined(separator: ","))]}"#)
            #expect(v2.status == 200, "\(v2.text)")
            let versions = try json(v2)["parameters"]?["model_versions"]?.arrayValue?.compactMap(\.numberValue).map(Int.init)
            #expect(versions == v2IDs.map { answeredBy[$0] ?? -1 })

            // Version- and label-pinned requests are never split.
            let canaryIDs = ids.filter { answeredBy[$0] == 2 }.prefix(10)
            #expect(canaryIDs.count == 10)
            for (path, version) in [("/v1/models/\(Self.model)/versions/1:predict", 1), ("/v1/models/\(Self.model)/labels/stable:predict", 1),
                                    ("/v1/models/\(Self.model)/versions/2:predict", 2)] {
                let body = try json(client.postJSON(path, instances(canaryIDs.map { listing(id: $0) })))
                #expect(body["model_version"]?.numberValue == Double(version), "\(path)")
                #expect(body["predictions"]?.arrayValue?.allSatisfy { $0["model_version"] == nil } == true, "\(path)")
            }
            let v2Pinned = try json(client.postJSON("/v2/models/\(Self.model)/versions/1/infer", #"{"inputs":[\#(inputs.joined(separator: ","))]}"#))
            #expect(v2Pinned["model_version"] == "1")
            #expect(v2Pinned["parameters"]?["model_versions"] == nil)
        }
    }

    @Test func skewedListingsMoveTheSkewCountersPSIAndMetrics() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let rows = try trainingListings(200)
        try withService(storage: storage, environment: ["VIGIA_MONITORING_SKEW_WINDOW": "100"]) { _, port in
            let client = try TestClient(port: port)
            func fields() throws -> (listings: Int, byName: [String: JSONValue]) {
                let skew = try json(client.request("GET", Self.statusPath))["input_skew"]
                var byName: [String: JSONValue] = [:]
                for field in skew?["fields"]?.arrayValue ?? [] { if let name = field["name"]?.stringValue { byName[name] = field } }
                return (Int(skew?["listings"]?.numberValue ?? 0), byName)
            }
            func number(_ f: [String: JSONValue], _ field: String, _ member: String) -> Double {
                f[field]?[member]?.numberValue ?? .nan
            }
            // Training rows: in range, seen categories.
            for start in stride(from: 0, to: 200, by: 20) {
                #expect(try client.postJSON(predictPath, instances(Array(rows[start..<start + 20]))).status == 200)
            }
            #expect(eventually(within: 60) { (try? fields().listings) == 200 })
            let before = try fields().byName
            let psiBefore = number(before, "price_usd", "psi")
            let outsideBefore = number(before, "price_usd", "outside_range")
            let unseenBefore = number(before, "site_id", "unseen_categories")
            let oovShareBefore = number(before, "title", "out_of_vocabulary_share")
            #expect(psiBefore.isFinite)

            // Shifted: prices far above any training price, sites and words never seen.
            let shifted = (0..<200).map { i in
                #"{"id":"X\#(i)","site_id":"MZZ","title":"zqxv wrrbl kjhtq \#(i) plomf","category_id":"ZZZ\#(i % 7)","price_usd":\#(5_000_000 + i),"seller_age_days":900,"seller_sales":340,"seller_reputation":"gold"}"#
            }
            for start in stride(from: 0, to: 200, by: 20) {
                let response = try client.postJSON(predictPath, instances(Array(shifted[start..<start + 20])))
                #expect(response.status == 200, "a listing outside the training range still scores: \(response.text)")
            }
            #expect(eventually(within: 60) { (try? fields().listings) == 400 })
            let after = try fields().byName
            #expect(number(after, "price_usd", "outside_range") - outsideBefore == 200)
            #expect(number(after, "site_id", "unseen_categories") - unseenBefore == 200)
            // category_id's profile lists its 100 most frequent of 204 training values: a value
            // outside them may have been seen, so none is counted as unseen.
            #expect(number(after, "category_id", "unseen_categories") == 0)
            #expect(number(after, "title", "out_of_vocabulary_share") > oovShareBefore)
            #expect(number(after, "title", "out_of_vocabulary") > number(before, "title", "out_of_vocabulary"))
            let psiAfter = number(after, "price_usd", "psi")
            #expect(psiAfter > psiBefore && psiAfter > 1, "PSI of price_usd: \(psiBefore) → \(psiAfter)")
            #expect(number(after, "seller_reputation", "unseen_categories") == number(before, "seller_reputation", "unseen_categories"))

            let page = try client.request("GET", "/metrics").text
            #expect(metric(page, #"vigia_input_outside_range_total{model="prohibited-items",field="price_usd"}"#) == number(after, "price_usd", "outside_range"))
            #expect(metric(page, #"vigia_input_unseen_categories_total{model="prohibited-items",field="site_id"}"#) == number(after, "site_id", "unseen_categories"))
            #expect(metric(page, #"vigia_input_psi{model="prohibited-items",field="price_usd"}"#) == psiAfter)
            #expect(metric(page, #"vigia_input_listings_total{model="prohibited-items",field="price_usd"}"#) == 400)
        }
    }

    @Test func thePayloadLogRotatesAndDropsUnderASlowDiskWithoutSlowingAnswers() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        let path = storage.root.appending(path: "payload.jsonl").path
        let gate = Gate()
        let environment = ["VIGIA_PAYLOAD_LOG_PATH": path, "VIGIA_PAYLOAD_LOG_SAMPLE_RATE": "1", "VIGIA_PAYLOAD_LOG_MAX_BYTES": "4096",
                           "VIGIA_PAYLOAD_LOG_MAX_FILES": "3", "VIGIA_PAYLOAD_LOG_QUEUE_CAPACITY": "8"]
        try withService(storage: storage, environment: environment, hooks: .init(payloadBeforeWrite: gate.pass)) { service, port in
            let client = try TestClient(port: port)
            let payload = try #require(service.monitor.payload)
            // A member the signature does not name, and a token header: neither is written.
            let extra = #","seller_email":"someone@example.com""#
            // One line at a time (the monitor's worker hands lines over in bursts, and this
            // queue holds 8): every line is written while the disk keeps up.
            for i in 0..<40 {
                let response = try client.postJSON(predictPath, instances([listing(id: "P\(i)", extra: extra)]),
                                                   headers: [("Authorization", "Bearer secret-token-123")])
                #expect(response.status == 200, "\(response.text)")
                #expect(eventually(within: 60) { payload.written.load(ordering: .relaxed) == i + 1 })
            }
            #expect(payload.rotations.load(ordering: .relaxed) >= 2)
            let files = [path + ".2", path + ".1", path]  // oldest first
            #expect(!FileManager.default.fileExists(atPath: path + ".3"), "max_files 3 keeps three files")
            var lines: [String] = []
            for file in files {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                #expect(bytes.count > 0 && bytes.count <= 4096, "\(file): \(bytes.count) bytes")
                lines += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
            }
            #expect(!lines.joined().contains("secret-token") && !lines.joined().contains("someone@example.com"))
            for line in lines {
                let value = try JSONParser.parse(Array(line.utf8))
                #expect(value["model"] == "prohibited-items")
                #expect(value["versions"]?["serving"] == 1)
                #expect(value["answered_by"] == 1)
                #expect(value["scores"]?["serving"]?.numberValue != nil)
                #expect(value["request_id"]?.stringValue?.isEmpty == false)
                #expect(value["listing"]?.objectValue?.map(\.key).sorted()
                        == ["category_id", "id", "price_usd", "seller_age_days", "seller_reputation", "seller_sales", "site_id", "title"])
            }
            // Lines in order across the files, the newest in the current file.
            #expect(lines.last.map { $0.contains(#""id":"P39""#) } == true)

            // A slow disk: the writer waits at its first line; 8 lines queue, the rest are
            // dropped and counted; every answer comes back meanwhile.
            gate.close()
            let held = 60
            for i in 0..<held {
                #expect(try client.postJSON(predictPath, instances([listing(id: "Q\(i)")])).status == 200)
            }
            #expect(eventually(within: 60) { gate.held.load(ordering: .relaxed) == 1 })
            #expect(eventually(within: 60) { payload.dropped.load(ordering: .relaxed) >= held - 1 - 8 })
            var page = try client.request("GET", "/metrics").text
            #expect((metric(page, #"vigia_payload_log_lines_total{outcome="dropped"}"#) ?? 0) >= Double(held - 9))
            gate.open()
            #expect(eventually(within: 60) {
                payload.written.load(ordering: .relaxed) + payload.dropped.load(ordering: .relaxed) == 40 + held
            })
            page = try client.request("GET", "/metrics").text
            #expect(metric(page, #"vigia_payload_log_lines_total{outcome="written"}"#) == Double(payload.written.load(ordering: .relaxed)))
            #expect(metric(page, #"vigia_payload_log_rotations_total"#) == Double(payload.rotations.load(ordering: .relaxed)))
            #expect(payload.writeErrors.load(ordering: .relaxed) == 0)
        }
    }

    /// Version 1 serving, version 2 answering half the listings (rollout.json).
    static func halfCanaryStorage() throws -> TestStorage {
        let storage = try TestStorage()
        try storage.publish(version: 1)
        try publishFile(storage, "rollout.json", #"{"canary": {"version": 2, "weight": 0.5}}"#)
        try storage.publish(version: 2)
        return storage
    }

    @Test func aBadRolloutFileChangesNothingAndIsReported() throws {
        let storage = try Self.halfCanaryStorage()
        defer { storage.destroy() }
        let ids = (0..<40).map { "R\($0)" }
        let log = CapturedLog()
        let path = storage.modelDirectory.appending(path: "rollout.json").path
        /// The log lines about rollout.json being unusable.
        func problemLines() -> [String] {
            log.all.filter { $0.contains("control file unusable") && $0.contains(#""file":"\#(path)""#) }
        }
        try withService(storage: storage, logSink: log.sink) { service, port in
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            func versions() throws -> [Int] {
                let body = try json(client.postJSON(predictPath, instances(ids.map { listing(id: $0) })))
                return (body["predictions"]?.arrayValue ?? []).map { Int($0["model_version"]?.numberValue ?? -1) }
            }
            let split = try versions()
            #expect(Set(split) == [1, 2])
            for (bad, says) in [("{\"canary\": {\"version\": 2, \"weight\": 0.5", "JSON"),
                                (#"{"canary": {"version": 2, "weight": 1.5}}"#, "weight"),
                                (#"{"canary": {"version": 2, "weight": 0.5}, "shadows": {"version": 2}}"#, "shadows")] {
                let logged = problemLines().count
                try publishFile(storage, "rollout.json", bad)
                service.registry.testsOnly_pollNow()
                service.registry.testsOnly_pollNow()
                let status = try json(client.request("GET", Self.statusPath))
                let error = status["rollout"]?["file_error"]?.stringValue ?? ""
                #expect(error.localizedCaseInsensitiveContains(says), "\(bad) → \(error)")
                // Logged once (not every poll), with the file and the exact problem.
                let lines = problemLines()
                #expect(lines.count == logged + 1, "\(lines)")
                let line = try JSONParser.parse(Array((lines.last ?? "{}").utf8))
                #expect(line["error"]?.stringValue == error)
                #expect(line["model.name"] == "prohibited-items")
                #expect(status["rollout"]?["canary"]?["weight"]?.numberValue == 0.5)
                #expect(status["rollout"]?["source"] == "file")
                #expect(status["serving_version"] == 1)
                #expect(Schemas.modelStatus.conforms(status), "\(Schemas.modelStatus.validate(status))")
                #expect(try versions() == split, "the same listings go to the same versions")
            }
            // Repaired: the report goes away, and nothing more is logged as unusable.
            try publishFile(storage, "rollout.json", #"{"canary": {"version": 2, "weight": 0.5}}"#)
            service.registry.testsOnly_pollNow()
            #expect(try json(client.request("GET", Self.statusPath))["rollout"]?["file_error"] == .null)
            #expect(problemLines().count == 3)
        }
    }

    @Test func adminPromoteAndAbortLastUntilRestartAndTheFilesSurviveIt() throws {
        let storage = try Self.halfCanaryStorage()
        defer { storage.destroy() }
        let ids = (0..<40).map { "T\($0)" }
        let environment = ["VIGIA_AUTH_ADMIN_TOKENS": Self.adminToken]
        func started(_ service: VigiaService, _ port: Int) throws -> (TestClient, JSONValue) {
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            return (client, try json(client.request("GET", Self.statusPath)))
        }
        func versions(_ client: TestClient) throws -> Set<Int> {
            let body = try json(client.postJSON(predictPath, instances(ids.map { listing(id: $0) })))
            return Set((body["predictions"]?.arrayValue ?? []).map { Int($0["model_version"]?.numberValue ?? body["model_version"]?.numberValue ?? -1) })
        }
        try withService(storage: storage, environment: environment) { service, port in
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            #expect(try versions(client) == [1, 2])
            let aborted = try client.request("POST", "/v1/models/\(Self.model):abort", headers: Self.admin)
            #expect(aborted.status == 200, "\(aborted.text)")
            #expect(try json(aborted)["rollout"]?["aborted"]?["automatic"] == false)
            #expect(try versions(client) == [1])
            let promoted = try client.request("POST", "/v1/models/\(Self.model):promote", headers: Self.admin)
            #expect(promoted.status == 200, "\(promoted.text)")
            #expect(try json(promoted)["serving_version"] == 2)
            #expect(try versions(client) == [2])
        }
        // Restarted: the admin calls are gone, rollout.json is in force again.
        try withService(storage: storage, environment: environment) { service, port in
            let (client, status) = try started(service, port)
            #expect(status["serving_version"] == 1)
            #expect(status["rollout"]?["aborted"] == .null)
            #expect(try versions(client) == [1, 2])
            // Promoted fleet-wide with the files: pin.json names version 2, rollout.json goes.
            try publishFile(storage, "pin.json", #"{"version": 2}"#)
            try FileManager.default.removeItem(at: storage.modelDirectory.appending(path: "rollout.json"))
            service.registry.testsOnly_pollNow()
            #expect(try versions(client) == [2])
        }
        try withService(storage: storage, environment: environment) { service, port in
            let (client, status) = try started(service, port)
            #expect(status["serving_version"] == 2)
            #expect(status["rollout"] == .null)
            #expect(try versions(client) == [2])
        }
    }
}
