#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Inference
import ProgressDisplay

/// Everything a run learnt and measured, ready to be written as an artifact.
public struct TrainedModel: Sendable {
    /// The manifest with `version` 1, `created` empty and `files` empty; the publisher fills them in.
    public var manifest: ModelManifest
    /// The content of `weights.bin` (arrays the manifest references by offset).
    public var weights: [Double]
    public var dataset: DatasetDescription
    /// Metrics on the held-out test split at the chosen threshold.
    public var testMetrics: EvaluationMetrics
    /// Metrics of the out-of-fold scores of the training split (where the threshold came from).
    public var outOfFoldMetrics: EvaluationMetrics
    /// The held-out rows (signature order) and labels, to score a published version on the same split.
    public var testInputs: [[FeatureValue]]
    public var testLabels: [Int]
    /// Per test row, the value of the schema's first reporting column (e.g. `family`), or "".
    public var testGroups: [String]
    /// The test scores (served model) in `testInputs` order.
    public var testScores: [Double]
    /// Per test row, its key in each of `config.slices` (nil: missing).
    public var testSliceKeys: [[String?]]
    /// The evaluation report of the test split (version 1 until the publisher assigns one).
    public var report: EvaluationReport
    /// The configuration the model was trained with (for the model card).
    public var config: TrainConfig
    /// Rows that repeat an earlier row's group key (`TrainConfig.groupColumns`); each group
    /// was kept on one side of the split and of the folds.
    public var duplicateRows: Int
}

/// Trains one model from a validated dataset:
/// 1. stratified seeded split (`test_fraction`, default 0.2) that keeps copies of a listing
///    (same id or normalised title by default) on one side;
/// 2. fit the pipeline statistics on the training split, vectorise with Inference's pipeline;
/// 3. `folds`-fold stratified cross-validation on the training split for out-of-fold scores
///    (the SVM's Platt sigmoid is fitted on out-of-fold decision values);
/// 4. the threshold from the out-of-fold scores (`ThresholdRule`);
/// 5. the final fit on the whole training split, evaluated once on the test split.
/// Deterministic: same rows + config (including seed) ⇒ bit-identical weights.
public struct Trainer: Sendable {
    public var config: TrainConfig
    /// Receives one line per step (loading, vectorising, each fold, optimiser iterations).
    public var progress: @Sendable (String) -> Void
    /// Receives how far the long steps have come (folds; optimiser iterations of the final fit).
    public var advance: @Sendable (ProgressUpdate) -> Void
    /// Whether optimiser iterations are also reported as lines (every 10th) through `progress`;
    /// off when `advance` draws them as a bar.
    public var iterationLines: Bool

    public init(
        config: TrainConfig, progress: @escaping @Sendable (String) -> Void = { _ in },
        advance: @escaping @Sendable (ProgressUpdate) -> Void = { _ in }, iterationLines: Bool = true
    ) {
        self.config = config
        self.progress = progress
        self.advance = advance
        self.iterationLines = iterationLines
    }

    /// The input signature a schema implies: the identifier and every feature column.
    public static func signature(for schema: DatasetSchema) -> Signature {
        var fields: [FieldSpec] = []
        for column in schema.columns {
            let type: FieldType
            switch column.kind {
            case .identifier, .text, .categorical: type = .string
            case .numeric: type = .number
            case .boolean: type = .boolean
            case .label, .reporting: continue
            }
            fields.append(FieldSpec(name: column.name, type: type, required: column.required, description: column.description))
        }
        return Signature(fields: fields, idField: schema.identifierColumn)
    }

    /// The signature with constraints learnt from the training rows: a numeric field whose
    /// training values are all ≥ 0 (prices, ages, counts) gets `minimum: 0`, so the service
    /// rejects a negative price (422) instead of scoring an input the model never saw.
    public static func signature(for schema: DatasetSchema, constrainedBy rows: Dataset) -> Signature {
        var signature = signature(for: schema)
        for k in signature.fields.indices where signature.fields[k].type == .number {
            guard let column = rows.columnIndex(signature.fields[k].name) else { continue }
            let nonNegative = rows.rows.allSatisfy { row in
                if case .number(let x) = row.values[column] { return x >= 0 }
                return true
            }
            if nonNegative { signature.fields[k].constraints = FieldConstraints(minimum: 0) }
        }
        return signature
    }

    /// The value of the first reporting column (e.g. `family`), or "" when there is none.
    static func reportingGroup(of row: DatasetRow, schema: DatasetSchema) -> String {
        guard let index = schema.columns.firstIndex(where: { $0.kind == .reporting }),
              case .string(let group) = row.values[index] else { return "" }
        return group.string
    }

