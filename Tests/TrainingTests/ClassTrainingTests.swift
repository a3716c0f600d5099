import FoundationEssentials
import Inference
import Testing
@testable import Training

/// 60 listings of three families told apart by their titles: weapons, medicines, and benign
/// goods (the allowed class).
func familiesCSV(extraFamily: String? = nil) -> String {
    let words = [("weapons", ["pistola calibre", "revolver municao", "espingarda cartucho"]),
                 ("medicines", ["remedio tarja preta", "receita controlada", "comprimido sem receita"]),
                 ("benign", ["camiseta algodao", "tenis corrida", "caneca ceramica"])]
    var lines = ["id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,seller_reputation,is_prohibited,family"]
    for i in 0..<60 {
        let (family, titles) = words[i % 3]
        let title = "oferta \(titles[(i / 3) % 3]) \(["novo", "usado", "promo", "kit"][i % 4])"
        let pair = i / 3
        lines.append("F\(i),MLB,\(title),MLB\(1000 + pair % 4),\(10 + (pair * 37) % 50).5,\(100 + pair * 7),\(pair * 3),gold,\(family == "benign" ? 0 : 1),\(i == 59 ? extraFamily ?? family : family)")
    }
    return lines.joined(separator: "\n") + "\n"
}

func familiesConfig(_ algorithm: Algorithm = .logisticRegression) -> TrainConfig {
    var config = smallConfig(algorithm)
    var classes = ClassesConfig(column: "family")
    classes.negative = ["benign"]
    config.classes = classes
    return config
}

