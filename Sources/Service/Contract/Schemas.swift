import Inference
import Registry

/// The REST contract's shapes, defined once. Request schemas validate bodies; all of them
/// are written into the OpenAPI document. The listing schema is not here: it comes from
/// the serving model's signature (`ListingSchema`), so a new version can ask for new fields.
public enum Schemas {
    /// The largest version a body may name (`VersionSelector.largestVersion`).
    public static let maxVersion = VersionSelector.largestVersion

    /// KServe V1 / TF Serving REST: rows (`instances`) or columns (`inputs`, one array per
    /// signature field), exactly one of them; `signature_name` is accepted and ignored (a
    /// model has one signature).
    public static func predictRequest(listing: Schema, maxBatchSize: Int) -> Schema {
        Schema(
            types: [.object], description: "A batch of listings to score: rows in `instances`, or columns in `inputs`.",
            properties: [
                ("instances", .array(listing, description: "Listings, at most \(maxBatchSize) (predict.max_batch_size).",
                                     minItems: 1, maxItems: maxBatchSize)),
                ("inputs", listingColumns(listing: listing, maxBatchSize: maxBatchSize)),
                ("signature_name", .string("TF Serving's signature name; ignored (a model has one signature).")),
            ],
            additionalProperties: false, componentName: "PredictRequest", exactlyOneOf: ["instances", "inputs"])
    }

    /// TF Serving's columnar form of listings: each listing field as an array, one value per
    /// listing; every array the same length (checked by the decoder: JSON Schema cannot say it).
    public static func listingColumns(listing: Schema, maxBatchSize: Int) -> Schema {
        let column = { (values: Schema) in Schema.array(values, description: "One value per listing, in order.", minItems: 1, maxItems: maxBatchSize) }
        return Schema(
            types: [.object], description: "TF Serving's columnar form: signature field → one value per listing; every array the same length.",
            properties: listing.properties.map { (name: $0.name, schema: column($0.schema)) }, required: listing.required,
            additionalPropertiesSchema: column(Schema(types: [.string, .number, .boolean, .null])), componentName: "ListingColumns")
    }

    public static let prediction = Schema.object(
        "The score of one listing.",
        properties: [
            ("id", .string("The listing's id, echoed.", nullable: true)),
            ("score", .number("Probability that the listing is prohibited (of a multi-class model: the sum of its positive classes' probabilities).", minimum: 0, maximum: 1)),
            ("label", .string("The label at the model's threshold; of a multi-class model, a class: the most probable flagged positive class, or the most probable negative class.")),
            ("threshold", .number("Decision threshold of the version that answered.", minimum: 0, maximum: 1)),
            ("scores", classScores),
            ("model_version", .integer("The version that answered this listing; present while a canary shares the traffic.", minimum: 1)),
        ],
        required: ["id", "score", "label", "threshold"], componentName: "Prediction")

    /// A multi-class model's probability of every class.
    public static let classScores = Schema.map(
        .number(minimum: 0, maximum: 1),
        description: "Multi-class models only: the probability of every class, by class name (they add up to 1).")

    public static let predictResponse = Schema.object(
        "Scores, in the order of the listings: rows in `predictions` for `instances`, columns in `outputs` for `inputs`.",
        properties: [
            ("model_name", .string()),
            ("model_version", .integer("The version that answered; the serving version when a canary answered only some listings.", minimum: 1)),
            ("predictions", .array(prediction)),
            ("outputs", .object(
                "One array per output, one value per listing.",
                properties: [
                    ("id", .array(.string(nullable: true))),
                    ("score", .array(.number(minimum: 0, maximum: 1))),
                    ("label", .array(.string())),
                    ("scores", .array(Schema(types: [.object, .null], additionalPropertiesSchema: .number(minimum: 0, maximum: 1)),
                                      description: "Multi-class models: every class's probability, one object per listing.")),
                    ("model_version", .array(.integer(minimum: 1), description: "While a canary shares the traffic: the version that answered each listing.")),
                ],
                required: ["id", "score", "label"])),
        ],
        required: ["model_name", "model_version"], componentName: "PredictResponse")