    /// A table of how many test rows of each reporting group (e.g. `family`) score at or above
    /// the threshold: the recall of a prohibited family, the false-positive rate of a benign one.
    public static func flaggedByGroup(_ trained: TrainedModel) -> String {
        var totals: [String: (rows: Int, positives: Int, flagged: Int)] = [:]
        for (k, group) in trained.testGroups.enumerated() {
            var entry = totals[group, default: (0, 0, 0)]
            entry.rows += 1
            entry.positives += trained.testLabels[k]
            if trained.testScores[k] >= trained.manifest.threshold { entry.flagged += 1 }
            totals[group] = entry
        }
        var lines = ["group                         rows  positive  flagged  flagged%"]
        for group in totals.keys.sorted() {
            let entry = totals[group]!
            let name = group.isEmpty ? "(none)" : group
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
            lines.append(pad(name, 30) + pad(String(entry.rows), 6) + pad(String(entry.positives), 10) + pad(String(entry.flagged), 9)
                + formatFixed(100 * Double(entry.flagged) / Double(entry.rows), digits: 1))
        }
        return lines.joined(separator: "\n")
    }

    /// The line `vigia train` prints about copies of a listing.
    public static func duplicateReport(rows: Int, columns: [String]) -> String {
        guard !columns.isEmpty else { return "duplicates: not looked for (split_group_columns is empty: rows are split one by one)" }
        return "duplicates: \(rows) rows repeat an earlier row's \(columns.joined(separator: " or ")); "
            + "each listing's copies are on one side of the split"
    }

    /// Per row, the text of each group column ("" when missing or not a column).
    static func groupKeys(_ dataset: Dataset, columns: [String]) -> [[String]] {
        let indices = columns.map { dataset.columnIndex($0) }
        return dataset.rows.map { row in
            indices.map { index in
                guard let index, case .string(let text) = row.values[index] else { return "" }
                return text.string
            }
        }
    }

    /// Each row's values in signature order (fields the schema lacks are missing).
    public static func inputs(of rows: [DatasetRow], schema: DatasetSchema, signature: Signature) -> [[FeatureValue]] {
        // Field → column once, not per row.
        let columns = signature.fields.map { field in schema.columns.firstIndex { $0.name == field.name } }
        return rows.map { row in columns.map { $0.map { row.values[$0] } ?? .missing } }
    }

