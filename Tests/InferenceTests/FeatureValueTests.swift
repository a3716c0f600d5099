import FoundationEssentials
import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct FeatureValueTests {
    @Test func decodesJSONScalarsWithoutConfusingNumbersAndBooleans() throws {
        let json = #"{"one": 1, "zero": 0, "yes": true, "no": false, "none": null, "text": "1", "real": 2.5}"#
        let values = try JSONDecoder().decode([String: FeatureValue].self, from: Data(json.utf8))
        #expect(values == ["one": .number(1), "zero": .number(0), "yes": .bool(true), "no": .bool(false),
                           "none": .missing, "text": .string("1"), "real": .number(2.5)])
    }

    @Test func rejectsArraysAndObjects() {
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([String: FeatureValue].self, from: Data(#"{"a": [1]}"#.utf8))
        }
    }

    @Test func roundTripsThroughJSON() throws {
        let values: [FeatureValue] = [.string("ação"), .number(-3.25), .bool(true), .missing]
        let data = try JSONEncoder().encode(values)
        #expect(try JSONDecoder().decode([FeatureValue].self, from: data) == values)
    }
}
