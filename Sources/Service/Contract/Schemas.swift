import Inference

/// The REST contract's shapes, defined once. Request schemas validate bodies; all of them
/// are written into the OpenAPI document. The listing schema is not here: it comes from
/// the serving model's signature (`ListingSchema`), so a new version can ask for new fields.
public enum Schemas {
    /// Versions are positive integers below 2^53, so a JSON number names one exactly.
    public static let maxVersion: Double = 9_007_199_254_740_991

    public static func predictRequest(listing: Schema, maxBatchSize: Int) -> Schema {
        .object(
            "A batch of listings to score.",
            properties: [
                ("instances", .array(listing, description: "Listings, at most \(maxBatchSize) (predict.max_batch_size).",
                                     minItems: 1, maxItems: maxBatchSize)),
            ],
            required: ["instances"], componentName: "PredictRequest")
    }

    public static let prediction = Schema.object(
        "The score of one listing.",
        properties: [
            ("id", .string("The listing's id, echoed.", nullable: true)),
            ("score", .number("Probability that the listing is prohibited.", minimum: 0, maximum: 1)),
            ("label", .string("The label at the model's threshold.")),
            ("threshold", .number("Decision threshold of the serving version.", minimum: 0, maximum: 1)),
        ],
        required: ["id", "score", "label", "threshold"], componentName: "Prediction")

    public static let predictResponse = Schema.object(
        "Scores, in the order of the instances.",
        properties: [
            ("model_name", .string()),
            ("model_version", .integer(minimum: 1)),
            ("predictions", .array(prediction)),
        ],
        required: ["model_name", "model_version", "predictions"], componentName: "PredictResponse")

    public static let contribution = Schema.object(
        "A feature's exact contribution to the decision margin (log-odds for logistic regression and naive Bayes, SVM margin units for linear SVM).",
        properties: [
            ("feature", .string("Feature name: `title:<n-gram>`, `<field>=<category>` or a numeric field name.")),
            ("value", .number("The feature's value after the pipeline (tf-idf weight, 1 for a category, scaled number).")),
            ("contribution", .number("weight × value, in margin units.")),
        ],
        required: ["feature", "value", "contribution"], componentName: "Contribution")

    public static let explanation = Schema.object(
        "A prediction and the features that raised and lowered its score.",
        properties: [
            ("id", .string(nullable: true)),
            ("score", .number(minimum: 0, maximum: 1)),
            ("label", .string()),
            ("threshold", .number(minimum: 0, maximum: 1)),
            ("margin", .number("The raw decision margin: bias plus every contribution.")),
            ("bias", .number("The model's intercept in margin units.")),
            ("remainder", .number("Sum of the contributions not listed, so that bias + listed + remainder = margin.")),
            ("raised_by", .array(contribution, description: "Largest positive contributions, largest first.")),
            ("lowered_by", .array(contribution, description: "Largest negative contributions, most negative first.")),
        ],
        required: ["id", "score", "label", "threshold", "margin", "bias", "remainder", "raised_by", "lowered_by"],
        componentName: "Explanation")

    public static let explainResponse = Schema.object(
        properties: [
            ("model_name", .string()),
            ("model_version", .integer(minimum: 1)),
            ("margin_unit", .string("log_odds (logistic regression, naive Bayes) or decision_function (linear SVM, before Platt scaling).")),
            ("explanations", .array(explanation)),
        ],
        required: ["model_name", "model_version", "margin_unit", "explanations"], componentName: "ExplainResponse")

    public static let problem = Schema.object(
        "RFC 9457 problem details.",
        properties: [
            ("type", .string()),
            ("title", .string()),
            ("status", .integer(minimum: 100, maximum: 599)),
            ("detail", .string()),
            ("instance", .string()),
            ("errors", .array(.object(
                properties: [("pointer", .string("JSON Pointer (RFC 6901) to the offending value.")), ("problem", .string())],
                required: ["pointer", "problem"]))),
        ],
        required: ["type", "title", "status"], additionalProperties: true, componentName: "Problem")

    public static let health = Schema.object(
        properties: [
            ("status", .string(enumValues: ["alive", "ready", "not_ready", "draining"])),
            ("reasons", .array(.string(), description: "Why the service is not ready.")),
        ],
        required: ["status"], componentName: "Health")