    public func train(_ dataset: Dataset, name: String) throws(TrainingError) -> TrainedModel {
        try config.validate()
        // A multi-class model: each row's class; the split, the folds and the threshold use
        // whether that class is positive.
        let classes = try config.classes.map { config throws(TrainingError) in try ClassAssignment(dataset: dataset, config: config) }
        let labels = classes?.binaryLabels ?? dataset.labels
        let positives = labels.reduce(0, +)
        guard positives > 0, positives < labels.count else {
            throw .notEnoughData("every row has label \(positives > 0 ? 1 : 0); a classifier needs rows of both classes")
        }
        guard positives >= config.folds, labels.count - positives >= config.folds else {
            throw .notEnoughData("each class needs at least \(config.folds) rows (found \(positives) positive, \(labels.count - positives) negative)")
        }
        let description = dataset.datasetDescription
        progress("dataset \(description.name) v\(description.version): \(description.rows) rows, \(positives) positive, \(description.fingerprint)")

        let groupColumns = config.groupColumns
        let keys = Self.groupKeys(dataset, columns: groupColumns)
        let groups = DuplicateGroups(keys: keys)
        progress(Self.duplicateReport(rows: groups.duplicateRows, columns: groupColumns))
        let split = StratifiedSplitter.split(labels: labels, groups: groups, testFraction: config.testFraction, seed: config.seed)
        let trainSet = dataset.subset(split.train)
        progress("split: \(split.train.count) train, \(split.test.count) test (seed \(config.seed))")

        // Disguised copies join the training split only; each stays with the row it copies.
        let augmented = config.augmentation.map {
            Augmenter.copies(of: trainSet.rows, schema: dataset.schema, config: $0, seed: config.seed &+ 2)
        } ?? []
        if !augmented.isEmpty { progress("augmentation: \(augmented.count) disguised copies of training rows") }

        progress("fitting the feature pipeline")
        let fitter = PipelineFitter(config: config)
        let spec = try fitter.fit(augmented.isEmpty ? trainSet : Dataset(
            schema: dataset.schema, rows: trainSet.rows + augmented.map(\.row), name: dataset.name, version: dataset.version))
        let signature = Self.signature(for: dataset.schema, constrainedBy: trainSet)
        let pipeline: FeaturePipeline
        do {
            pipeline = try FeaturePipeline(spec: spec, signature: signature)
        } catch {
            throw .artifact("the fitted pipeline does not compile: \(error)")
        }
        progress("vectorising \(dataset.rows.count) rows into \(pipeline.dimension) features")
        let inputs = Self.inputs(of: dataset.rows, schema: dataset.schema, signature: signature)
        let vectors = inputs.map(pipeline.transform)
        let copies = Self.inputs(of: augmented.map(\.row), schema: dataset.schema, signature: signature).map(pipeline.transform)
        let originals = split.train.count
        let fitLabels = classes?.rowClass ?? labels  // what the fitters learn: 0/1, or class indices
        let trainMatrix = TrainingMatrix(rows: split.train.map { vectors[$0] } + copies,
                                         labels: split.train.map { fitLabels[$0] } + augmented.map { fitLabels[split.train[$0.source]] },
                                         dimension: pipeline.dimension)
        let originalLabels = split.train.map { labels[$0] }

        // Out-of-fold scores on the training split.
        // Out-of-fold scores are of the original rows; a copy is fitted with the fold of its row.
        let originalFolds = StratifiedSplitter.foldAssignment(
            labels: originalLabels, groups: DuplicateGroups(keys: split.train.map { keys[$0] }),
            folds: config.folds, seed: config.seed &+ 1)
        let folds = originalFolds + augmented.map { originalFolds[$0.source] }
        var outOfFold = [Double](repeating: 0, count: originals)
        advance(ProgressUpdate(task: "cross-validation", done: 0, total: config.folds))
        for fold in 0..<config.folds {
            let inside = folds.indices.filter { folds[$0] != fold }
            let outside = originalFolds.indices.filter { originalFolds[$0] == fold }
            progress("cross-validation fold \(fold + 1)/\(config.folds): fitting on \(inside.count) rows")
            let foldMatrix = trainMatrix.subset(inside)
            if let classes {
                let fit = fitClasses(foldMatrix, classes)
                for row in outside { outOfFold[row] = classes.score(fit.probabilities(trainMatrix.rows[row])) }
                continue
            }
            switch config.algorithm {
            case .logisticRegression:
                let fit = logisticFitter.fit(foldMatrix)
                for row in outside { outOfFold[row] = LogisticRegressionFitter.sigmoid(fit.decision(trainMatrix.rows[row])) }
            case .linearSVM:
                let fit = svmFitter.fit(foldMatrix)
                for row in outside { outOfFold[row] = fit.decision(trainMatrix.rows[row]) }  // decision values for Platt
            case .multinomialNB:
                let fit = nbFitter.fit(foldMatrix, include: { _ in true })
                for row in outside { outOfFold[row] = fit.score(trainMatrix.rows[row]) }
            case .modifiedHuber, .bernoulliNB, .calibratedLinear:
                throw .invalidConfig("vigia train cannot fit \(config.algorithm.rawValue)")
            }
            advance(ProgressUpdate(task: "cross-validation", done: fold + 1, total: config.folds))
        }
        var platt: PlattScaling?
        if config.algorithm == .linearSVM {
            let sigmoid = PlattScaling.fit(decisions: outOfFold, labels: originalLabels)
            progress("Platt scaling on out-of-fold decisions: A=\(sigmoid.a) B=\(sigmoid.b)")
            outOfFold = outOfFold.map(sigmoid.probability)
            platt = sigmoid
        }
        let threshold = chooseThreshold(scores: outOfFold, labels: originalLabels)
        let outOfFoldMetrics = EvaluationMetrics(scores: outOfFold, labels: originalLabels, threshold: threshold)

        // The artifact: large arrays in weights.bin (idf first, then the model's), everything
        // else in model.json.
        var weights = WeightsBuilder()
        let storedSpec = PipelineSpec(transformers: spec.transformers.map { transformer in
            guard case .text(var text) = transformer, case .tfidf(var tfidf) = text.vectorizer, let idf = tfidf.idf.values else {
                return transformer
            }
            tfidf.idf = weights.append(idf)
            text.vectorizer = .tfidf(tfidf)
            return .text(text)
        })
        progress("final fit (\(config.algorithm.rawValue)) on \(trainMatrix.rows.count) rows")
        let parameters: ModelParameters
        switch config.algorithm {
        case .logisticRegression where classes != nil:
            let fit = fitClasses(trainMatrix, classes!)
            parameters = .softmax(classWeights: fit.weights.map { weights.append($0) }, classIntercepts: fit.biases)
        case .multinomialNB where classes != nil:
            let fit = fitClasses(trainMatrix, classes!)
            parameters = .multinomialNB(classLogPrior: fit.biases, featureLogProb: fit.weights.map { weights.append($0) })
        case .logisticRegression:
            let fit = logisticFitter.fit(trainMatrix) { iteration, value in
                self.advance(ProgressUpdate(task: "L-BFGS", done: iteration, total: self.config.maxIterations,
                                            detail: "objective \(formatFixed(value, digits: 6))"))
                if self.iterationLines, iteration % 10 == 0 { self.progress("  L-BFGS iteration \(iteration): objective \(formatFixed(value, digits: 6))") }
            }
            advance(ProgressUpdate(task: "L-BFGS", done: fit.iterations, total: fit.iterations, detail: fit.converged ? "converged" : "iteration cap"))
            progress("  L-BFGS stopped after \(fit.iterations) iterations (converged: \(fit.converged))")
            parameters = .logisticRegression(weights: weights.append(fit.weights), intercept: fit.bias)
        case .linearSVM:
            let fit = svmFitter.fit(trainMatrix) { iteration, gap in
                self.advance(ProgressUpdate(task: "dual CD", done: iteration, total: self.config.maxIterations,
                                            detail: "gap \(formatFixed(gap, digits: 6))"))
                if self.iterationLines, iteration % 10 == 0 { self.progress("  dual CD epoch \(iteration): projected-gradient gap \(formatFixed(gap, digits: 6))") }
            }
            advance(ProgressUpdate(task: "dual CD", done: fit.iterations, total: fit.iterations, detail: fit.converged ? "converged" : "iteration cap"))
            progress("  dual CD stopped after \(fit.iterations) epochs (converged: \(fit.converged))")
            parameters = .linearSVM(weights: weights.append(fit.weights), intercept: fit.bias, plattA: platt!.a, plattB: platt!.b)
        case .multinomialNB:
            let fit = nbFitter.fit(trainMatrix, include: { _ in true })
            parameters = .multinomialNB(classLogPrior: fit.classLogPrior,
                                        featureLogProb: fit.featureLogProbability.map { weights.append($0) })
        case .modifiedHuber, .bernoulliNB, .calibratedLinear:
            throw .invalidConfig("vigia train cannot fit \(config.algorithm.rawValue)")
        }
        let exampleRow = split.test[0]
        var exampleInput: [String: FeatureValue] = [:]
        for (field, value) in zip(signature.fields, inputs[exampleRow]) { exampleInput[field.name] = value }
        // Version 1 and an empty date stand in until the publisher assigns the real ones.
        var manifest = ModelManifest(
            name: name, version: 1, created: "",
            algorithm: config.algorithm, signature: signature, pipeline: storedSpec, model: parameters,
            threshold: threshold, labels: classes?.names ?? config.labels,
            example: Example(input: exampleInput, expectedScore: 0),
            dataset: description.datasetInfo,
            positiveClasses: classes?.positiveNames,
            classThresholds: classes.flatMap { _ in config.classes?.thresholds.isEmpty == false ? config.classes?.thresholds : nil })
        // Score through Inference's own model, so the reported metrics and the stored example
        // are exactly what serving will compute.
        let served: LoadedModel
        do {
            served = try LoadedModel(manifest: manifest, weights: weights.values, verifyExample: false)
        } catch {
            throw .artifact("the trained model does not validate: \(error)")
        }
        progress("evaluating on \(split.test.count) held-out rows")
        let testInputs = split.test.map { inputs[$0] }
        let testPredictions = testInputs.map { served.predict($0) }
        let testScores = testPredictions.map(\.score)
        let testLabels = split.test.map { labels[$0] }
        let testMetrics = EvaluationMetrics(scores: testScores, labels: testLabels, threshold: threshold)
        manifest.metrics = Self.manifestMetrics(testMetrics, outOfFold: outOfFoldMetrics)
        if let classes {
            let figures = ClassMetrics(predictions: testPredictions, classes: split.test.map { classes.rowClass[$0] }, names: classes.names)
            progress(figures.summary)
            manifest.metrics.values.merge(figures.values) { $1 }
        }
        manifest.example.expectedScore = testScores[0]
        // What the training inputs looked like, for the serving-time skew comparison.
        manifest.profile = InputProfile.build(rows: split.train.map { inputs[$0] }, signature: signature, pipeline: served.pipeline)
        progress("evaluation report: curves, calibration, \(config.slices.count) slice dimensions with bootstrap intervals")
        let testRows = split.test.map { dataset.rows[$0] }
        let sliceKeys = Slicing.keys(of: testRows, schema: dataset.schema, dimensions: config.slices)
        progress("robustness: the held-out rows with the words of the text fields disguised \(DisguiseKind.allCases.count) ways (seed \(RobustnessReport.defaultSeed))")
        let robustness = RobustnessReport.measure(served, inputs: testInputs, labels: testLabels)
        let report = EvaluationReport(
            model: .init(name: name, version: 1, algorithm: config.algorithm.rawValue),
            data: "held-out test split (\(split.test.count) of \(labels.count) rows) of \(description.name) v\(description.version)",
            labels: config.labels, scores: testScores, rowLabels: testLabels, threshold: threshold,
            dimensions: config.slices, sliceKeys: sliceKeys, robustness: robustness)
        return TrainedModel(
            manifest: manifest, weights: weights.values, dataset: description,
            testMetrics: testMetrics, outOfFoldMetrics: outOfFoldMetrics,
            testInputs: testInputs, testLabels: testLabels,
            testGroups: split.test.map { Self.reportingGroup(of: dataset.rows[$0], schema: dataset.schema) },
            testScores: testScores, testSliceKeys: sliceKeys, report: report, config: config,
            duplicateRows: groups.duplicateRows)
    }

