import Inference
import Monitoring
import Testing

/// A profile built from training rows, then live listings compared with it.
@Suite(.timeLimit(.minutes(10))) struct InputSkewTests {
    static let signature = Signature(fields: [
        FieldSpec(name: "id", type: .string, required: true),
        FieldSpec(name: "title", type: .string, required: true),
        FieldSpec(name: "category_id", type: .string),
        FieldSpec(name: "price_usd", type: .number),
    ], idField: "id")

    static let pipeline = try! FeaturePipeline(spec: PipelineSpec(transformers: [
        .text(TextSpec(field: "title", vectorizer: .tfidf(TfidfSpec(
            vocabulary: ["pistola": 0, "capa": 1, "celular": 2], idf: .inline([1, 1, 1]))))),
        .categorical(CategoricalSpec(field: "category_id", categories: ["MLB1", "MLB2"])),
        .numeric(NumericSpec(field: "price_usd")),
    ]), signature: signature)

    /// 100 training rows: prices 1…100, categories MLB1/MLB2 alternating, 2-term titles in the vocabulary, 10 % missing prices.
    static let training: [[FeatureValue]] = (1...100).map { i in row(i) }

    static func row(_ i: Int) -> [FeatureValue] {
        let title: FeatureValue = .string(i % 2 == 0 ? "capa celular" : "pistola capa")
        let category: FeatureValue = .string(i % 2 == 0 ? "MLB1" : "MLB2")
        let price: FeatureValue = i % 10 == 0 ? .missing : .number(Double(i))
        return [.string("T\(i)"), title, category, price]
    }

    static var profile: InputProfile { InputProfile.build(rows: training, signature: signature, pipeline: pipeline) }

    @Test func theProfileDescribesTheTrainingRows() throws {
        let profile = Self.profile
        #expect(profile.rows == 100)
        #expect(profile.fields.map(\.name) == ["title", "category_id", "price_usd"])
        let title = profile.fields[0], category = profile.fields[1], price = profile.fields[2]
        #expect(title.kind == .text && title.vocabularyShare == 1 && title.quantiles?.first == 2 && title.quantiles?.last == 2)
        #expect(category.kind == .categorical && category.distinct == 2 && category.otherShare == 0)
        #expect(category.top == [CategoryShare(value: "MLB1", share: 0.5), CategoryShare(value: "MLB2", share: 0.5)])
        #expect(price.kind == .numeric && abs(price.missingRate - 0.1) < 1e-12)
        #expect(price.quantiles?.first == 1 && price.quantiles?.last == 99)
        let bins = try #require(price.bins)
        #expect(bins.shares.count == bins.edges.count + 1)
        #expect(abs(bins.shares.reduce(0, +) - 1) < 1e-12)
    }

    @Test func listingsLikeTheTrainingDataShowNoSkew() {
        var skew = InputSkew(profile: Self.profile, signature: Self.signature, pipeline: Self.pipeline, window: 1000)
        for row in Self.training { skew.observe(row) }
        let report = skew.report
        #expect(skew.listings == 100)
        for field in report {
            #expect(field.counts.unseen == 0 && field.counts.outsideRange == 0 && field.counts.outOfVocabulary == 0, "\(field.name)")
            #expect((field.psi ?? 0) < 1e-9, "\(field.name): \(field.psi ?? -1)")
        }
        #expect(report[2].counts.missing == 10)
    }

    @Test func aShiftedStreamMovesEveryCounterAndThePSI() {
        var skew = InputSkew(profile: Self.profile, signature: Self.signature, pipeline: Self.pipeline, window: 50)
        for i in 0..<200 {
            skew.observe([.string("S\(i)"), .string("arma de fogo nova pistola"), .string("MLB9"), .number(5000)])
        }
        let report = skew.report
        let title = report[0], category = report[1], price = report[2]
        #expect(title.counts.terms == 1000 && title.counts.outOfVocabulary == 800 && title.counts.outsideRange == 200)
        #expect(title.outOfVocabularyShare == 0.8)  // 5 terms, only "pistola" known
        #expect(category.counts.unseen == 200)
        #expect(price.counts.outsideRange == 200 && price.counts.missing == 0)
        #expect(price.windowValues == 50)
        for field in report { #expect((field.psi ?? 0) > 1, "\(field.name)") }
    }

    /// Term counts the scoring pass made (here the pipeline's own `termCount`, as the scoring
    /// pass gives it: see ScoringPathTests), read from a slice of a request's buffer, give the
    /// report that counting the terms again gives.
    @Test func countsFromTheScoringPassGiveTheSameReport() {
        var counted = InputSkew(profile: Self.profile, signature: Self.signature, pipeline: Self.pipeline, window: 50)
        var recounted = counted
        let rows = (0..<120).map { i -> [FeatureValue] in
            i % 3 == 0 ? Self.row(i) : [.string("S\(i)"), i % 7 == 0 ? .missing : .string("arma pistola \(i)"), .string("MLB9"), .number(Double(i))]
        }
        let fields = Self.signature.fields.count
        // Listing i's counts at i * fields, after one unrelated listing's worth of entries.
        var buffer = [TermCount?](repeating: TermCount(terms: 99, inVocabulary: 0), count: fields)
        for row in rows { buffer += (0..<fields).map { Self.pipeline.termCount(row[$0], field: $0) } }
        for (i, row) in rows.enumerated() {
            counted.observe(row, termCounts: buffer[(i + 1) * fields..<(i + 2) * fields])
            recounted.observe(row)
        }
        #expect(counted.report == recounted.report)
        #expect(counted.report[0].counts.missing > 0 && counted.report[0].counts.outOfVocabulary > 0)
    }

    @Test func theWindowForgetsOldValues() {
        var skew = InputSkew(profile: Self.profile, signature: Self.signature, pipeline: Self.pipeline, window: 100)
        for _ in 0..<100 { skew.observe([.string("x"), .string("capa"), .string("MLB9"), .number(5000)]) }
        #expect((skew.report[2].psi ?? 0) > 1)
        for row in Self.training { skew.observe(row) }
        // The window now holds only training-like values (the 10 missing prices never enter it).
        #expect((skew.report[1].psi ?? 1) < 1e-9)
        #expect(skew.report[2].counts.outsideRange == 100)
    }
}
