import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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

@Suite(.timeLimit(.minutes(10))) struct ClassTrainingTests {
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
        expectGradientMatchesCentralDifferences(fitter, data, weights, at: point, step: 1e-6)
        // The bias (index 4 of each class block) is not penalised: at zero weights its gradient
        // is the data term alone, Σ weight·(1/3 − [y = c]).
        var atZero = [Double](repeating: 0, count: 15)
        _ = fitter.evaluate([Double](repeating: 0, count: 15), data, weights, gradient: &atZero)
        let expectedBias0 = 1.7 * (1.0 * (1.0 / 3 - 1) + 2.0 / 3 + 0.5 / 3 + 1.0 / 3 + 3.0 * (1.0 / 3 - 1))
        #expect(abs(atZero[4] - expectedBias0) < 1e-12)
    }

    /// A seeded sparse problem of the trainer's shape: 300 rows of 1 to 12 nonzeros among
    /// 40 features (strictly increasing indices), K classes, uneven sample weights.
    func sparseProblem(classes: Int, seed: UInt64) -> (TrainingMatrix, [Double]) {
        var generator = SeededGenerator(seed: seed)
        var rows: [SparseVector] = [], labels: [Int] = [], weights: [Double] = []
        for _ in 0..<300 {
            let count = 1 + generator.nextIndex(below: 12)
            var indices = Set<Int32>()
            while indices.count < count { indices.insert(Int32(generator.nextIndex(below: 40))) }
            let sorted = indices.sorted()
            rows.append(SparseVector(indices: sorted, values: sorted.map { _ in Double(generator.nextIndex(below: 2001)) / 1000 - 1 }))
            labels.append(generator.nextIndex(below: classes))
            weights.append(0.5 + Double(generator.nextIndex(below: 4)) / 2)
        }
        return (TrainingMatrix(rows: rows, labels: labels, dimension: 40), weights)
    }

    @Test func softmaxGradientOfASparseProblemMatchesCentralDifferences() {
        let (data, weights) = sparseProblem(classes: 4, seed: 5)
        let fitter = SoftmaxRegressionFitter(classes: 4, c: 0.8)
        let count = 4 * 41
        let point: [Double] = (0..<count).map { Double(($0 * 13) % 17) / 17 - 0.5 }
        expectGradientMatchesCentralDifferences(fitter, data, weights, at: point, step: 1e-5)
    }

    /// Every component of the analytic gradient at `point` against a central difference
    /// with `step`, within `step` relative to the larger of 1 and the difference.
    func expectGradientMatchesCentralDifferences(_ fitter: SoftmaxRegressionFitter, _ data: TrainingMatrix, _ weights: [Double],
                                                 at point: [Double], step h: Double) {
        var gradient = [Double](repeating: 0, count: point.count)
        let value = fitter.evaluate(point, data, weights, gradient: &gradient)
        #expect(value.isFinite && value > 0)
        var scratch = gradient
        for j in point.indices {
            var up = point, down = point
            up[j] += h
            down[j] -= h
            let numeric = (fitter.evaluate(up, data, weights, gradient: &scratch) - fitter.evaluate(down, data, weights, gradient: &scratch)) / (2 * h)
            #expect(abs(numeric - gradient[j]) <= h * max(1, abs(numeric)), "parameter \(j): analytic \(gradient[j]), numeric \(numeric)")
        }
    }

    /// The one-pass evaluation against the class-by-class one it replaced (`referenceSoftmaxObjective`):
    /// the same value and gradient to the bit, with a reused workspace, at several points.
    @Test func softmaxEvaluationIsBitIdenticalToTheClassByClassSum() {
        for (classes, seed) in [(2, UInt64(1)), (3, 2), (10, 3)] {
            let (data, weights) = sparseProblem(classes: classes, seed: seed)
            let fitter = SoftmaxRegressionFitter(classes: classes, c: 4)
            let count = classes * 41
            var workspace = SoftmaxWorkspace(classes: classes, dimension: 40)
            for shift in 0..<3 {
                let point: [Double] = (0..<count).map { Double(($0 * 7 + shift * 5) % 23) / 7 - 1.5 }
                var expected = [Double](repeating: 0, count: count), actual = [Double](repeating: .nan, count: count)
                let expectedValue = referenceSoftmaxObjective(point, data, weights, classes: classes, c: 4, gradient: &expected)
                let value = fitter.evaluate(point, data, weights, gradient: &actual, workspace: &workspace)
                #expect(value.bitPattern == expectedValue.bitPattern, "K=\(classes): \(value) against \(expectedValue)")
                #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "K=\(classes), point \(shift)")
            }
        }
    }

    /// A whole fit equals L-BFGS on the class-by-class objective, to the bit.
    @Test func softmaxFitIsBitIdenticalToTheClassByClassObjective() {
        let (data, weights) = sparseProblem(classes: 5, seed: 9)
        var fitter = SoftmaxRegressionFitter(classes: 5, c: 2)
        fitter.balanced = true
        let fit = fitter.fit(data)
        #expect(classSampleWeights(data.labels, classes: 5, balanced: true) != weights)  // the fitter's own weights
        let sampleWeights = classSampleWeights(data.labels, classes: 5, balanced: true)
        let minimiser = LBFGS(gradientTolerance: fitter.gradientTolerance, relativeDecreaseTolerance: fitter.relativeDecreaseTolerance,
                              maxIterations: fitter.maxIterations, memory: 10)
        let reference = minimiser.minimise(count: 5 * 41, progress: nil) { x, g in
            referenceSoftmaxObjective(x, data, sampleWeights, classes: 5, c: 2, gradient: &g)
        }
        #expect(fit.iterations == reference.iterations && fit.converged == reference.converged)
        #expect(fit.iterations > 5)
        let flattened = (0..<5).flatMap { fit.weights[$0] + [fit.biases[$0]] }
        #expect(flattened.map(\.bitPattern) == reference.x.map(\.bitPattern))
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
        #expect(manifest.metrics.values["class_roc_auc.weapons"] == 1)
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

    /// The family models' weights, pinned like the binary ones (`theSmallModelsWeightsArePinnedAcrossBuilds`):
    /// a faster fitter must give these same bytes; a deliberate change to training updates them.
    @Test func theSmallFamilyModelsWeightsArePinned() throws {
        let expected: [Algorithm: String] = [
            .logisticRegression: "270d49576e409c2dfdd1b0f6f090e9c8f5ee68c366742048102739fc498a9ff6",
            .multinomialNB: "225201026e79d457af7cb9cc6857382306d893c3567865a4336ab6cea2a186f6",
        ]
        let dataset = try CSVDatasetLoader.load(text: familiesCSV(), schema: .listings, name: "families", version: "1")
        for (algorithm, digest) in expected {
            let trained = try Trainer(config: familiesConfig(algorithm)).train(dataset, name: "families")
            #expect(SHA256.hex(ArtifactWriter.encodeWeights(trained.weights)) == digest, "\(algorithm)")
        }
    }

    /// `vigia evaluate --split test` of a family model scores the rows its training held out:
    /// stratified by whether the class is positive, not by the 0/1 column (here they differ:
    /// only weapons are positive, medicines rows still say is_prohibited = 1).
    @Test func theHeldOutRowsOfAFamilyConfigAreItsTrainingSplit() throws {
        let dataset = try CSVDatasetLoader.load(text: familiesCSV(), schema: .listings, name: "families", version: "1")
        var config = familiesConfig()
        config.classes?.negative = nil
        config.classes?.positive = ["weapons"]
        let trained = try Trainer(config: config).train(dataset, name: "families")
        let held = try Trainer.heldOutRows(of: dataset, config: config)
        let id = try #require(dataset.columnIndex("id")), field = try #require(trained.manifest.signature.fields.firstIndex { $0.name == "id" })
        #expect(held.map { dataset.rows[$0].values[id] } == trained.testInputs.map { $0[field] })
        var binary = config
        binary.classes = nil
        #expect(try Trainer.heldOutRows(of: dataset, config: binary) != held)  // the 0/1 column splits otherwise

        // The per-class figures on those rows are the ones training recorded.
        let model = try LoadedModel(manifest: trained.manifest, weights: trained.weights)
        let figures = try ClassMetrics.measure(model, on: dataset.subset(held), classes: try #require(config.classes))
        for name in ["class_accuracy", "class_recall.weapons", "class_precision.medicines", "class_roc_auc.benign"] {
            #expect(figures.values[name] != nil && figures.values[name] == trained.manifest.metrics.values[name], "\(name)")
        }
        var other = try #require(config.classes)
        other.names = ["weapons", "medicines"]
        other.other = "allowed"
        #expect(throws: TrainingError.invalidConfig("classes: the config's classes (allowed, medicines, weapons) are not the model's (benign, medicines, weapons)")) {
            try ClassMetrics.measure(model, on: dataset.subset(held), classes: other)
        }
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

/// The softmax objective and gradient summed class by class, as `SoftmaxRegressionFitter`
/// first computed them: the reference its one-pass evaluation must equal to the bit.
func referenceSoftmaxObjective(_ parameters: [Double], _ data: TrainingMatrix, _ sampleWeights: [Double], classes k: Int,
                               c: Double, gradient: inout [Double]) -> Double {
    let d = data.dimension, stride = d + 1
    var value = 0.0
    for j in parameters.indices {
        if j % stride == d {
            gradient[j] = 0
        } else {
            value += 0.5 * parameters[j] * parameters[j]
            gradient[j] = parameters[j]
        }
    }
    var z = [Double](repeating: 0, count: k)
    for i in data.rows.indices {
        let row = data.rows[i]
        for cls in 0..<k {
            let base = cls * stride
            var sum = parameters[base + d]
            for m in row.indices.indices { sum += parameters[base + Int(row.indices[m])] * row.values[m] }
            z[cls] = sum
        }
        let largest = z.max() ?? 0
        var total = 0.0
        for cls in 0..<k { total += exp(z[cls] - largest) }
        let logNormaliser = largest + log(total)
        let weight = c * sampleWeights[i]
        let y = data.labels[i]
        value += weight * (logNormaliser - z[y])
        for cls in 0..<k {
            let residual = weight * (exp(z[cls] - logNormaliser) - (cls == y ? 1 : 0))
            let base = cls * stride
            for m in row.indices.indices { gradient[base + Int(row.indices[m])] += residual * row.values[m] }
            gradient[base + d] += residual
        }
    }
    return value
}