    /// Predict's request plus `class`: the class to explain.
    public static func explainRequest(listing: Schema, maxBatchSize: Int) -> Schema {
        let predict = predictRequest(listing: listing, maxBatchSize: maxBatchSize)
        return Schema(
            types: [.object], description: "Listings to explain, as for predict; `class` picks the class a multi-class model explains.",
            properties: predict.properties + [
                ("class", .string("Multi-class models: the class to explain (default: each listing's label). A binary model explains its positive label only.")),
            ],
            additionalProperties: false, componentName: "ExplainRequest", exactlyOneOf: ["instances", "inputs"])
    }

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
            ("scores", classScores),
            ("class", .string("Multi-class models: the class explained (the request's `class`, else the label).")),
            ("margin", .number("The raw decision margin: bias plus every contribution (multi-class: the class's logit minus the mean logit).")),
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
            ("margin_unit", .string("log_odds (logistic regression, naive Bayes), decision_function (linear SVM, before Platt scaling) or class_logit (multi-class models).")),
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
            ("error", .string("The detail again, on Open Inference Protocol (/v2) routes, whose clients read `error`.")),
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
            ("labels", .array(.string(), description: "Class names: [negative, positive], or a multi-class model's classes.")),
            ("positive_classes", .array(.string(), description: "Multi-class models: the classes whose probabilities add up to score.")),
            ("class_thresholds", .map(.number(minimum: 0, maximum: 1), description: "Multi-class models: the positive classes with a threshold of their own.")),
            ("signature", .object("The listing JSON Schema this version accepts.", properties: [], additionalProperties: true)),
            ("metrics", .object(properties: [], additionalProperties: true)),
            ("example", .object(properties: [], additionalProperties: true)),
            ("dataset", .object(properties: [], additionalProperties: true)),
        ],
        required: ["version", "algorithm", "created", "threshold", "labels", "signature", "metrics", "example", "dataset"],
        componentName: "ManifestSummary")

    /// TF Serving's `ModelVersionStatus`, as its clients poll it.
    public static let tensorFlowVersionStatus = Schema.object(
        "A version in TF Serving's terms: START (known, not loaded), LOADING, AVAILABLE, UNLOADING, END (failed: see status).",
        properties: [
            ("version", .string("The version number, as TF Serving writes it (a string).")),
            ("state", .string(enumValues: ["START", "LOADING", "AVAILABLE", "UNLOADING", "END"])),
            ("status", .object(properties: [("error_code", .string(enumValues: ["OK", "UNKNOWN"])), ("error_message", .string())],
                               required: ["error_code", "error_message"])),
        ],
        required: ["version", "state", "status"], componentName: "TensorFlowVersionStatus")

    /// One tensor of TF Serving's signature metadata.
    static let tensorFlowTensorInfo = Schema.object(
        properties: [
            ("dtype", .string(enumValues: ["DT_STRING", "DT_DOUBLE", "DT_INT64", "DT_BOOL"])),
            ("tensor_shape", .object(properties: [
                ("dim", .array(.object(properties: [("size", .string()), ("name", .string())], required: ["size", "name"]))),
                ("unknown_rank", .boolean()),
            ], required: ["dim", "unknown_rank"])),
            ("name", .string()),
        ],
        required: ["dtype", "tensor_shape", "name"], componentName: "TensorFlowTensorInfo")

    /// TF Serving's `GET /v1/models/{name}/metadata`.
    public static let tensorFlowMetadata = Schema.object(
        "The version's signature as TF Serving's serving_default: one tensor per listing field in; id, score and label out.",
        properties: [
            ("model_spec", .object(properties: [("name", .string()), ("signature_name", .string()), ("version", .string())],
                                   required: ["name", "signature_name", "version"])),
            ("metadata", .object(properties: [("signature_def", .object(properties: [("signature_def", .object(properties: [
                ("serving_default", .object(properties: [
                    ("inputs", .map(tensorFlowTensorInfo)),
                    ("outputs", .map(tensorFlowTensorInfo)),
                    ("method_name", .string()),
                ], required: ["inputs", "outputs", "method_name"])),
            ], required: ["serving_default"]))], required: ["signature_def"]))], required: ["signature_def"])),
        ],
        required: ["model_spec", "metadata"], componentName: "TensorFlowMetadata")

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
            ("model_version_status", .array(tensorFlowVersionStatus, description: "This version in TF Serving's terms.")),
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
            ("ready", .boolean("Whether a version serves (KServe's model readiness).")),
            ("model_version_status", .array(tensorFlowVersionStatus, description: "The versions in TF Serving's terms.")),
            ("serving", manifestSummary),
            ("rollout", rolloutStatus),
            ("input_skew", inputSkew),
        ],
        required: ["name", "serving_version", "pinned", "storage_pin", "storage_pin_issue", "previous_version", "required",
                   "labels", "pending_labels", "labels_file_error", "storage_error", "versions", "ready", "model_version_status"],
        componentName: "ModelStatus")

    static func comparison(_ role: String) -> Schema {
        .object(
            "The \(role) against the serving version on the same listings since the rollout (or the serving version) last changed.",
            properties: [
                ("serving_version", .integer(minimum: 1)), ("version", .integer(minimum: 1)),
                ("listings", .integer("Listings scored by both.", minimum: 0)),
                ("agreement", .number("Share of listings with the same label.", minimum: 0, maximum: 1)),
                ("mean_abs_delta", .number("Mean |score difference|.", minimum: 0, maximum: 1)),
                ("p99_abs_delta", .number("99th percentile of |score difference|, to 0.001.", minimum: 0, maximum: 1)),
                ("psi", .number("Population stability index of the two score distributions (20 bins 0.05 wide).", minimum: 0)),
            ],
            required: ["serving_version", "version", "listings", "agreement", "mean_abs_delta", "p99_abs_delta", "psi"])
    }

    public static let rolloutStatus = Schema(
        types: [.object, .null],
        description: "The rollout in force (rollout.json or an admin call on this replica), a stopped canary, and the live comparisons; null without one.",
        properties: [
            ("source", .string("Where the rollout comes from.", enumValues: ["file", "admin"], nullable: true)),
            ("shadow", .object(properties: [("version", .integer(minimum: 1))], required: ["version"]).nullable),
            ("canary", .object(properties: [("version", .integer(minimum: 1)), ("weight", .number(minimum: 0, maximum: 1))],
                               required: ["version", "weight"]).nullable),
            ("guards", rolloutGuards.nullable),
            ("aborted", Schema.object(
                "The canary stopped answering on this replica.",
                properties: [("reason", .string()), ("automatic", .boolean("A guard fired (false: :abort).")), ("at", .string()),
                             ("earlier", .boolean("An earlier guard abort of this same rollout, read from rollout-abort.json (before a restart, or on another replica).")),
                             ("record_error", .string("Why this guard abort could not be written to rollout-abort.json; it holds in memory until a restart.", nullable: true))],
                required: ["reason", "automatic", "at", "earlier", "record_error"]).nullable),
            ("file_error", .string("Why rollout.json could not be used; the rollout in force is unchanged.", nullable: true)),
            ("issues", .array(.string(), description: "Why a named version does not take part yet.")),
            ("shadow_comparison", comparison("shadow").nullable),
            ("canary_comparison", comparison("canary").nullable),
            ("skipped_listings", .integer("Listings the monitor skipped because its queue was full.", minimum: 0)),
            ("automatic_aborts", .integer("Canaries a guard stopped since start.", minimum: 0)),
            ("abort_record_failures", .integer("Guard aborts that could not be written to rollout-abort.json since start.", minimum: 0)),
        ],
        required: ["source", "shadow", "canary", "guards", "aborted", "file_error", "issues", "shadow_comparison",
                   "canary_comparison", "skipped_listings", "automatic_aborts", "abort_record_failures"],
        additionalProperties: false, componentName: "RolloutStatus")

    static let rolloutGuards = Schema.object(
        "When the canary is stopped automatically: each limit is checked once a comparison has min_samples listings.",
        properties: [
            ("min_samples", .integer(minimum: 1, maximum: 1e12)),
            ("max_disagreement", .number("Largest share of listings with a different label.", minimum: 0, maximum: 1, nullable: true)),
            ("max_psi", .number("Largest PSI between the score distributions.", minimum: 0, maximum: 1_000_000, nullable: true)),
            ("max_mean_delta", .number("Largest mean |score difference|.", minimum: 0, maximum: 1, nullable: true)),
        ])

    /// The body of `PUT /v1/models/{name}/rollout`, and the content of `rollout.json`.
    public static let rolloutRequest = Schema.object(
        "A rollout: a shadow that scores every listing off the response path, a canary that answers a share of the listings (sticky by listing id), and guards.",
        properties: [
            ("shadow", Schema.object(properties: [("version", .integer(minimum: 1, maximum: maxVersion))], required: ["version"]).nullable),
            ("canary", Schema.object(
                properties: [("version", .integer(minimum: 1, maximum: maxVersion)),
                             ("weight", .number("Share of listings the canary answers.", minimum: 0, maximum: 1))],
                required: ["version", "weight"]).nullable),
            ("guards", rolloutGuards.nullable),
        ],
        componentName: "RolloutRequest",
        example: ["shadow": ["version": 3], "canary": ["version": 3, "weight": 0.05],
                  "guards": ["min_samples": 1000, "max_disagreement": 0.02, "max_psi": 0.2]])

    public static let inputSkew = Schema(
        types: [.object, .null],
        description: "Live inputs against the serving version's training profile; null while nothing was compared.",
        properties: [
            ("version", .integer("The serving version whose profile is compared with.", minimum: 1)),
            ("listings", .integer(minimum: 0)),
            ("window", .integer("Values per field in the PSI window.", minimum: 0)),
            ("fields", .array(.object(
                properties: [
                    ("name", .string()), ("kind", .string(enumValues: ["numeric", "categorical", "text"])),
                    ("observed", .integer(minimum: 0)), ("missing", .integer(minimum: 0)),
                    ("missing_rate", .number(minimum: 0, maximum: 1)), ("training_missing_rate", .number(minimum: 0, maximum: 1)),
                    ("unseen_categories", .integer(minimum: 0)),
                    ("outside_range", .integer("Values (numeric) or term counts (text) outside the training range.", minimum: 0)),
                    ("terms", .integer(minimum: 0)), ("out_of_vocabulary", .integer(minimum: 0)),
                    ("out_of_vocabulary_share", .number(minimum: 0, maximum: 1, nullable: true)),
                    ("training_vocabulary_share", .number(minimum: 0, maximum: 1, nullable: true)),
                    ("window_values", .integer(minimum: 0)), ("psi", .number(minimum: 0, nullable: true)),
                ],
                required: ["name", "kind", "observed", "missing", "missing_rate", "training_missing_rate", "unseen_categories",
                           "outside_range", "terms", "out_of_vocabulary", "out_of_vocabulary_share",
                           "training_vocabulary_share", "window_values", "psi"]))),
        ],
        required: ["version", "listings", "window", "fields"], additionalProperties: false, componentName: "InputSkew")

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

    // MARK: Open Inference Protocol (V2)

    public static let v2ServerMetadata = Schema.object(
        properties: [("name", .string()), ("version", .string()), ("extensions", .array(.string()))],
        required: ["name", "version", "extensions"], componentName: "V2ServerMetadata")

    public static let v2Live = Schema.object(properties: [("live", .boolean())], required: ["live"], componentName: "V2Live")

    public static let v2Ready = Schema.object(properties: [("ready", .boolean())], required: ["ready"], componentName: "V2Ready")

    public static let v2ModelReady = Schema.object(
        properties: [("name", .string()), ("ready", .boolean())], required: ["name", "ready"], componentName: "V2ModelReady")

    static let v2MetadataTensor = Schema.object(
        properties: [
            ("name", .string()),
            ("datatype", .string(enumValues: ["BYTES", "FP64", "INT64", "BOOL"])),
            ("shape", .array(.integer(minimum: -1), description: "-1: one element per listing; a multi-class score is [-1, K].")),
            ("parameters", .object("classes: a multi-class score's column names.", properties: [("classes", .array(.string()))])),
        ],
        required: ["name", "datatype", "shape"], componentName: "V2MetadataTensor")

    public static let v2ModelMetadata = Schema.object(
        "Inputs: one per signature field. Outputs: score, label, and id when the signature has an id field.",
        properties: [
            ("name", .string()),
            ("versions", .array(.string(), description: "Available versions.")),
            ("platform", .string()),
            ("inputs", .array(v2MetadataTensor)),
            ("outputs", .array(v2MetadataTensor)),
        ],
        required: ["name", "versions", "platform", "inputs", "outputs"], componentName: "V2ModelMetadata")

    static let v2Parameters = Schema.object(properties: [], additionalProperties: true)

    /// What `V2RequestDecoder` takes; it also checks what JSON Schema cannot say (element
    /// counts against shapes, binary sizes against the body, one batch size for all inputs).
    public static let v2InferRequest = Schema.object(
        "One input per signature field, one element per listing; binary tensor data may follow the JSON (Inference-Header-Content-Length).",
        properties: [
            ("id", .string("Echoed in the response.")),
            ("parameters", .object(
                "binary_data_output (boolean): every output as binary tensor data; content_type: pd (MLServer's PandasCodec).",
                properties: [], additionalProperties: true)),
            ("inputs", .array(.object(
                properties: [
                    ("name", .string("A signature field.", minLength: 1)),
                    ("shape", .array(.integer(minimum: 1), description: "[N] or [N, 1].", minItems: 1, maxItems: 2)),
                    ("datatype", .string(enumValues: V2Datatype.accepted.map(\.rawValue))),
                    ("parameters", .object(
                        "content_type: str or np (MLServer's codecs); binary_data_size: the bytes of binary data this input takes.",
                        properties: [], additionalProperties: true)),
                    ("data", .array(Schema(types: [.string, .number, .boolean, .null, .array]), description: "Row-major, flat or nested.")),
                ],
                required: ["name", "shape", "datatype"], componentName: "V2RequestInput"),
                minItems: 1, maxItems: V2RequestDecoder.maxInputs)),
            ("outputs", .array(.object(
                properties: [
                    ("name", .string(enumValues: ["score", "label", "id", "predict_proba", "predict"])),
                    ("parameters", .object("binary_data (boolean): this output as binary tensor data.", properties: [], additionalProperties: true)),
                ],
                required: ["name"]), maxItems: V2RequestDecoder.maxOutputs)),
        ],
        required: ["inputs"], additionalProperties: true, componentName: "V2InferRequest")

    public static let v2InferResponse = Schema.object(
        properties: [
            ("model_name", .string()),
            ("model_version", .string()),
            ("id", .string("The request's id.")),
            ("parameters", .object(
                "While a canary shares the traffic: the version that answered each listing, in input order.",
                properties: [("model_versions", .array(.integer(minimum: 1)))])),
            ("outputs", .array(.object(
                properties: [
                    ("name", .string(enumValues: ["score", "label", "id", "predict_proba", "predict"])),
                    ("datatype", .string(enumValues: ["FP64", "BYTES", "INT64"])),
                    ("shape", .array(.integer(minimum: 0), description: "[N]; [N, K] for a multi-class score and for predict_proba.")),
                    ("parameters", .object(properties: [("binary_data_size", .integer(minimum: 0)),
                                                        ("classes", .array(.string(), description: "The K column names of a multi-class score or predict_proba."))])),
                    ("data", .array(Schema(types: [.string, .number]))),
                ],
                required: ["name", "datatype", "shape"], componentName: "V2ResponseOutput"))),
        ],
        required: ["model_name", "model_version", "outputs"], componentName: "V2InferResponse")
}

extension Schema {
    /// The same schema, also accepting null.
    var nullable: Schema {
        Schema(
            types: types.contains(.null) ? types : types + [.null], description: description, properties: properties,
            required: required, additionalProperties: additionalProperties, additionalPropertiesSchema: additionalPropertiesSchema,
            items: items, minItems: minItems, maxItems: maxItems, minimum: minimum, maximum: maximum, minLength: minLength,
            maxLength: maxLength, enumValues: enumValues, componentName: componentName, example: example, exactlyOneOf: exactlyOneOf)
    }
}
