import Foundation
import Glibc
import HTTPTestClient
import Testing
@testable import Service

@Suite(.serialized, .exclusive(timeLimit: .minutes(10))) struct RolloutEndToEndTests {
    func benign(_ i: Int) -> String {
        #"{"id":"B\#(i)","site_id":"MLA","title":"Pistola de silicona caliente 40w para manualidades","category_id":"MLA1234","price_usd":12.5,"seller_age_days":900,"seller_sales":340,"seller_reputation":"gold"}"#
    }

    @Test func aGuardAbortsADeliberatelyBadCanaryAndTheStatusSaysWhy() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        // The bad canary: the same scores with threshold 0, so it calls every listing prohibited.
        try publishFile(storage, "rollout.json", #"{"shadow": {"version": 2}, "canary": {"version": 2, "weight": 0.5}, "guards": {"min_samples": 20, "max_disagreement": 0.05}}"#)
        try storage.publish(version: 2) { $0["threshold"] = .number(0) }
        try withService(storage: storage) { service, port in
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            var status = try json(try client.request("GET", "/v1/models/prohibited-items"))
            #expect(status["serving_version"] == 1, "a version under rollout does not serve for being the newest")
            #expect(status["rollout"]?["canary"]?["version"] == 2)
            var byCanary = 0
            for i in 0..<40 {
                let response = try client.postJSON(predictPath, #"{"instances":[\#(benign(i))]}"#)
                #expect(response.status == 200, "\(response.text)")
                let body = try json(response)
                let prediction = try #require(body["predictions"]?.arrayValue?.first)
                if let version = prediction["model_version"]?.numberValue {
                    #expect(body["model_version"]?.numberValue == version)
                    if version == 2 { byCanary += 1; #expect(prediction["label"] == "prohibited") }
                }
                // Sticky: the same id gets the same version again (until the canary is stopped).
            }
            #expect(byCanary > 0)
            // The monitor counts the abort once the registry has stopped (and recorded) it.
            let aborted = eventually(within: 60) {
                let body = try? json(try client.request("GET", "/v1/models/prohibited-items"))
                return body?["rollout"]?["aborted"]?["automatic"] == true && body?["rollout"]?["automatic_aborts"] == 1
            }
            #expect(aborted)
            status = try json(try client.request("GET", "/v1/models/prohibited-items"))
            #expect(Schemas.modelStatus.conforms(status), "\(Schemas.modelStatus.validate(status))")
            let reason = status["rollout"]?["aborted"]?["reason"]?.stringValue ?? ""
            #expect(reason.contains("max_disagreement"), "\(reason)")
            // Stopped: every listing goes to the serving version, and predictions carry no per-listing version.
            for i in 0..<20 {
                let body = try json(try client.postJSON(predictPath, #"{"instances":[\#(benign(i))]}"#))
                #expect(body["model_version"] == 1)
                #expect(body["predictions"]?.arrayValue?.first?["model_version"] == nil)
            }
            let metrics = try client.request("GET", "/metrics").text
            #expect(metrics.contains(#"vigia_rollout_automatic_aborts_total{model="prohibited-items"} 1"#))
            #expect(metrics.contains(#"vigia_input_listings_total{model="prohibited-items",field="title"}"#))
            let skew = try #require(status["input_skew"]?["fields"]?.arrayValue)
            #expect(skew.contains { $0["name"] == "title" && ($0["observed"]?.numberValue ?? 0) > 0 })
            #expect(status["rollout"]?["aborted"]?["record_error"] == .null)
        }
        // The abort was written next to rollout.json.
        let recorded = storage.modelDirectory.appending(path: "rollout-abort.json")
        #expect(FileManager.default.fileExists(atPath: recorded.path))

        // Restarted on the same storage: the canary stays stopped, as an earlier guard abort.
        try withService(storage: storage) { service, port in
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            let status = try json(try client.request("GET", "/v1/models/prohibited-items"))
            #expect(Schemas.modelStatus.conforms(status), "\(Schemas.modelStatus.validate(status))")
            #expect(status["rollout"]?["aborted"]?["earlier"] == true)
            #expect(status["rollout"]?["aborted"]?["automatic"] == true)
            #expect((status["rollout"]?["aborted"]?["reason"]?.stringValue ?? "").contains("max_disagreement"))
            for i in 0..<40 {
                let body = try json(try client.postJSON(predictPath, #"{"instances":[\#(benign(i))]}"#))
                #expect(body["model_version"] == 1)
                #expect(body["predictions"]?.arrayValue?.first?["model_version"] == nil, "no listing goes to the stopped canary")
            }
            let metrics = try client.request("GET", "/metrics").text
            #expect(metrics.contains(#"vigia_rollout_canary_weight{model="prohibited-items"} 0"#))
            #expect(metrics.contains(#"vigia_rollout_canary_aborted{model="prohibited-items"} 1"#))

            // A new canary in rollout.json answers its share again (and the old record goes).
            try publishFile(storage, "rollout.json", #"{"canary": {"version": 2, "weight": 0.5}, "guards": {"min_samples": 100000}}"#)
            service.registry.testsOnly_pollNow()
            var byCanary = 0
            for i in 0..<40 {
                let body = try json(try client.postJSON(predictPath, #"{"instances":[\#(benign(i))]}"#))
                if body["predictions"]?.arrayValue?.first?["model_version"] == 2 { byCanary += 1 }
            }
            #expect(byCanary > 0)
            #expect(try json(try client.request("GET", "/v1/models/prohibited-items"))["rollout"]?["aborted"] == .null)
            #expect(!FileManager.default.fileExists(atPath: recorded.path))
        }
    }

    @Test func aGuardAbortStorageCannotRecordIsLoggedCountedAndHeldInMemory() throws {
        let storage = try TestStorage()
        defer { storage.destroy() }
        try storage.publish(version: 1)
        try publishFile(storage, "rollout.json", #"{"canary": {"version": 2, "weight": 0.5}, "guards": {"min_samples": 10, "max_disagreement": 0.05}}"#)
        try storage.publish(version: 2) { $0["threshold"] = .number(0) }
        // A directory where rollout-abort.json would go: the rename fails, as on a read-only volume.
        try FileManager.default.createDirectory(
            at: storage.modelDirectory.appending(path: "rollout-abort.json/x"), withIntermediateDirectories: true)
        let log = CapturedLog()
        try withService(storage: storage, logSink: log.sink) { service, port in
            service.registry.testsOnly_pollNow()
            let client = try TestClient(port: port)
            for i in 0..<40 {
                #expect(try client.postJSON(predictPath, #"{"instances":[\#(benign(i))]}"#).status == 200)
            }
            let counted = eventually(within: 60) {
                let metrics = (try? client.request("GET", "/metrics").text) ?? ""
                return metrics.contains(#"vigia_rollout_abort_record_failures_total{model="prohibited-items"} 1"#)
            }
            #expect(counted)
            let status = try json(try client.request("GET", "/v1/models/prohibited-items"))
            #expect(Schemas.modelStatus.conforms(status), "\(Schemas.modelStatus.validate(status))")
            let problem = status["rollout"]?["aborted"]?["record_error"]?.stringValue ?? ""
            #expect(problem.contains("rollout-abort.json"), "\(problem)")
            #expect(status["rollout"]?["abort_record_failures"] == 1)
            #expect(log.all.contains { $0.contains("guard abort not recorded in storage") && $0.contains("rollout-abort.json") })
            for i in 0..<20 {
                #expect(try json(try client.postJSON(predictPath, #"{"instances":[\#(benign(i))]}"#))["model_version"] == 1)
            }
        }
    }
}
