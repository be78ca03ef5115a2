import PurserJSON
import Yams

/// The machine-readable contract generated from the Swift message types and the topic catalog:
/// a JSON Schema per message type's `data`, one for the CloudEvents envelope, and an AsyncAPI 3
/// document of the public channels. `purser topics schemas` writes them into `topics/`; a test
/// fails when the checked-in files differ.
public enum ContractDocuments {
    /// One generated file: its path relative to the `topics/` folder and its text.
    public struct File: Sendable, Hashable {
        public var path: String
        public var contents: String
    }

    public static let schemasFolder = "schemas"
    public static let envelopeSchemaFile = "cloudevent.json"
    static let draft = "https://json-schema.org/draft/2020-12/schema"

    /// Every generated file, schemas first, in a stable order.
    /// - Throws: when the AsyncAPI document cannot be written as YAML.
    public static func files(catalog: TopicCatalog) throws -> [File] {
        let schemas = MessageTypes.all.map { type in
            File(
                path: "\(schemasFolder)/\(type.eventType.rawValue).json",
                contents: dataSchema(for: type).prettyPrinted()
            )
        }
        return schemas + [
            File(path: "\(schemasFolder)/\(envelopeSchemaFile)", contents: envelopeSchema().prettyPrinted()),
            File(path: TopicCatalog.asyncAPIFile, contents: try yaml(asyncAPI(catalog: catalog))),
        ]
    }

    /// The JSON Schema (draft 2020-12) of the `data` of `type`'s events. Additional members are
    /// allowed: consumers must tolerate fields added later.
    public static func dataSchema(for type: any EventData.Type) -> JSONValue {
        var properties = JSONObject()
        for field in type.fields { properties[field.name] = property(field) }
        return [
            "$schema": .string(draft),
            "$id": .string(type.eventType.dataschema),
            "title": .string(type.eventType.rawValue),
            "description": .string("\(type.summary) The data of CloudEvents of type \(type.eventType.rawValue)."),
            "type": "object",
            "properties": .object(properties),
            "required": .array(type.fields.filter(\.isRequired).map { .string($0.name) }),
            "additionalProperties": true,
            "examples": [example(of: type)],
        ]
    }

    private static func example<D: EventData>(of type: D.Type) -> JSONValue {
        do {
            return try JSONValueEncoder().encode(D.example)
        } catch {
            preconditionFailure("the example of \(D.self) does not encode: \(error)")
        }
    }

    private static func property(_ field: FieldSchema) -> JSONValue {
        var schema: JSONObject
        switch field.kind {
        case .string: schema = ["type": "string"]
        case .decimalAmount:
            schema = [
                "type": "string",
                "pattern": .string("^(0|[1-9][0-9]*)(\\.[0-9]{1,\(DecimalAmount.maximumFractionDigits)})?$"),
            ]
        case .boolean: schema = ["type": "boolean"]
        case .timestamp: schema = ["type": "string", "format": "date-time"]
        case .openEnumeration(let known):
            schema = ["type": "string", "examples": .array(known.map(JSONValue.string))]
        case .object: schema = ["type": "object"]
        }
        var description = field.summary
        if case .openEnumeration = field.kind { description += " Values not listed in examples may appear." }
        if case .decimalAmount = field.kind { description += " A decimal string, never a JSON number." }
        schema["description"] = .string(description)
        return .object(schema)
    }

    /// The JSON Schema of the structured-mode CloudEvents 1.0 envelope every record value uses.
    public static func envelopeSchema() -> JSONValue {
        let string: JSONValue = ["type": "string", "minLength": 1]
        return [
            "$schema": .string(draft),
            "$id": .string("topics/\(schemasFolder)/\(envelopeSchemaFile)"),
            "title": "Purser CloudEvent",
            "description": """
            A CloudEvents 1.0 event in structured JSON mode (Kafka header content-type: \
            application/cloudevents+json). The id is deterministic where the event is a function of its \
            input; deduplicate on it.
            """,
            "type": "object",
            "properties": [
                "specversion": ["const": .string(CloudEventEnvelope.specVersion)],
                "id": string,
                "source": ["type": "string", "minLength": 1, "description": "The producing executable."],
                "type": ["type": "string", "examples": .array(EventType.knownValues.map { .string($0.rawValue) })],
                "subject": ["type": "string", "description": "The customer id, also the Kafka key."],
                "time": ["type": "string", "format": "date-time", "description": "RFC 3339, UTC, milliseconds."],
                "datacontenttype": ["const": .string(CloudEventEnvelope.dataContentType)],
                "dataschema": ["type": "string", "description": "Path of the data's JSON Schema."],
                "traceparent": [
                    "type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                    "description": "W3C trace context, started at ingest and carried through every hop.",
                ],
                "data": ["type": "object"],
            ],
            "required": ["specversion", "id", "source", "type", "time", "data"],
            "additionalProperties": true,
        ]
    }

