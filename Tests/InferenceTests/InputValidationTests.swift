import Testing
@testable import Inference

@Suite struct InputValidationTests {
    let signature = Signature(fields: [
        FieldSpec(name: "title", type: .string, required: true, constraints: FieldConstraints(minLength: 2, maxLength: 5)),
        FieldSpec(name: "site_id", type: .string, constraints: FieldConstraints(allowed: ["MLB", "MLA"])),
        FieldSpec(name: "price_usd", type: .number, constraints: FieldConstraints(minimum: 0, maximum: 1000)),
        FieldSpec(name: "seller_age_days", type: .integer),
        FieldSpec(name: "has_warranty", type: .boolean),
    ])

    @Test func acceptsValidInputAndMissingOptionalFields() {
        #expect(signature.problems(in: ["title": .string("ação"), "price_usd": .number(0), "seller_age_days": .number(12),
                                        "has_warranty": .bool(false), "site_id": .string("MLB")]) == [])
        #expect(signature.problems(in: ["title": .string("ok")]) == [])
    }

    @Test func reportsMissingRequiredFields() {
        #expect(signature.problems(in: [String: FeatureValue]()) == [InputProblem(field: "title", problem: "is required")])
        #expect(signature.problems(in: [FeatureValue]()).map(\.field) == ["title"])
    }

    @Test func reportsWrongTypes() {
        let problems = signature.problems(in: [.number(1), .bool(true), .string("3"), .number(2.5), .string("yes")])
        #expect(problems.map(\.description) == [
            "title: must be a string", "site_id: must be a string", "price_usd: must be a number",
            "seller_age_days: must be an integer", "has_warranty: must be a boolean",
        ])
    }

    @Test func reportsBrokenConstraints() {
        let problems = signature.problems(in: ["title": .string("x"), "site_id": .string("MLX"), "price_usd": .number(-1)])
        #expect(problems.map(\.description) == [
            "title: must be at least 2 characters long", "site_id: must be one of \"MLB\", \"MLA\"", "price_usd: must be ≥ 0",
        ])
        #expect(signature.problems(in: ["title": .string("çççççç")]).map(\.problem) == ["must be at most 5 characters long"])
        #expect(signature.problems(in: ["title": .string("ok"), "price_usd": .number(.nan)]).map(\.problem) == ["must be a finite number"])
    }
}
