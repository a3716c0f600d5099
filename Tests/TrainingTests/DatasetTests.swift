import Testing
@testable import Training

/// A small schema for the loader tests: id, a text, a category, a number, a flag, a label.
let smallSchema = DatasetSchema(columns: [
    ColumnSpec(name: "id", kind: .identifier),
    ColumnSpec(name: "title", kind: .text),
    ColumnSpec(name: "site", kind: .categorical),
    ColumnSpec(name: "price", kind: .numeric),
    ColumnSpec(name: "used", kind: .boolean, required: false),
    ColumnSpec(name: "label", kind: .label),
])

func loadError(_ text: String, schema: DatasetSchema = smallSchema) -> DatasetError? {
    do {
        _ = try CSVDatasetLoader.load(text: text, schema: schema, name: "t")
        return nil
    } catch {
        return error
    }
}

@Suite(.timeLimit(.minutes(10))) struct CSVLoadingTests {
    @Test func parsesQuotedCommasAndUTF8() throws {
        let text = #"""
            id,title,site,price,used,label
            a1,"Remédio, caixa com 30 ""comprimidos""",MLB,12.5,1,1
            a2,Camiseta algodão ñandú 🙂,MLA,3,false,0

            """#
        let dataset = try CSVDatasetLoader.load(text: text, schema: smallSchema, name: "t")
        #expect(dataset.rows.count == 2)
        #expect(dataset.rows[0].values[1] == .string("Remédio, caixa com 30 \"comprimidos\""))
        #expect(dataset.rows[1].values[1] == .string("Camiseta algodão ñandú 🙂"))
        #expect(dataset.rows[0].values[3] == .number(12.5))
        #expect(dataset.rows[1].values[4] == .bool(false))
        #expect(dataset.labels == [1, 0])
        #expect(dataset.rows.map(\.line) == [2, 3])
    }

    @Test func countsLinesAcrossQuotedNewlinesAndCRLF() throws {
        let text = "id,title,site,price,used,label\r\nx,\"two\nlines\",MLB,1,,0\r\ny,plain,MLB,oops,,1\r\n"
        #expect(loadError(text) == DatasetError(.notANumber("oops"), line: 4, column: "price"))
    }

    @Test func acceptsAMissingFinalNewlineWithAnEmptyLastField() throws {
        let schema = DatasetSchema(columns: [
            ColumnSpec(name: "label", kind: .label), ColumnSpec(name: "note", kind: .reporting, required: false),
        ])
        let dataset = try CSVDatasetLoader.load(text: "label,note\n1,", schema: schema, name: "t")
        #expect(dataset.rows.count == 1)
        #expect(dataset.rows[0].values == [.number(1), .missing])
    }

    @Test func reportsTypeErrorsWithLineAndColumn() {
        let text = "id,title,site,price,used,label\na,t,MLB,1,1,0\nb,t,MLB,1,maybe,0\n"
        let error = loadError(text)
        #expect(error == DatasetError(.notABoolean("maybe"), line: 3, column: "used"))
        #expect(error?.description == "line 3, column used: expected 0, 1, true or false, found \"maybe\"")
    }

    @Test func rejectsNonFiniteNumbers() {
        #expect(loadError("id,title,site,price,used,label\na,t,MLB,nan,1,0\n")
            == DatasetError(.notANumber("nan"), line: 2, column: "price"))
    }

    @Test func rejectsMissingRequiredValues() {
        #expect(loadError("id,title,site,price,used,label\na,t,,1,1,0\n")
            == DatasetError(.missingRequiredValue, line: 2, column: "site"))
    }

    @Test func rejectsALabelThatIsNotZeroOrOne() {
        #expect(loadError("id,title,site,price,used,label\na,t,MLB,1,1,0\nb,t,MLB,1,1,2\n")
            == DatasetError(.labelNotBinary("2"), line: 3, column: "label"))
    }

    @Test func rejectsUnknownColumnsOnlyWhenStrict() throws {
        let text = "id,title,site,price,used,label,extra\na,t,MLB,1,1,0,x\n"
        #expect(loadError(text) == nil)
        var strict = smallSchema
        strict.strict = true
        #expect(loadError(text, schema: strict) == DatasetError(.unknownColumn, line: 1, column: "extra"))
    }

    @Test func rejectsAnEmptyFile() {
        #expect(loadError("") == DatasetError(.emptyFile, line: 1))
        #expect(loadError("\n  \n") == DatasetError(.emptyFile, line: 1))
    }

    @Test func rejectsAHeaderWithoutData() {
        #expect(loadError("id,title,site,price,used,label\n") == DatasetError(.noRows, line: 2))
    }

    @Test func rejectsAHeaderMissingARequiredColumn() {
        #expect(loadError("id,title,price,used,label\na,t,1,1,0\n")
            == DatasetError(.missingHeaderColumn, line: 1, column: "site"))
    }

    @Test func toleratesAMissingOptionalColumn() throws {
        let dataset = try CSVDatasetLoader.load(text: "id,title,site,price,label\na,t,MLB,1,0\n", schema: smallSchema, name: "t")
        #expect(dataset.rows[0].values[4] == .missing)
    }

    @Test func rejectsRowsWithTheWrongFieldCount() {
        #expect(loadError("id,title,site,price,used,label\na,t,MLB,1,1,0\nb,t,MLB,1\n")
            == DatasetError(.wrongFieldCount(expected: 6, found: 4), line: 3))
    }

    @Test func rejectsAQuoteInsideAnUnquotedField() {
        let error = loadError("id,title,site,price,used,label\na,t,MLB,1,1,0\nb,ab\"c,MLB,1,1,0\n")
        #expect(error?.line == 3)
        if case .malformedQuoting = error?.kind {} else { Issue.record("expected malformed quoting, got \(String(describing: error))") }
    }

    @Test func rejectsAnUnclosedQuote() {
        let error = loadError("id,title,site,price,used,label\na,t,MLB,1,1,0\nb,\"never closed,MLB,1,1,0\nc,t,MLB,1,1,0\n")
        #expect(error?.line == 3)
        if case .malformedQuoting = error?.kind {} else { Issue.record("expected malformed quoting, got \(String(describing: error))") }
    }

    @Test func selectsFeatureColumnsFromTheListingsSchema() {
        let features = DatasetSchema.listings.featureColumns.map(\.name)
        #expect(features == ["site_id", "title", "category_id", "price_usd", "seller_age_days", "seller_sales", "seller_reputation"])
        #expect(DatasetSchema.listings.labelColumn == "is_prohibited")
    }
}

@Suite(.timeLimit(.minutes(10))) struct SplitTests {
    let labels = (0..<100).map { $0 % 5 == 0 ? 1 : 0 }  // 20 positives, 80 negatives

    @Test func keepsClassProportionsOnBothSides() {
        let split = StratifiedSplitter.split(labels: labels, testFraction: 0.25, seed: 7)
        #expect(split.test.count == 25)
        #expect(split.train.count == 75)
        #expect(split.test.filter { labels[$0] == 1 }.count == 5)
        #expect(split.train.filter { labels[$0] == 1 }.count == 15)
        #expect(Set(split.train).isDisjoint(with: split.test))
        #expect(Set(split.train + split.test) == Set(0..<100))
    }

    @Test func isDeterministicForASeedAndDiffersAcrossSeeds() {
        let first = StratifiedSplitter.split(labels: labels, testFraction: 0.2, seed: 42)
        let second = StratifiedSplitter.split(labels: labels, testFraction: 0.2, seed: 42)
        let other = StratifiedSplitter.split(labels: labels, testFraction: 0.2, seed: 43)
        #expect(first == second)
        #expect(first != other)
    }

    /// Values from Vigna's reference C code (splitmix64.c seeding xoshiro256starstar.c), so a
    /// split made by one build is the split every other build makes from the same seed.
    @Test func generatorMatchesTheReferenceXoshiroStream() {
        var seedZero = SeededGenerator(seed: 0)
        #expect((0..<5).map { _ in seedZero.next() } == [
            0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C, 0xBBA5_AD4A_1F84_2E59,
        ])
        var seed42 = SeededGenerator(seed: 42)
        #expect((0..<3).map { _ in seed42.next() } == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
        // Lemire's bounded draw on top of the stream (same reference outputs, multiply-shift).
        var bounded = SeededGenerator(seed: 0)
        #expect((0..<10).map { _ in bounded.nextIndex(below: 10) } == [6, 7, 1, 4, 7, 9, 4, 5, 8, 9])
        var wide = SeededGenerator(seed: 7)
        #expect((0..<5).map { _ in wide.nextIndex(below: 1000) } == [700, 278, 839, 981, 990])
    }

    @Test func foldsAreStratifiedAndCoverEveryRow() {
        let folds = StratifiedSplitter.foldAssignment(labels: labels, folds: 5, seed: 1)
        for fold in 0..<5 {
            let members = folds.indices.filter { folds[$0] == fold }
            #expect(members.count == 20)
            #expect(members.filter { labels[$0] == 1 }.count == 4)
        }
    }
}