    /// The AsyncAPI 3.0 document of the public topics.
    public static func asyncAPI(catalog: TopicCatalog) -> JSONValue {
        var channels = JSONObject()
        var operations = JSONObject()
        var messages = JSONObject()
        for topic in catalog.topics where topic.visibility == "public" {
            let channel = channelName(topic.name)
            var channelMessages = JSONObject()
            for type in topic.messageTypes {
                channelMessages[type.rawValue] = ["$ref": .string("#/components/messages/\(type.rawValue)")]
                messages[type.rawValue] = message(type)
            }
            channels[channel] = [
                "address": .string(topic.name),
                "title": .string(topic.name),
                "description": .string(
                    "\(topic.summary) Keyed by customerId, so one customer's events stay in order; "
                        + "a deployment's TOPIC_PREFIX is prepended to the address."
                ),
                "messages": .object(channelMessages),
                "bindings": [
                    "kafka": [
                        "partitions": .number(String(topic.partitions)),
                        "replicas": .number(String(topic.replicationFactor)),
                        "topicConfiguration": .object(topicConfiguration(topic.configs)),
                        "bindingVersion": "0.5.0",
                    ]
                ],
            ]
            operations["receive" + channel.prefix(1).uppercased() + channel.dropFirst()] = [
                "action": "receive",
                "channel": ["$ref": .string("#/channels/\(channel)")],
                "messages": .array(
                    topic.messageTypes.map { ["$ref": .string("#/channels/\(channel)/messages/\($0.rawValue)")] }
                ),
            ]
        }
        return [
            "asyncapi": "3.0.0",
            "info": [
                "title": "Purser public events",
                "version": "1.0.0",
                "description": """
                Events about Calypso Pay customer-purse deposits, published by Purser. Every record value \
                is a CloudEvents 1.0 event in structured JSON mode; amounts are decimal strings; the id is \
                an idempotency key. This file is generated by `purser topics schemas`.
                """,
            ],
            "defaultContentType": .string(CloudEventEnvelope.contentType),
            "channels": .object(channels),
            "operations": .object(operations),
            "components": ["messages": .object(messages)],
        ]
    }

    /// `deposits.credited.v1` → `depositsCreditedV1`: channel ids are identifiers.
    private static func channelName(_ topic: String) -> String {
        let words = topic.split(separator: ".")
        return words.enumerated().map { index, word in
            index == 0 ? String(word) : word.prefix(1).uppercased() + word.dropFirst()
        }
        .joined()
    }

    /// The Kafka binding's typed topic configuration, for the keys it defines.
    private static func topicConfiguration(_ configs: [String: String]) -> JSONObject {
        var configuration = JSONObject()
        if let policy = configs["cleanup.policy"] {
            configuration["cleanup.policy"] = .array(policy.split(separator: ",").map { .string(String($0)) })
        }
        if let retention = configs["retention.ms"] { configuration["retention.ms"] = .number(retention) }
        return configuration
    }

    private static func message(_ type: EventType) -> JSONValue {
        [
            "name": .string(type.rawValue),
            "title": .string(type.rawValue),
            "summary": .string(MessageTypes.dataType(of: type)?.summary ?? ""),
            "contentType": .string(CloudEventEnvelope.contentType),
            "headers": [
                "type": "object",
                "properties": [
                    CloudEventEnvelope.contentTypeHeader: ["const": .string(CloudEventEnvelope.contentType)]
                ],
            ],
            "payload": [
                "allOf": [
                    ["$ref": .string("./\(schemasFolder)/\(envelopeSchemaFile)")],
                    [
                        "properties": [
                            "type": ["const": .string(type.rawValue)],
                            "dataschema": ["const": .string(type.dataschema)],
                            "data": ["$ref": .string("./\(schemasFolder)/\(type.rawValue).json")],
                        ]
                    ],
                ]
            ],
            "bindings": [
                "kafka": [
                    "key": ["type": "string", "description": "The customerId."],
                    "bindingVersion": "0.5.0",
                ]
            ],
        ]
    }

    /// `value` as block-style YAML, member order kept, strings quoted only where YAML would read
    /// them as something else.
    public static func yaml(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value), width: 110, allowUnicode: true, sortKeys: false)
    }

    private static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: Node("null", Tag(.null))
        case .bool(let bool): Node(bool ? "true" : "false", Tag(.bool))
        case .number(let literal): Node(literal, Tag(literal.contains { ".eE".contains($0) } ? .float : .int))
        case .string(let string): .scalar(string.represented())
        case .array(let elements): .sequence(Node.Sequence(elements.map(node)))
        case .object(let object): .mapping(Node.Mapping(object.map { (Node($0.key), node($0.value)) }))
        }
    }
}