    var logisticFitter: LogisticRegressionFitter {
        LogisticRegressionFitter(c: config.logisticC, maxIterations: config.maxIterations, balanced: config.balancedClasses)
    }
    var svmFitter: LinearSVMFitter {
        LinearSVMFitter(c: config.svmC, maxIterations: config.maxIterations, balanced: config.balancedClasses, seed: config.seed)
    }
    var nbFitter: NaiveBayesFitter { NaiveBayesFitter(alpha: config.nbAlpha) }

    /// The multi-class fit of the configured algorithm (softmax regression or naive Bayes).
    func fitClasses(_ matrix: TrainingMatrix, _ classes: ClassAssignment) -> ClassFit {
        let k = classes.names.count
        if config.algorithm == .multinomialNB { return nbFitter.fitClasses(matrix, classes: k) }
        let fitter = SoftmaxRegressionFitter(classes: k, c: config.logisticC, maxIterations: config.maxIterations,
                                             balanced: config.balancedClasses)
        let fit = fitter.fit(matrix) { iteration, value in
            if iteration % 10 == 0 { self.progress("  L-BFGS iteration \(iteration): objective \(formatFixed(value, digits: 6))") }
        }
        progress("  L-BFGS stopped after \(fit.iterations) iterations (converged: \(fit.converged))")
        return fit
    }

