import Inference

/// Scoring a CSV with a published model: the schema the model implies, and the metrics.
public enum ModelEvaluator {
    /// The CSV schema a model reads: its signature fields (text-vectorised strings as `text`,
    /// the id field as `identifier`, other strings as `categorical`, numbers as `numeric`,
    /// booleans as `boolean`; required as the signature says) plus the 0/1 `labelColumn`.
    /// Parsing a CSV with it treats each cell exactly as training did.
    /// `reportingColumns` not already in the signature are added as optional reporting columns
    /// (e.g. `family` for the report's slices), read when the CSV has them.
    public static func schema(for manifest: ModelManifest, labelColumn: String, reportingColumns: [String] = []) -> DatasetSchema {
        let textFields = Set(manifest.pipeline.transformers.compactMap { transformer -> String? in
            if case .text(let text) = transformer { return text.field }
            return nil
        })
        var columns: [ColumnSpec] = manifest.signature.fields.map { field in
            let kind: ColumnKind
            switch field.type {
            case .string:
                kind = field.name == manifest.signature.idField ? .identifier : textFields.contains(field.name) ? .text : .categorical
            case .number, .integer: kind = .numeric
            case .boolean: kind = .boolean
            }
            return ColumnSpec(name: field.name, kind: kind, required: field.required)
        }
        columns.append(ColumnSpec(name: labelColumn, kind: .label))
        for name in reportingColumns where !columns.contains(where: { $0.name == name }) {
            columns.append(ColumnSpec(name: name, kind: .reporting, required: false))
        }
        return DatasetSchema(columns: columns)
    }

    /// The model's scores for every row (in signature order) and the metrics at its threshold.
    public static func evaluate(_ model: LoadedModel, on dataset: Dataset) -> (scores: [Double], metrics: EvaluationMetrics) {
        let scores = Trainer.inputs(of: dataset.rows, schema: dataset.schema, signature: model.signature)
            .map { model.predict($0).score }
        return (scores, EvaluationMetrics(scores: scores, labels: dataset.labels, threshold: model.threshold))
    }
}