    /// What a loaded version's manifest says (`GET /v1/models/{name}` for the serving one,
    /// `…/versions/{version}` for any loaded one).
    public static let manifestSummary = Schema.object(
        "A loaded version's manifest: algorithm, threshold, class labels, listing schema, metrics, example, dataset.",
        properties: [
            ("version", .integer(minimum: 1)),
            ("algorithm", .string(enumValues: Algorithm.allCases.map(\.rawValue))),
            ("created", .string()),
            ("threshold", .number(minimum: 0, maximum: 1)),
            ("labels", .array(.string(), description: "Class names: [negative, positive].")),
            ("signature", .object("The listing JSON Schema this version accepts.", properties: [], additionalProperties: true)),
            ("metrics", .object(properties: [], additionalProperties: true)),
            ("example", .object(properties: [], additionalProperties: true)),
            ("dataset", .object(properties: [], additionalProperties: true)),
        ],
        required: ["version", "algorithm", "created", "threshold", "labels", "signature", "metrics", "example", "dataset"],
        componentName: "ManifestSummary")

    public static let versionStatus = Schema.object(
        "One version of a model, as the registry sees it.",
        properties: [
            ("version", .integer(minimum: 1)),
            ("state", .string("not_loaded, loading, available, failed (see error) or unloading (requests still hold it).",
                              enumValues: ["not_loaded", "loading", "available", "failed", "unloading"])),
            ("serving", .boolean("Whether the default route serves this version.")),
            ("labels", .array(.string())),
            ("in_storage", .boolean("Whether its directory is in storage now.")),
            ("published_at", .string("When its directory appeared (RFC 3339).", nullable: true)),
            ("loaded_at", .string("When it finished loading (RFC 3339).", nullable: true)),
            ("attempts", .integer("Load attempts since discovery.", minimum: 0)),
            ("error", .string("The last load error.")),
            ("next_retry_at", .string("When a failed load is retried (RFC 3339).")),
            ("manifest", manifestSummary),
        ],
        required: ["version", "state", "serving", "labels", "in_storage", "published_at", "loaded_at", "attempts"],
        componentName: "VersionStatus")

    public static let modelStatus = Schema.object(
        "A model: what serves, why, and every version known.",
        properties: [
            ("name", .string()),
            ("serving_version", .integer(minimum: 1, nullable: true)),
            ("pinned", .boolean("Whether an admin call pinned the serving version on this replica (a rollback is a pin).")),
            ("storage_pin", .integer("The version <storage>/<model>/pin.json asks for.", minimum: 1, nullable: true)),
            ("storage_pin_issue", .string("Why that version does not serve yet.", nullable: true)),
            ("previous_version", .integer("Kept loaded for rollback.", minimum: 1, nullable: true)),
            ("required", .boolean("Whether readiness waits for this model.")),
            ("labels", .map(.integer(minimum: 1), description: "Label → version.")),
            ("pending_labels", .map(.integer(minimum: 1), description: "Labels labels.json asks for whose version is not available yet.")),
            ("labels_file_error", .string(nullable: true)),
            ("storage_error", .string("Why storage could not be read, or that the serving version's directory is gone.", nullable: true)),
            ("versions", .array(versionStatus, description: "Newest first.")),
            ("serving", manifestSummary),
        ],
        required: ["name", "serving_version", "pinned", "storage_pin", "storage_pin_issue", "previous_version", "required",
                   "labels", "pending_labels", "labels_file_error", "storage_error", "versions"],
        componentName: "ModelStatus")

    public static let modelList = Schema.object(
        properties: [("models", .array(modelStatus))], required: ["models"], componentName: "ModelList")

    public static let adminResult = Schema.object(
        "What serves after an admin call.",
        properties: [
            ("name", .string()),
            ("serving_version", .integer(minimum: 1, nullable: true)),
            ("pinned", .boolean()),
            ("labels", .map(.integer(minimum: 1))),
        ],
        required: ["name", "serving_version", "pinned", "labels"], componentName: "AdminResult")

    public static let labelRequest = Schema.object(
        "Point a label at an available version.",
        properties: [("version", .integer(minimum: 1, maximum: maxVersion))], required: ["version"], componentName: "LabelRequest")

    public static let pinRequest = Schema.object(
        "Serve this version until unpinned.",
        properties: [("version", .integer(minimum: 1, maximum: maxVersion))], required: ["version"], componentName: "PinRequest")
}