    /// The threshold rule applied to out-of-fold scores (see `ThresholdRule`).
    func chooseThreshold(scores: [Double], labels: [Int]) -> Double {
        if case .precisionTarget(let target) = config.thresholdRule {
            if let threshold = RankingMetrics.thresholdForPrecision(target, scores: scores, labels: labels) {
                progress("threshold \(threshold): lowest out-of-fold cut with precision ≥ \(target)")
                return threshold
            }
            progress("no out-of-fold cut reaches precision \(target); falling back to the F1-maximising threshold")
        }
        let threshold = RankingMetrics.thresholdMaximisingF1(scores: scores, labels: labels)
        progress("threshold \(threshold): maximises out-of-fold F1")
        return threshold
    }

    static func manifestMetrics(_ test: EvaluationMetrics, outOfFold: EvaluationMetrics) -> Inference.Metrics {
        var values: [String: Double] = [
            "threshold": test.threshold, "precision": test.precision, "recall": test.recall, "f1": test.f1,
            "accuracy": test.accuracy, "test_rows": Double(test.count), "test_positives": Double(test.positives),
            "oof_f1": outOfFold.f1,
        ]
        if let auc = test.rocAUC { values["roc_auc"] = auc }
        if let ap = test.prAUC { values["pr_auc"] = ap }
        let counts = test.confusion
        return Inference.Metrics(values: values, confusionMatrix: Inference.ConfusionMatrix(
            trueNegative: counts.trueNegatives, falsePositive: counts.falsePositives,
            falseNegative: counts.falseNegatives, truePositive: counts.truePositives))
    }
}