@Suite(.timeLimit(.minutes(5))) struct ClassTrainingTests {
    /// A small problem with every kind of row: several features per row, repeated columns,
    /// sample weights and a bias per class.
    func gradientProblem() -> TrainingMatrix {
        let rows = [
            SparseVector(indices: [0, 2], values: [1.0, 0.5]), SparseVector(indices: [1], values: [2.0]),
            SparseVector(indices: [0, 1, 3], values: [0.3, -0.7, 1.1]), SparseVector(indices: [2, 3], values: [1.5, -0.2]),
            SparseVector(indices: [], values: []),
        ]
        return TrainingMatrix(rows: rows, labels: [0, 1, 2, 1, 0], dimension: 4)
    }

    @Test func softmaxGradientMatchesCentralDifferences() {
        let data = gradientProblem()
        let fitter = SoftmaxRegressionFitter(classes: 3, c: 1.7)
        let weights = [1.0, 2.0, 0.5, 1.0, 3.0]
        let point: [Double] = (0..<15).map { Double(($0 * 7) % 11) / 10 - 0.5 }
        var gradient = [Double](repeating: 0, count: 15)
        let value = fitter.evaluate(point, data, weights, gradient: &gradient)
        #expect(value.isFinite && value > 0)
        var scratch = gradient
        for j in 0..<15 {
            let h = 1e-6
            var up = point, down = point
            up[j] += h
            down[j] -= h
            let numeric = (fitter.evaluate(up, data, weights, gradient: &scratch) - fitter.evaluate(down, data, weights, gradient: &scratch)) / (2 * h)
            #expect(abs(numeric - gradient[j]) <= 1e-6 * max(1, abs(numeric)), "parameter \(j): analytic \(gradient[j]), numeric \(numeric)")
        }
        // The bias (index 4 of each class block) is not penalised: at zero weights its gradient
        // is the data term alone, Σ weight·(1/3 − [y = c]).
        var atZero = [Double](repeating: 0, count: 15)
        _ = fitter.evaluate([Double](repeating: 0, count: 15), data, weights, gradient: &atZero)
        let expectedBias0 = 1.7 * (1.0 * (1.0 / 3 - 1) + 2.0 / 3 + 0.5 / 3 + 1.0 / 3 + 3.0 * (1.0 / 3 - 1))
        #expect(abs(atZero[4] - expectedBias0) < 1e-12)
    }

    @Test func softmaxFitSeparatesAndIsDeterministic() {
        let data = gradientProblem()
        let fitter = SoftmaxRegressionFitter(classes: 3, c: 100)
        let first = fitter.fit(data), second = fitter.fit(data)
        #expect(first == second)
        #expect(first.converged)
        for (row, label) in zip(data.rows, data.labels) where !row.indices.isEmpty {
            let p = first.probabilities(row)
            #expect(p.firstIndex(of: p.max()!) == label, "\(p) for class \(label)")
        }
    }

    @Test(arguments: [Algorithm.logisticRegression, .multinomialNB])
    func trainsAFamilyModelThatServesEveryClass(_ algorithm: Algorithm) throws {
        let dataset = try CSVDatasetLoader.load(text: familiesCSV(), schema: .listings, name: "families", version: "1")
        let trained = try Trainer(config: familiesConfig(algorithm)).train(dataset, name: "families")
        let manifest = trained.manifest
        #expect(manifest.labels == ["benign", "medicines", "weapons"])
        #expect(manifest.positiveClasses == ["medicines", "weapons"])
        #expect(manifest.requiredFormat.version == 4)
        #expect(manifest.metrics.values["class_accuracy"] == 1)
        #expect(manifest.metrics.values["class_recall.weapons"] == 1)
        #expect(trained.testMetrics.accuracy == 1)
        let model = try LoadedModel(manifest: manifest, weights: trained.weights)
        for (title, family) in [("pistola calibre 38", "weapons"), ("remedio sem receita", "medicines"), ("camiseta nova", "benign")] {
            let prediction = model.predict(listing(title))
            #expect(prediction.label == family, "\(title): \(prediction)")
            #expect(prediction.classScores?.classes == manifest.labels)
            #expect(prediction.isPositive == (family != "benign"))
        }
        // Deterministic: a second run gives the same weights and scores.
        let again = try Trainer(config: familiesConfig(algorithm)).train(dataset, name: "families")
        #expect(again.weights == trained.weights)
        #expect(again.manifest == trained.manifest)
        #expect(again.testScores == trained.testScores)
    }

    @Test func classesFromTheConfigFile() throws {
        let json = """
            {"algorithm": "logistic_regression", "classes": {"column": "family", "names": ["weapons", "medicines"],
             "other": "allowed", "thresholds": {"weapons": 0.25}}}
            """
        let config = try TrainConfig.decode(Data(json.utf8))
        let classes = try #require(config.classes)
        #expect(classes.column == "family" && classes.other == "allowed" && classes.thresholds == ["weapons": 0.25])
        let dataset = try CSVDatasetLoader.load(text: familiesCSV(), schema: .listings, name: "families", version: "1")
        let assignment = try ClassAssignment(dataset: dataset, config: classes)
        #expect(assignment.names == ["allowed", "medicines", "weapons"])
        #expect(assignment.positiveNames == ["medicines", "weapons"])
        #expect(assignment.rowClass.prefix(3) == [2, 1, 0])  // benign rows become "allowed"
    }

    @Test func badClassConfigurationsAreRefusedWithTheirKey() throws {
        func failure(_ json: String) -> String {
            do { _ = try TrainConfig.decode(Data(json.utf8)); return "accepted" } catch { return "\(error)" }
        }
        #expect(failure(#"{"classes": {"column": "title", "negative": ["x"]}}"#).contains("classes.column: title must be a reporting column"))
        #expect(failure(#"{"algorithm": "linear_svm", "classes": {"column": "family", "negative": ["benign"]}}"#)
            .contains("linear_svm is binary only"))
        #expect(failure(#"{"classes": {"column": "family"}}"#).contains("say which classes are allowed"))
        #expect(failure(#"{"classes": {"column": "family", "positive": ["a"], "negative": ["b"]}}"#).contains("positive or negative, not both"))
        #expect(failure(#"{"classes": {"column": "family", "negative": ["benign"], "thresholds": {"weapons": 2}}}"#)
            .contains("classes.thresholds.weapons must lie in [0, 1]"))

        let dataset = try CSVDatasetLoader.load(text: familiesCSV(extraFamily: "wildlife"), schema: .listings, name: "f", version: "1")
        var named = ClassesConfig(column: "family")
        named.names = ["weapons", "medicines", "benign"]
        named.negative = ["benign"]
        #expect(throws: TrainingError.invalidConfig("classes: line 61, column family: \"wildlife\" is not one of classes.names and classes.other is not set")) {
            try ClassAssignment(dataset: dataset, config: named)
        }
        var unknown = ClassesConfig(column: "family")
        unknown.negative = ["allowed"]
        #expect(throws: TrainingError.invalidConfig("classes: \"allowed\" is not a class (the classes are benign, medicines, weapons, wildlife)")) {
            try ClassAssignment(dataset: dataset, config: unknown)
        }
    }
}
