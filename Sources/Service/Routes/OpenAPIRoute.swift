import HTTPServer
import JSON
import Registry

/// `GET /openapi.json`: the document of every route registered before it, this one included.
enum OpenAPIRoute {
    /// Registers last: documents what `routes` holds by then.
    static func register(into routes: inout RouteTable, registry: ModelRegistry<ServingModelLoader>, settings: ServiceSettings) {
        let operation = Operation(
            method: "GET", path: "/openapi.json", operationId: "openapi", summary: "This document.", tags: ["meta"],
            responses: [(200, "OpenAPI 3.1", nil, "application/json")])
        let documented = routes.operations + [operation]
        routes.add(operation) { _ in
            ModelRoutes.json(JSONWriter.encode(document(operations: documented, registry: registry, settings: settings)))
        }
    }

    /// The OpenAPI document; the Listing component is the default model's serving signature.
    static func document(operations: [Operation], registry: ModelRegistry<ServingModelLoader>, settings: ServiceSettings) -> JSONValue {
        var document = OpenAPIDocument.build(title: "Vigia", version: VigiaVersion.current, operations: operations)
        let model = settings.defaultModel
        if case .object(var root) = document, case .object(var components) = root["components"] ?? .null,
           case .object(var schemas) = components["schemas"] ?? .null,
           let serving = try? registry.handle(model: model)
        {
            let listing = serving.servable.listingSchema
            schemas["Listing"] = listing.jsonSchema(isDefinition: true)
            schemas["ListingColumns"] = Schemas.listingColumns(
                listing: listing, maxBatchSize: settings.maxBatchSize).jsonSchema(isDefinition: true)
            components["schemas"] = .object(schemas)
            root["components"] = .object(components)
            document = .object(root)
        }
        return document
    }
}
